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
    CheckOutcome, FORMAT_VERSION, Leak, Outcome, Reporter, RunEvent, RunReport, ScenarioResult, Summary,
};
use crate::scenario::{LoadOptions, LoadedScenario, ScenarioError, load_paths_with};
use crate::server::{ServerConfig, ServerHandle, spawn_local};

use super::exec::Ctx;
use super::http::{Http, Outgoing, TransportError};
use super::provision::{Admin, Provisioned};
use super::redact::Redactor;
use super::scenario::run_scenario;

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub paths: Vec<PathBuf>,
    /// `None`: start the embedded reference server.
    pub target: Option<String>,
    pub token: Option<String>,
    pub bot_id: Option<String>,
    pub workspace_id: Option<String>,
    pub other_bot_id: Option<String>,
    pub other_workspace_id: Option<String>,
    /// A bot of that other workspace.
    pub other_workspace_bot_id: Option<String>,
    pub tags: Vec<String>,
    pub jobs: usize,
    pub fail_fast: bool,
    pub strict: bool,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// `None`: the schemas built into the binary.
    pub schemas_dir: Option<PathBuf>,
    /// Configuration of the embedded server, when it is the target.
    pub server: ServerConfig,
    /// Where to put every exchange, for `capture` and `run --capture`.
    pub capture: Option<crate::capture::CaptureSink>,
}

impl Default for RunPlan {
    fn default() -> Self {
        RunPlan {
            paths: vec![PathBuf::from("scenarios")],
            target: None,
            token: None,
            bot_id: None,
            workspace_id: None,
            other_bot_id: None,
            other_workspace_id: None,
            other_workspace_bot_id: None,
            tags: Vec::new(),
            jobs: 4,
            fail_fast: false,
            strict: false,
            timeout: Duration::from_secs(10),
            max_body_bytes: 8 * 1024 * 1024,
            schemas_dir: None,
            server: ServerConfig::default(),
            capture: None,
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
    #[error("cannot start the embedded reference server: {0}")]
    Server(std::io::Error),
}

/// The target of a run, with the embedded server kept alive while it runs.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) token: String,
    pub(crate) builtins: Vec<(&'static str, Option<String>)>,
    pub(crate) server: Option<ServerHandle>,
}

pub(crate) async fn resolve_target(plan: &RunPlan) -> Result<Target, RunError> {
    match &plan.target {
        Some(url) => {
            let token = plan
                .token
                .clone()
                .ok_or_else(|| RunError::Usage("a token is needed with --target (--token or BP_TOKEN)".into()))?;
            Ok(Target {
                url: url.trim_end_matches('/').to_string(),
                token,
                builtins: vec![
                    ("bot_id", plan.bot_id.clone()),
                    ("workspace_id", plan.workspace_id.clone()),
                    ("other_bot_id", plan.other_bot_id.clone()),
                    ("other_workspace_id", plan.other_workspace_id.clone()),
                    ("other_workspace_bot_id", plan.other_workspace_bot_id.clone()),
                ],
                server: None,
            })
        }
        None => {
            // A token given without a target is one the embedded server accepts.
            let mut config = plan.server.clone();
            if let Some(token) = &plan.token
                && !config.tokens.contains(token)
            {
                config.tokens.insert(0, token.clone());
            }
            let server = spawn_local(config).await.map_err(RunError::Server)?;
            let seeds = server.seeds().clone();
            Ok(Target {
                url: server.url.clone(),
                token: seeds.tokens[0].clone(),
                builtins: vec![
                    ("bot_id", Some(seeds.bot_id)),
                    ("workspace_id", Some(seeds.workspace_id)),
                    ("other_bot_id", Some(seeds.other_bot_id)),
                    ("other_workspace_id", Some(seeds.other_workspace_id)),
                    ("other_workspace_bot_id", Some(seeds.other_workspace_bot_id)),
                ],
                server: Some(server),
            })
        }
    }
}

/// Loads the scenarios of `plan` and checks them; nothing is sent when one is invalid.
pub fn load(plan: &RunPlan, schemas: &SchemaSet) -> Result<Vec<LoadedScenario>, RunError> {
    let options = LoadOptions {
        schema_root: schemas_root_for_check(plan),
    };
    let _ = schemas;
    let (loaded, errors) = load_paths_with(&plan.paths, &options);
    if !errors.is_empty() {
        return Err(RunError::InvalidScenarios(errors));
    }
    Ok(loaded
        .into_iter()
        .filter(|s| plan.tags.is_empty() || s.scenario.tags.iter().any(|t| plan.tags.contains(t)))
        .collect())
}

/// The directory that holds `schemas/responses/` for the loader's check of explicit
/// `schema:` names.
fn schemas_root_for_check(plan: &RunPlan) -> PathBuf {
    match &plan.schemas_dir {
        Some(dir) => dir.parent().map(PathBuf::from).unwrap_or_default(),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    }
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
    let mut target = resolve_target(plan).await?;
    let http = Http::new(plan.timeout, plan.max_body_bytes).map_err(|e| RunError::Usage(e.to_string()))?;
    probe(&http, &target).await?;
    let run_id: String = format!("{:08x}", rand::rng().random::<u32>());
    let provisioned = provision(plan, &http, &mut target, &run_id).await?;

    let ctx = Arc::new(context(
        &target,
        run_id,
        http,
        schemas,
        plan.strict,
        cancelled.clone(),
        plan.capture.clone(),
    ));

    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<RunEvent>();
    let emit = |reporters: &mut [Box<dyn Reporter>], event: &RunEvent| {
        for r in reporters.iter_mut() {
            // A reporter that cannot write (closed pipe) must not stop the run.
            let _ = r.on_event(event);
        }
    };
    emit(
        reporters,
        &RunEvent::RunStarted {
            target: target.url.clone(),
            scenarios: scenarios.len(),
        },
    );
    if let Some((workspace, made)) = &provisioned {
        for message in provisioned_notes(workspace, made) {
            emit(reporters, &RunEvent::Notice { message });
        }
    }

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
                Some(Err(e)) => return Err(RunError::Usage(format!("a scenario task failed: {e}"))),
                None => break,
            },
        }
    }
    while let Ok(event) = rx.try_recv() {
        emit(reporters, &event);
    }
    if let Some((workspace, made)) = &provisioned {
        let admin = Admin {
            http: &ctx.http,
            url: &target.url,
            token: &target.token,
            workspace,
        };
        let mut failed = admin.delete_bots(&made.ids).await;
        let message = if failed.is_empty() {
            format!("deleted the bots created for this run: {}", made.ids.join(", "))
        } else {
            format!("{} of the bots created for this run could not be deleted", failed.len())
        };
        emit(reporters, &RunEvent::Notice { message });
        leaks.append(&mut failed);
    }
    results.sort_by_key(|(i, _)| *i);
    let scenarios: Vec<ScenarioResult> = results.into_iter().map(|(_, r)| r).collect();
    let coverage = std::mem::take(&mut *ctx.coverage.lock().expect("coverage poisoned"));
    let coverage: Vec<_> = OPERATIONS
        .iter()
        .filter_map(|op| coverage.get(op.id).cloned())
        .collect();
    let summary = summarize(&scenarios, coverage.len() as u64);
    let outcome = if summary.scenarios_failed > 0 {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    let report = RunReport {
        format_version: FORMAT_VERSION,
        tool: format!("bpharness {}", env!("CARGO_PKG_VERSION")),
        target: if target.server.is_some() {
            "embedded reference server".into()
        } else {
            target.url.clone()
        },
        embedded: target.server.is_some(),
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
    if let Some(server) = target.server {
        server.stop().await;
    }
    Ok(report)
}

/// Against a target with a workspace but no bot id, creates the bots of the run and puts
/// them in `bot_id` (and `other_bot_id` when that is not given either).
async fn provision(
    plan: &RunPlan,
    http: &Http,
    target: &mut Target,
    run_id: &str,
) -> Result<Option<(String, Provisioned)>, RunError> {
    let Some(workspace) = plan.workspace_id.as_deref() else {
        return Ok(None);
    };
    if target.server.is_some() || plan.bot_id.is_some() {
        return Ok(None);
    }
    let count = if plan.other_bot_id.is_some() { 1 } else { 2 };
    let admin = Admin {
        http,
        url: &target.url,
        token: &target.token,
        workspace,
    };
    let made = admin.create_bots(run_id, count).await.map_err(|e| {
        RunError::Usage(format!(
            "no bot id was given and no bot could be created in workspace {workspace}: {e}"
        ))
    })?;
    for (name, value) in target.builtins.iter_mut() {
        let index = match *name {
            "bot_id" => 0,
            "other_bot_id" if count == 2 => 1,
            _ => continue,
        };
        *value = made.ids.get(index).cloned();
    }
    Ok(Some((workspace.to_string(), made)))
}

fn provisioned_notes(workspace: &str, made: &Provisioned) -> Vec<String> {
    let roles = ["bot_id", "other_bot_id"];
    let named: Vec<String> = made
        .ids
        .iter()
        .zip(roles)
        .map(|(id, role)| format!("{id} ({role})"))
        .collect();
    let mut notes = vec![format!(
        "no bot id given: created {} in workspace {workspace}; deleted when the run ends",
        named.join(" and ")
    )];
    for id in &made.inactive {
        notes.push(format!("bot {id} was still not active after waiting; running anyway"));
    }
    notes
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
    for (name, value) in &target.builtins {
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
    }
}

/// One request before anything else: a target that does not answer at all is a different
/// verdict (exit 4) from one that answers wrongly.
pub(crate) async fn probe(http: &Http, target: &Target) -> Result<(), RunError> {
    let out = Outgoing {
        method: "GET".into(),
        url: format!("{}/v1/chat/users", target.url),
        headers: Vec::new(),
        body: None,
    };
    match http.send(&out).await {
        Ok(_) => Ok(()),
        Err(e @ (TransportError::Connect(_) | TransportError::Timeout(_))) => Err(RunError::Unreachable {
            target: target.url.clone(),
            reason: e.to_string(),
        }),
        Err(_) => Ok(()),
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
