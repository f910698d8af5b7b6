//! A whole load run: the profile, the target (the embedded server, without a rate limiter
//! unless the profile or `--server-rate-limit` asks for one, when none is given), the lanes, the load in the chosen model, the low-rate tail and the
//! honesty probe, then one `LoadReport`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::contract::SchemaSet;
use crate::runner::{DEFAULT_MAX_RETRY_WAIT, Http, RetryBudget, context};
use crate::server::fault::Fault;
use crate::target::{Target, TargetError, TargetSpec};

/// The most of a response body read under load.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

use super::client::LeanTarget;
use super::closed::run_closed;
use super::engine::{Shared, SharedConfig, retry_after};
use super::open::run_open;
use super::parse::Segment;
use super::profile::Workload;
use super::report::{
    Honesty, LOAD_FORMAT_VERSION, LoadReport, ModelReport, OpReport, RateLimitReport, Recovery, SecondReport,
    SetupReport,
};
use super::stats::OpStats;
use super::threshold::{Threshold, evaluate};

/// The longest a run may last.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The duration of a run that names none.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Sessions (setup contexts) of the open model.
pub const OPEN_SESSIONS: usize = 4;

/// The workload model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// `users` virtual users, each waiting for its answer.
    Closed { users: u64 },
    /// `rate` arrivals per second.
    Open { rate: f64 },
}

/// The low-rate phase after the load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailPlan {
    pub rate: f64,
    pub duration: Duration,
}

/// Everything a load run needs, validated; this segment's share already taken.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub workload: Workload,
    /// The server under test; its `server` settings apply when it is the embedded one.
    pub target: TargetSpec,
    pub model: Model,
    pub ramp: Duration,
    pub duration: Duration,
    pub requests: Option<u64>,
    pub thresholds: Vec<Threshold>,
    pub respect_retry_after: bool,
    pub segment: Segment,
    pub tail: Option<TailPlan>,
    pub timeout: Duration,
    pub strict: bool,
    /// Where `/metrics` is served during the run (`--metrics-listen`), already bound so
    /// that the caller knows its port.
    pub metrics: Option<Arc<std::net::TcpListener>>,
}

/// Why a load run could not give figures.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot reach the target {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("cannot start the embedded reference server: {0}")]
    Server(std::io::Error),
    #[error("{0}")]
    Engine(String),
}

/// What the terminal shows while the load runs.
pub type Progress = Box<dyn FnMut(&Snapshot) + Send>;

/// The counters once a second.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub elapsed: Duration,
    pub requests: u64,
    pub failures: u64,
    pub rate_limited: u64,
    /// Answers in the last second.
    pub last_second: u64,
}

/// Runs `plan`; `progress` is called about once a second while the load runs.
pub async fn run_load(plan: &LoadPlan, mut progress: Option<Progress>) -> Result<LoadReport, LoadError> {
    let http = Http::new(plan.timeout, MAX_BODY_BYTES).map_err(|e| LoadError::Usage(e.to_string()))?;
    // Setup (users, conversations...) waits out rate limits like a run; the load itself
    // counts 429s instead.
    let retry = Arc::new(RetryBudget::new(DEFAULT_MAX_RETRY_WAIT));
    let run_id = format!("{:08x}", rand::random::<u32>());
    let target = Target::resolve(&plan.target, &http, &retry, &run_id)
        .await
        .map_err(|e| match e {
            TargetError::Server(io) => LoadError::Server(io),
            TargetError::Unreachable { target, reason } => LoadError::Unreachable { target, reason },
            TargetError::Usage(m) => LoadError::Usage(m),
        })?;
    let ctx = Arc::new(context(
        &target,
        run_id,
        http.clone(),
        SchemaSet::embedded(),
        plan.strict,
        Arc::new(AtomicBool::new(false)),
        None,
    ));
    let lean = LeanTarget::resolve(&target.url).await;
    let lanes = match plan.model {
        Model::Closed { users } => users as usize,
        Model::Open { .. } => OPEN_SESSIONS,
    };
    let shared = Shared::new(
        ctx.clone(),
        plan.workload.clone(),
        SharedConfig {
            lanes,
            lean,
            timeout: plan.timeout,
            max_body: MAX_BODY_BYTES,
            respect_retry_after: plan.respect_retry_after,
            duration: plan.duration,
            requests: plan.requests,
        },
    );
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let metrics = match &plan.metrics {
        Some(listener) => Some(
            super::metrics::serve(listener, shared.clone())
                .map_err(|e| LoadError::Usage(format!("cannot serve metrics: {e}")))?,
        ),
        None => None,
    };

    // The progress line, once a second, from the shared counters.
    let ticker = progress.take().map(|mut progress| {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(started) = shared.started.get().copied() else {
                    continue;
                };
                let (requests, failures, rate_limited) = shared.totals();
                progress(&Snapshot {
                    elapsed: started.elapsed(),
                    requests,
                    failures,
                    rate_limited,
                    last_second: requests - last,
                });
                last = requests;
            }
        })
    });

    let engine = if lanes == 0 {
        shared.start();
        Ok(())
    } else {
        match plan.model {
            Model::Closed { users } => run_closed(shared.clone(), users as usize, plan.ramp).await,
            Model::Open { rate } => {
                let open = run_open(shared.clone(), rate, plan.ramp);
                // Ctrl-C ends the open model as goose's handler ends the closed one.
                tokio::select! {
                    _ = open => {}
                    _ = tokio::signal::ctrl_c() => shared.stop(super::engine::EndedBy::Interrupted),
                }
                Ok(())
            }
        }
    };
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    engine.map_err(LoadError::Engine)?;
    // Setup still waiting out a 429 stops with the load.
    shared.ctx.cancelled.store(true, Ordering::SeqCst);
    // Goose takes a moment to stop its users; nothing is sent after the deadline.
    let load_end = match shared.deadline() {
        Some(deadline) => deadline.min(Instant::now()),
        None => Instant::now(),
    };
    shared.flush();
    let started = shared.started.get().copied().unwrap_or(load_end);
    let duration_s = load_end.saturating_duration_since(started).as_secs_f64();

    let recovery = match plan.tail {
        Some(tail) if lanes > 0 && shared.ended_by() != super::engine::EndedBy::Interrupted => {
            Some(run_tail(&shared, tail).await)
        }
        _ => None,
    };
    let seen_429 = shared.with_retry_after.load(Ordering::Relaxed) + shared.without_retry_after.load(Ordering::Relaxed);
    let honesty = if seen_429 > 0 && shared.ended_by() != super::engine::EndedBy::Interrupted {
        honesty_probe(&shared).await
    } else {
        None
    };

    let report = build_report(plan, &shared, &target, started_at, duration_s, recovery, honesty);
    let _ = target.release(&http, &retry).await;
    Ok(report)
}

/// Sends at `tail.rate` for `tail.duration` from one lane, outside the load's figures,
/// and measures when the 429s stopped.
async fn run_tail(shared: &Arc<Shared>, tail: TailPlan) -> Recovery {
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / tail.rate);
    let (mut requests, mut limited) = (0u64, 0u64);
    let mut recovered: Option<f64> = None;
    let request = shared.limited_request.get().cloned();
    let mut n = 0u32;
    while started.elapsed() < tail.duration {
        let due = started + interval * n;
        tokio::time::sleep_until(due.into()).await;
        n += 1;
        let out = match &request {
            Some(out) => out.clone(),
            None => break,
        };
        requests += 1;
        match shared.ctx.http.send(&out).await {
            Ok(got) if got.status == 429 => {
                limited += 1;
                recovered = None;
            }
            Ok(_) => {
                if recovered.is_none() {
                    recovered = Some(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
            Err(_) => recovered = None,
        }
    }
    if request.is_none() {
        // Nothing was rate limited during the load: there is nothing to recover from.
        recovered = Some(0.0);
    }
    Recovery {
        tail_rate: tail.rate,
        tail_requests: requests,
        tail_rate_limited: limited,
        recovered_after_ms: recovered.map(|ms| (ms * 10.0).round() / 10.0),
    }
}

/// Provokes a 429 with the request that got one during the load, waits as its
/// Retry-After says, and sends it once more: an honest server answers it.
async fn honesty_probe(shared: &Arc<Shared>) -> Option<Honesty> {
    let out = shared.limited_request.get()?.clone();
    let started = Instant::now();
    let mut provoked_after = 0;
    while provoked_after < 5000 && started.elapsed() < Duration::from_secs(5) {
        provoked_after += 1;
        let Ok(got) = shared.ctx.http.send(&out).await else {
            continue;
        };
        if got.status != 429 {
            continue;
        }
        let Some(seconds) = retry_after(&got) else {
            return Some(Honesty {
                provoked_after,
                retry_after_s: None,
                status_after_wait: None,
                honest: false,
            });
        };
        tokio::time::sleep(Duration::from_secs(seconds.min(120))).await;
        let status = shared.ctx.http.send(&out).await.ok().map(|r| r.status);
        return Some(Honesty {
            provoked_after,
            retry_after_s: Some(seconds),
            status_after_wait: status,
            honest: status.is_some_and(|s| s != 429),
        });
    }
    None
}

fn build_report(
    plan: &LoadPlan,
    shared: &Shared,
    target: &Target,
    started_at: String,
    duration_s: f64,
    recovery: Option<Recovery>,
    honesty: Option<Honesty>,
) -> LoadReport {
    let workload = &plan.workload;
    let mut per_op: Vec<OpStats> = workload.operations.iter().map(|_| OpStats::default()).collect();
    for lane in &shared.lanes {
        let recorder = lane.recorder.lock().expect("recorder poisoned");
        for (total, stats) in per_op.iter_mut().zip(&recorder.ops) {
            total.merge(stats);
        }
    }
    let mut overall = OpStats::default();
    for stats in &per_op {
        overall.merge(stats);
    }
    let operations: Vec<OpReport> = workload
        .operations
        .iter()
        .zip(&per_op)
        .filter(|(_, s)| s.requests > 0)
        .map(|(name, s)| OpReport::of(name, s, duration_s))
        .collect();
    let series: Vec<SecondReport> = shared
        .series
        .take()
        .iter()
        .enumerate()
        .map(|(i, s)| SecondReport::of(i as u64, s))
        .collect();
    let mut rate_limit = RateLimitReport {
        responses_429: overall.rate_limited,
        share: 0.0,
        onset_second: None,
        onset_rate: None,
        with_retry_after: shared.with_retry_after.load(Ordering::Relaxed),
        without_retry_after: shared.without_retry_after.load(Ordering::Relaxed),
        all_have_retry_after: None,
        honesty,
        recovery,
        flags: Vec::new(),
    };
    rate_limit.derive(overall.requests, &series);
    let (kind, users, rate) = match plan.model {
        Model::Closed { users } => ("closed", Some(users), None),
        Model::Open { rate } => ("open", None, Some(rate)),
    };
    let embedded = target.is_embedded();
    let faults: BTreeSet<Fault> = if embedded {
        plan.target.server.faults.clone()
    } else {
        BTreeSet::new()
    };
    let mut report = LoadReport {
        format_version: LOAD_FORMAT_VERSION,
        tool: format!("bpharness {}", env!("CARGO_PKG_VERSION")),
        target: target.label(),
        embedded,
        profile: workload.profile.name.clone(),
        model: ModelReport {
            kind: kind.into(),
            users,
            rate,
            ramp_s: plan.ramp.as_secs_f64(),
            duration_s: plan.duration.as_secs_f64(),
            requests_bound: plan.requests,
            respect_retry_after: plan.respect_retry_after,
        },
        segments: vec![plan.segment],
        server_rate_limit: if embedded {
            plan.target.server.rate_limit.map(|r| r.to_string())
        } else {
            None
        },
        faults: faults.iter().map(|f| f.name().to_string()).collect(),
        started_at,
        duration_s: (duration_s * 1000.0).round() / 1000.0,
        ended_by: shared.ended_by().name().into(),
        overall: OpReport::of("all", &overall, duration_s),
        operations,
        series,
        rate_limit,
        setup: SetupReport {
            runs: shared.setup_runs.load(Ordering::Relaxed),
            failed: shared.setup_failed.load(Ordering::Relaxed),
            errors: shared.setup_failures.lock().expect("setup list poisoned").clone(),
        },
        thresholds: Vec::new(),
        outcome: String::new(),
    };
    report.thresholds = evaluate(&plan.thresholds, &report);
    report.outcome = if report.passed() { "passed" } else { "failed" }.into();
    report
}
