//! `load --metrics-listen ADDR`: the run's figures in the Prometheus text exposition
//! format (version 0.0.4), served at `/metrics` while the load runs, for Grafana.
//!
//! Nothing is counted twice and nothing is added to the hot path: a scrape reads the
//! lanes' own recorders (the counts and µs HDR histograms the report is made from), so
//! what Prometheus sees and what `load.json` says agree. The format is written by hand: it
//! is a few lines of text per series, and a client library would bring a registry of its
//! own to keep in step with ours.
//!
//! Series:
//! - `bpharness_requests_total{operation,outcome}`: answers by outcome (`ok`,
//!   `rate_limited`, `failed`, `contract_failure`; each answer under one).
//! - `bpharness_request_duration_seconds{operation}`: a histogram (`_bucket{le}`, `_sum`,
//!   `_count`) of request latency.
//! - `bpharness_rate_limited_total`: 429 answers.
//! - `bpharness_virtual_users`: users (closed model) or sessions (open model) running.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::engine::Shared;
use super::stats::{Kind, OpStats};

/// Bucket bounds of the duration histogram, in seconds (Prometheus' defaults, with finer
/// steps under 5 ms where a loopback server answers).
pub const BUCKETS_S: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The figures of one operation, summed over the lanes.
struct OpFigures {
    kinds: [u64; 4],
    rate_limited: u64,
    count: u64,
    sum_us: f64,
    /// Cumulative counts at each bound of `BUCKETS_S`.
    buckets: [u64; BUCKETS_S.len()],
}

fn figures(stats: &OpStats) -> OpFigures {
    let h = &stats.latency;
    let mut buckets = [0u64; BUCKETS_S.len()];
    for (slot, bound) in buckets.iter_mut().zip(BUCKETS_S) {
        let us = (bound * 1e6).round() as u64;
        *slot = if h.is_empty() { 0 } else { h.count_between(0, us) };
    }
    OpFigures {
        kinds: stats.kinds,
        rate_limited: stats.rate_limited,
        count: h.len(),
        sum_us: h.mean() * h.len() as f64,
        buckets,
    }
}

/// Escapes a label value as the text format asks (backslash, quote, newline).
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The exposition of `shared` now.
pub fn render(shared: &Shared) -> String {
    let ops = shared.workload.operations.len();
    let mut per_op: Vec<OpFigures> = (0..ops).map(|_| figures(&OpStats::default())).collect();
    for lane in &shared.lanes {
        let recorder = lane.recorder.lock().expect("recorder poisoned");
        for (total, stats) in per_op.iter_mut().zip(&recorder.ops) {
            let f = figures(stats);
            for (a, b) in total.kinds.iter_mut().zip(f.kinds) {
                *a += b;
            }
            for (a, b) in total.buckets.iter_mut().zip(f.buckets) {
                *a += b;
            }
            total.rate_limited += f.rate_limited;
            total.count += f.count;
            total.sum_us += f.sum_us;
        }
    }
    let mut out = String::new();
    out.push_str("# HELP bpharness_requests_total Answers received, by operation and outcome.\n");
    out.push_str("# TYPE bpharness_requests_total counter\n");
    for (name, f) in shared.workload.operations.iter().zip(&per_op) {
        for kind in Kind::ALL {
            let _ = writeln!(
                out,
                "bpharness_requests_total{{operation=\"{}\",outcome=\"{}\"}} {}",
                label(name),
                kind.label(),
                f.kinds[kind as usize]
            );
        }
    }
    out.push_str("# HELP bpharness_request_duration_seconds Request latency, by operation.\n");
    out.push_str("# TYPE bpharness_request_duration_seconds histogram\n");
    for (name, f) in shared.workload.operations.iter().zip(&per_op) {
        let name = label(name);
        for (bound, count) in BUCKETS_S.iter().zip(f.buckets) {
            let _ = writeln!(
                out,
                "bpharness_request_duration_seconds_bucket{{operation=\"{name}\",le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "bpharness_request_duration_seconds_bucket{{operation=\"{name}\",le=\"+Inf\"}} {}",
            f.count
        );
        let _ = writeln!(
            out,
            "bpharness_request_duration_seconds_sum{{operation=\"{name}\"}} {}",
            f.sum_us / 1e6
        );
        let _ = writeln!(
            out,
            "bpharness_request_duration_seconds_count{{operation=\"{name}\"}} {}",
            f.count
        );
    }
    let limited: u64 = per_op.iter().map(|f| f.rate_limited).sum();
    out.push_str("# HELP bpharness_rate_limited_total Answers 429 (rate limited).\n");
    out.push_str("# TYPE bpharness_rate_limited_total counter\n");
    let _ = writeln!(out, "bpharness_rate_limited_total {limited}");
    out.push_str("# HELP bpharness_virtual_users Virtual users (closed model) or sessions (open model) running.\n");
    out.push_str("# TYPE bpharness_virtual_users gauge\n");
    let _ = writeln!(
        out,
        "bpharness_virtual_users {}",
        shared.virtual_users.load(Ordering::Relaxed)
    );
    out
}

/// Serves `/metrics` on `listener` until the returned task is aborted.
pub fn serve(listener: &std::net::TcpListener, shared: Arc<Shared>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = listener.try_clone()?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let shared = shared.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    render(&shared),
                )
                    .into_response()
            }
        }),
    );
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::stats::Outcome;

    #[test]
    fn buckets_are_cumulative_and_end_at_the_count() {
        let mut stats = OpStats::default();
        for us in [50, 300, 900, 4000, 2_000_000] {
            stats.record(&Outcome {
                status: Some(200),
                success: true,
                latency_us: us,
                ..Outcome::default()
            });
        }
        let f = figures(&stats);
        assert_eq!(f.count, 5);
        assert!(f.buckets.windows(2).all(|w| w[0] <= w[1]));
        // ≤ 0.1 ms: 50 µs; ≤ 1 ms: three; ≤ 5 ms: four; ≤ 2.5 s: all.
        assert_eq!((f.buckets[0], f.buckets[3], f.buckets[5], f.buckets[13]), (1, 3, 4, 5));
        assert_eq!(f.kinds, [5, 0, 0, 0]);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
