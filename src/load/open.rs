//! The open model: requests arrive on a schedule (a constant rate, or a rate ramped up
//! linearly from 0) whatever the server does. Each arrival is its own task, so a slow
//! server gets more requests in flight, not fewer requests. Latency counts from the
//! arrival's planned time, not from when it was sent: when the generator or the server
//! falls behind, the wait is in the figures (coordinated-omission correction).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::engine::{EndedBy, Shared};
use super::stats::Outcome;

/// Requests in flight at most; an arrival beyond is counted as a client-side failure.
const MAX_IN_FLIGHT: usize = 10_000;

/// Seconds from the start at which arrival `n` (0-based) is due, for `rate` per second
/// reached linearly over `ramp`.
pub fn arrival_time(n: u64, rate: f64, ramp: Duration) -> f64 {
    let n = n as f64 + 1.0;
    let ramp = ramp.as_secs_f64();
    if ramp <= 0.0 {
        return (n - 1.0) / rate;
    }
    // During the ramp the rate is rate·t/ramp, so n(t) = rate·t²/(2·ramp).
    let during = rate * ramp / 2.0;
    if n <= during {
        (2.0 * ramp * n / rate).sqrt()
    } else {
        ramp + (n - during) / rate
    }
}

/// Runs the open model at `rate` until the load stops.
pub async fn run_open(shared: Arc<Shared>, rate: f64, ramp: Duration) {
    let lanes = shared.lanes.len();
    let mut ready = Vec::new();
    let mut setups = tokio::task::JoinSet::new();
    for index in 0..lanes {
        let shared = shared.clone();
        setups.spawn(async move { (index, shared.setup_lane(&shared.lanes[index]).await) });
    }
    while let Some(joined) = setups.join_next().await {
        if let Ok((index, true)) = joined {
            ready.push(index);
        }
    }
    ready.sort_unstable();
    let started = shared.start();
    if ready.is_empty() {
        shared.stop(EndedBy::Finished);
        return;
    }
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut n: u64 = 0;
    loop {
        let due = started + Duration::from_secs_f64(arrival_time(n, rate, ramp));
        if shared.deadline().is_some_and(|d| due >= d) {
            shared.stop(EndedBy::Duration);
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = shared.stopped() => break,
        }
        let lane = ready[(n as usize) % ready.len()];
        n += 1;
        if shared.respect_retry_after {
            let until = *shared.backoff_until.lock().expect("backoff poisoned");
            if until.is_some_and(|u| due < u) {
                continue;
            }
        }
        if !shared.take_budget() {
            break;
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            let outcome = Outcome {
                error: Some("transport:client-saturated".into()),
                latency_us: 0,
                ..Outcome::default()
            };
            shared.record_outcome(lane, 0, &outcome);
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let lane_ref = &shared.lanes[lane];
            if let Ok(Some(seconds)) = shared.exchange(lane_ref, Some(due), true).await
                && shared.respect_retry_after
            {
                let until = Instant::now() + Duration::from_secs(seconds);
                let mut backoff = shared.backoff_until.lock().expect("backoff poisoned");
                if backoff.is_none_or(|b| b < until) {
                    *backoff = Some(until);
                }
            }
            drop(permit);
        });
    }
    // Wait for the requests in flight.
    let _ = permits.acquire_many(MAX_IN_FLIGHT as u32).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_follow_the_rate() {
        assert_eq!(arrival_time(0, 10.0, Duration::ZERO), 0.0);
        assert!((arrival_time(10, 10.0, Duration::ZERO) - 1.0).abs() < 1e-9);
        // Ramp 2 s to 100/s: 100 arrivals during the ramp, the 100th at 2 s.
        assert!((arrival_time(99, 100.0, Duration::from_secs(2)) - 2.0).abs() < 1e-9);
        assert!((arrival_time(199, 100.0, Duration::from_secs(2)) - 3.0).abs() < 1e-9);
        // Arrivals never go back in time.
        let mut last = 0.0;
        for n in 0..500 {
            let t = arrival_time(n, 100.0, Duration::from_secs(2));
            assert!(t >= last);
            last = t;
        }
    }
}
