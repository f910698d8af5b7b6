//! A whole run: load and check the scenario files, pick the target (the embedded reference
//! server when none is given), run the scenarios in parallel, and assemble the report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::api::OPERATIONS;
use crate::contract::{SchemaError, SchemaSet};
use crate::report::{
    CheckOutcome, FORMAT_VERSION, Leak, Outcome, Reporter, RunEvent, RunReport, ScenarioResult, SkipKind, Summary,
    announce, emit,
};
use crate::scenario::{LoadOptions, LoadedScenario, ScenarioError, load_builtin, load_paths_with};
use crate::target::{Target, TargetError, TargetSpec};

use super::exec::Ctx;
use super::http::Http;
use super::redact::Redactor;
use super::retry::RetryBudget;
use super::scenario::run_scenario;

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Scenario files and directories; empty: the suite built into the binary.
    pub paths: Vec<PathBuf>,
    /// The server under test (the embedded reference server unless a URL is given).
    pub target: TargetSpec,
    pub tags: Vec<String>,
    pub jobs: usize,
    pub fail_fast: bool,
    pub strict: bool,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// `None`: the schemas built into the binary.
    pub schemas_dir: Option<PathBuf>,
    /// Where to put every exchange, for `capture` and `run --capture`.
    pub capture: Option<crate::capture::CaptureSink>,
    /// Poll deadlines are multiplied by this, for servers slower than the suite expects.
    pub time_scale: f64,
    /// The most the whole run may wait for rate limits (429 with Retry-After) before a
    /// 429 fails its step.
    pub max_retry_wait: Duration,
}

/// The default budget for waiting out rate limits over a run.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(120);

impl Default for RunPlan {
    fn default() -> Self {
        RunPlan {
            paths: Vec::new(),
            target: TargetSpec::default(),
            tags: Vec::new(),
            jobs: 4,
            fail_fast: false,
            strict: false,
            timeout: Duration::from_secs(10),
            max_body_bytes: 8 * 1024 * 1024,
            schemas_dir: None,
            capture: None,
            time_scale: 1.0,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
        }
    }
}

/// Why a run could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{} invalid scenario file(s)", .0.len())]
    InvalidScenarios(Vec<ScenarioError>),
    #[error("invalid schemas: {0}")]
    InvalidSchemas(#[from] SchemaError),
    #[error("cannot reach the target {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("{0}")]
    Usage(String),
    /// A scenario path given on the command line does not exist.
    #[error("no scenario file or directory at {}", .0.display())]
    MissingPath(PathBuf),
    #[error("cannot start the embedded reference server: {0}")]
    Server(std::io::Error),
    /// A bug: a scenario task panicked or was lost.
    #[error("{0}")]
    Internal(String),
}

impl From<TargetError> for RunError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::Usage(m) => RunError::Usage(m),
            TargetError::Unreachable { target, reason } => RunError::Unreachable { target, reason },
            TargetError::Server(io) => RunError::Server(io),
        }
    }
}

/// Loads the scenarios of `plan` (the built-in suite when it names no path) and checks them
/// against `schemas`, the set the run validates with; nothing is sent when one is invalid.
pub fn load(plan: &RunPlan, schemas: &SchemaSet) -> Result<Vec<LoadedScenario>, RunError> {
    let options = LoadOptions::with_schemas(schemas);
    if let Some(missing) = plan.paths.iter().find(|p| !p.exists()) {
        return Err(RunError::MissingPath(missing.clone()));
    }
    let (loaded, errors) = if plan.paths.is_empty() {
        load_builtin(&options)
    } else {
        load_paths_with(&plan.paths, &options)
    };
    if !errors.is_empty() {
        return Err(RunError::InvalidScenarios(errors));
    }
    Ok(loaded
        .into_iter()
        .filter(|s| plan.tags.is_empty() || s.scenario.tags.iter().any(|t| plan.tags.contains(t)))
        .collect())
}

/// Runs `plan`, sending events to `reporters` as they happen.
pub async fn run(
    plan: &RunPlan,
    reporters: &mut [Box<dyn Reporter>],
    cancelled: Arc<AtomicBool>,
) -> Result<RunReport, RunError> {
    let schemas: &'static SchemaSet = match &plan.schemas_dir {
        None => SchemaSet::embedded(),
        Some(dir) => Box::leak(Box::new(SchemaSet::load_dir(dir)?)),
    };
    let scenarios = load(plan, schemas)?;
    let http = Http::new(plan.timeout, plan.max_body_bytes).map_err(|e| RunError::Usage(e.to_string()))?;
    let retry = Arc::new(RetryBudget::new(plan.max_retry_wait));
    let run_id: String = format!("{:08x}", rand::rng().random::<u32>());
    let target = Target::resolve(&plan.target, &http, &retry, &run_id).await?;

    let mut ctx = context(
        &target,
        run_id,
        http,
        schemas,
        plan.strict,
        cancelled.clone(),
        plan.capture.clone(),
    );
    ctx.retry = retry.clone();
    ctx.time_scale = plan.time_scale;
    let ctx = Arc::new(ctx);

    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<RunEvent>();
    announce(
        reporters,
        target.label(),
        scenarios.len(),
        target.describe().into_iter().chain(target.notices.iter().cloned()),
    );

    let semaphore = Arc::new(Semaphore::new(plan.jobs.max(1)));
    let mut set: JoinSet<(usize, ScenarioResult, Vec<Leak>)> = JoinSet::new();
    for (index, loaded) in scenarios.into_iter().enumerate() {
        let (ctx, tx, semaphore) = (ctx.clone(), tx.clone(), semaphore.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore is never closed");
            let (result, leaks) = run_scenario(&ctx, &loaded, &tx).await;
            (index, result, leaks)
        });
    }
    drop(tx);
    let mut results: Vec<(usize, ScenarioResult)> = Vec::new();
    let mut leaks: Vec<Leak> = Vec::new();
    loop {
        tokio::select! {
            Some(event) = rx.recv() => emit(reporters, &event),
            joined = set.join_next() => match joined {
                Some(Ok((index, result, mut found))) => {
                    if plan.fail_fast && result.outcome == Outcome::Failed {
                        cancelled.store(true, Ordering::Relaxed);
                    }
                    results.push((index, result));
                    leaks.append(&mut found);
                }
                Some(Err(e)) => return Err(RunError::Internal(format!("a scenario task failed: {e}"))),
                None => break,
            },
        }
    }
    while let Ok(event) = rx.try_recv() {
        emit(reporters, &event);
    }
    let Released {
        label,
        embedded,
        capabilities,
        missing_capabilities,
        mut lost,
    } = release_target(target, &ctx.http, &retry, reporters).await;
    leaks.append(&mut lost);
    results.sort_by_key(|(i, _)| *i);
    let scenarios: Vec<ScenarioResult> = results.into_iter().map(|(_, r)| r).collect();
    let coverage = std::mem::take(&mut *ctx.coverage.lock().expect("coverage poisoned"));
    let coverage: Vec<_> = OPERATIONS
        .iter()
        .filter_map(|op| coverage.get(op.id).cloned())
        .collect();
    let mut summary = summarize(&scenarios, coverage.len() as u64);
    let waited = retry.waited();
    summary.rate_limit_retries = waited.retries;
    summary.rate_limit_wait_ms = waited.total.as_secs_f64() * 1000.0;
    let outcome = if summary.scenarios_failed > 0 {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    let report = RunReport {
        format_version: FORMAT_VERSION,
        tool: format!("bpharness {}", env!("CARGO_PKG_VERSION")),
        target: label,
        embedded,
        capabilities,
        missing_capabilities,
        strict: plan.strict,
        faults: Vec::new(),
        started_at,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        outcome,
        summary,
        scenarios,
        coverage,
        leaks,
    };
    if let Some(sink) = &plan.capture {
        // Secrets captured late in the run may appear in earlier exchanges: mask at the end.
        sink.map_strings(|text| ctx.redactor.mask(text));
    }
    emit(
        reporters,
        &RunEvent::RunFinished {
            report: Box::new(report.clone()),
        },
    );
    Ok(report)
}

/// The context of a run against `target`: the token and scope ids as default headers,
/// the built-in variables.
pub(crate) fn context(
    target: &Target,
    run_id: String,
    http: Http,
    schemas: &'static SchemaSet,
    strict: bool,
    cancelled: Arc<AtomicBool>,
    capture: Option<crate::capture::CaptureSink>,
) -> Ctx {
    let redactor = Redactor::default();
    redactor.add(&target.token);
    let mut default_headers = vec![("authorization".to_string(), format!("Bearer {}", target.token))];
    let mut builtins: BTreeMap<String, Value> = BTreeMap::new();
    for (name, value) in &target.ids {
        if let Some(value) = value {
            builtins.insert((*name).into(), Value::String(value.clone()));
            match *name {
                "bot_id" => default_headers.push(("x-bot-id".into(), value.clone())),
                "workspace_id" => default_headers.push(("x-workspace-id".into(), value.clone())),
                _ => {}
            }
        }
    }
    builtins.insert("run_id".into(), Value::String(run_id));
    builtins.insert("token".into(), Value::String(target.token.clone()));
    builtins.insert(
        "now".into(),
        Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );

    Ctx {
        http,
        base_url: target.url.clone(),
        schemas,
        strict,
        redactor,
        default_headers,
        builtins,
        coverage: Default::default(),
        cancelled,
        capture,
        capabilities: target.capabilities.clone(),
        retry: Arc::new(RetryBudget::new(super::run::DEFAULT_MAX_RETRY_WAIT)),
        time_scale: 1.0,
        undeclared: target.undeclared.iter().cloned().collect(),
    }
}

fn summarize(scenarios: &[ScenarioResult], covered: u64) -> Summary {
    let mut s = Summary {
        scenarios: scenarios.len() as u64,
        operations_total: OPERATIONS.len() as u64,
        operations_covered: covered,
        ..Summary::default()
    };
    for sc in scenarios {
        match sc.outcome {
            Outcome::Passed => s.scenarios_passed += 1,
            Outcome::Failed => s.scenarios_failed += 1,
            Outcome::Skipped => s.scenarios_skipped += 1,
        }
        for step in &sc.steps {
            s.steps += 1;
            s.requests += step.requests;
            if step.outcome == Outcome::Failed {
                s.steps_failed += 1;
            }
            if let Some(skip) = &step.skip {
                match skip.kind {
                    SkipKind::Blocked => s.steps_blocked += 1,
                    SkipKind::Requirement | SkipKind::Interrupted => s.steps_skipped += 1,
                }
                *s.skipped_by_reason.entry(skip.group()).or_default() += 1;
            }
            for c in &step.checks {
                s.checks += 1;
                match c.outcome {
                    CheckOutcome::Fail => s.checks_failed += 1,
                    CheckOutcome::Warn => s.warnings += 1,
                    CheckOutcome::Pass => {}
                }
            }
        }
    }
    s
}

/// What a run's report says of its target, and what releasing the target leaked.
pub(crate) struct Released {
    pub label: String,
    pub embedded: bool,
    pub capabilities: Vec<String>,
    pub missing_capabilities: BTreeMap<String, String>,
    pub lost: Vec<Leak>,
}

/// Ends a run's use of `target` (`run` and `fuzz` alike): notes what the report says of it,
/// releases what was provisioned on it and tells the reporters what that did.
pub(crate) async fn release_target(
    target: Target,
    http: &Http,
    retry: &RetryBudget,
    reporters: &mut [Box<dyn Reporter>],
) -> Released {
    let (label, embedded) = (target.label(), target.is_embedded());
    let capabilities = target.capabilities.present().into_iter().map(String::from).collect();
    let missing_capabilities = target
        .capabilities
        .absent()
        .into_iter()
        .map(|(n, why)| (n.to_string(), why.to_string()))
        .collect();
    let (notices, lost) = target.release(http, retry).await;
    for message in notices {
        emit(reporters, &RunEvent::Notice { message });
    }
    Released {
        label,
        embedded,
        capabilities,
        missing_capabilities,
        lost,
    }
}
