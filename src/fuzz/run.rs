//! A whole fuzz run: reach the target, make the resources cases point at, replay saved
//! failures, run the phases (cases in parallel, bounded by examples and time), shrink and
//! save what failed, delete everything the run created (the cleanup ledger), and give a
//! `RunReport` whose scenarios are operations and whose steps are cases, so every reporter
//! of `run` works unchanged.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::api::{OPERATIONS, Operation, find_operation, match_operation};
use crate::contract::SchemaSet;
use crate::report::{
    CheckOutcome, CheckResult, Exchange, FORMAT_VERSION, Leak, Outcome, Reporter, RunEvent, RunReport, ScenarioResult,
    Section, StepKind, StepResult, Summary, announce, emit,
};
use crate::runner::{Built, Ctx, Http, Ledger, Released, RetryBudget, RunError, context, curl_line, release_target};
use crate::target::{Target, TargetSpec};

use super::case::{Body, Case, Env, Intent, Phase, Scope};
use super::checks::{fail, failed, pass, verdict};
use super::plan::{coverage_cases, negative_cases, positive_cases};
use super::shrink::{SHRINK_BUDGET, Saved, candidates};
use super::stateful::{Resource, listed_ids, next_token, resources};
use super::world::{UNKNOWN_ID, World, table_schema};

/// Everything a fuzz run needs, validated.
#[derive(Debug, Clone)]
pub struct FuzzPlan {
    pub target: TargetSpec,
    /// Only these operations (empty: all 60).
    pub operations: Vec<String>,
    pub seed: u64,
    /// Cases per operation and phase, at most.
    pub max_examples: usize,
    /// No case starts after this.
    pub time_budget: Duration,
    pub phases: Vec<Phase>,
    /// Requests in flight at once.
    pub jobs: usize,
    pub strict: bool,
    pub timeout: Duration,
    /// Where failures are saved and replayed from; `None`: neither.
    pub corpus: Option<PathBuf>,
}

impl Default for FuzzPlan {
    fn default() -> Self {
        FuzzPlan {
            target: TargetSpec::default(),
            operations: Vec::new(),
            seed: 0,
            max_examples: 40,
            time_budget: Duration::from_secs(60),
            phases: Phase::GENERATED.to_vec(),
            jobs: 16,
            strict: false,
            timeout: Duration::from_secs(10),
            corpus: None,
        }
    }
}

/// Cases and failures of one phase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhaseCount {
    pub cases: u64,
    pub failures: u64,
}

/// One failure, shrunk.
#[derive(Debug, Clone)]
pub struct Failure {
    pub operation: String,
    pub phase: Phase,
    pub meaning: String,
    pub check: String,
    pub message: String,
    /// The minimal request that still fails, token masked.
    pub curl: String,
    /// Where it was saved, when the run has a corpus.
    pub saved: Option<PathBuf>,
}

/// What a fuzz run did, for its closing lines.
#[derive(Debug, Clone, Default)]
pub struct FuzzSummary {
    pub seed: u64,
    pub cases: u64,
    pub requests: u64,
    pub operations: u64,
    pub duration: Duration,
    pub phases: BTreeMap<Phase, PhaseCount>,
    pub failures: Vec<Failure>,
    /// Stopped by the time budget before every case ran.
    pub out_of_time: bool,
}

impl FuzzSummary {
    /// `fuzz: N cases, M requests, F failures, O of 60 operations in T s`.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "fuzz: {} cases, {} requests, {} failures, {} of {} operations in {:.1} s",
            self.cases,
            self.requests,
            self.failures.len(),
            self.operations,
            OPERATIONS.len(),
            self.duration.as_secs_f64()
        )
    }
}

/// One answered case.
struct Answered {
    case: Case,
    checks: Vec<CheckResult>,
    exchange: Exchange,
    status: Option<u16>,
    body: Option<Value>,
    elapsed_ms: f64,
}

impl Answered {
    fn failed(&self) -> bool {
        failed(&self.checks)
    }

    fn first_failure(&self) -> Option<&CheckResult> {
        // The intent's own check names the problem best; then the contract checks.
        let own = [
            "positive-accepted",
            "negative-refused",
            "auth-required",
            "scope-isolated",
            "echo",
            "sequence",
        ];
        let fails = || self.checks.iter().filter(|c| c.outcome == CheckOutcome::Fail);
        fails()
            .find(|c| own.contains(&c.check.as_str()))
            .or_else(|| fails().next())
    }
}

/// Sends cases and judges the answers.
struct Exec {
    ctx: Ctx,
    env: Env,
    ledger: Mutex<Ledger>,
    strict: bool,
    requests: AtomicU64,
    deadline: Instant,
}

impl Exec {
    async fn send(&self, case: &Case) -> Answered {
        let started = Instant::now();
        let op = case.op();
        let built = Built {
            outgoing: case.outgoing(&self.ctx.base_url, &self.env),
            operation: Some(op),
        };
        let sent = self.ctx.send(built).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut exchange = self.ctx.record(&sent);
        self.ctx.redactor.scrub_exchange(&mut exchange);
        let (checks, status, body) = match &sent.result {
            Ok(got) => {
                let checks = verdict(self.ctx.schemas, self.strict, case, got);
                let body: Option<Value> = serde_json::from_slice(&got.body).ok();
                if (200..300).contains(&got.status)
                    && case.scope == Scope::Own
                    && let Some(body) = &body
                {
                    self.ledger
                        .lock()
                        .expect("ledger poisoned")
                        .record(op.id, body, &self.ctx.default_headers);
                }
                (checks, Some(got.status), body)
            }
            Err(e) => (vec![fail("transport", e.to_string())], None, None),
        };
        Answered {
            case: case.clone(),
            checks,
            exchange,
            status,
            body,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }

    /// A request the run needs (fixtures): the body of a 2xx answer, or why not.
    async fn need(
        &self,
        op: &str,
        path: &[(&str, &str)],
        query: Vec<(String, Value)>,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let case = Case {
            operation: op.into(),
            phase: Phase::Positive,
            intent: Intent::Valid,
            path_params: path.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
            query,
            body: body.map_or(Body::None, |value| Body::Json { value }),
            token: true,
            scope: Scope::Own,
            label: "setup".into(),
            undeclared: false,
        };
        let answered = self.send(&case).await;
        match (answered.status, answered.body) {
            (Some(s), Some(body)) if (200..300).contains(&s) => Ok(body),
            (s, body) => Err(format!(
                "{op} answered {}: {}",
                s.map_or("nothing".into(), |s| s.to_string()),
                body.map(|b| b.to_string()).unwrap_or_default()
            )),
        }
    }

    /// Reduces a failing case to a smaller one that fails the same check.
    async fn shrink(&self, failing: Answered) -> Answered {
        let Some(check) = failing.first_failure().map(|c| c.check.clone()) else {
            return failing;
        };
        let mut best = failing;
        let mut budget = SHRINK_BUDGET;
        'outer: while budget > 0 {
            for candidate in candidates(&best.case) {
                if budget == 0 {
                    break 'outer;
                }
                budget -= 1;
                let answered = self.send(&candidate).await;
                if answered.first_failure().is_some_and(|c| c.check == check) {
                    best = answered;
                    continue 'outer;
                }
            }
            break;
        }
        best
    }
}

/// The operations of `plan`, checked.
fn selected(plan: &FuzzPlan) -> Result<Vec<&'static Operation>, RunError> {
    if plan.operations.is_empty() {
        return Ok(OPERATIONS.iter().collect());
    }
    plan.operations
        .iter()
        .map(|id| {
            find_operation(id).ok_or_else(|| {
                let hint = crate::scenario::did_you_mean(id, OPERATIONS.iter().map(|o| o.id))
                    .unwrap_or_else(|| "see ENDPOINTS.md for the 60 operation ids".into());
                RunError::Usage(format!("unknown operation `{id}`; {hint}"))
            })
        })
        .collect()
}

/// Runs `plan`, sending events to `reporters`.
pub async fn fuzz(
    plan: &FuzzPlan,
    reporters: &mut [Box<dyn Reporter>],
    cancelled: Arc<AtomicBool>,
) -> Result<(RunReport, FuzzSummary), RunError> {
    let operations = selected(plan)?;
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let schemas: &'static SchemaSet = SchemaSet::embedded();
    let http = Http::new(plan.timeout, 8 * 1024 * 1024).map_err(|e| RunError::Usage(e.to_string()))?;
    let retry = Arc::new(RetryBudget::new(crate::runner::DEFAULT_MAX_RETRY_WAIT));
    let run_id = format!("{:08x}", plan.seed as u32 ^ rand::random::<u32>());
    let target = Target::resolve(&plan.target, &http, &retry, &run_id).await?;
    let mut ctx = context(
        &target,
        run_id.clone(),
        http,
        schemas,
        plan.strict,
        cancelled.clone(),
        None,
    );
    ctx.retry = retry.clone();
    let env = Env {
        token: target.token.clone(),
        bot_id: target.id("bot_id").map(str::to_string),
        workspace_id: target.id("workspace_id").map(str::to_string),
        other_bot_id: target.id("other_bot_id").map(str::to_string),
        other_workspace_id: target.id("other_workspace_id").map(str::to_string),
    };
    announce(
        reporters,
        target.label(),
        operations.len(),
        target.describe().into_iter().chain(target.notices.iter().cloned()),
    );
    let exec = Arc::new(Exec {
        ctx,
        env,
        ledger: Mutex::new(Ledger::default()),
        strict: plan.strict,
        requests: AtomicU64::new(0),
        deadline: started + plan.time_budget,
    });
    let (world, notes) = make_world(&exec, &run_id).await;
    for message in notes {
        emit(reporters, &RunEvent::Notice { message });
    }
    let world = Arc::new(world);

    let mut answered: Vec<Answered> = Vec::new();
    let mut out_of_time = false;
    // Saved failures first: a fix is proven before anything new is tried.
    if let Some(dir) = &plan.corpus {
        let (saved, bad) = super::shrink::load(dir);
        for line in bad {
            emit(
                reporters,
                &RunEvent::Notice {
                    message: format!("corpus file skipped: {line}"),
                },
            );
        }
        if !saved.is_empty() {
            emit(
                reporters,
                &RunEvent::Notice {
                    message: format!("replaying {} saved failure(s) from {}", saved.len(), dir.display()),
                },
            );
        }
        let cases: Vec<Case> = saved
            .into_iter()
            .filter(|(_, s)| find_operation(&s.case.operation).is_some())
            .map(|(_, s)| retarget(s.case, &world))
            .collect();
        let (done, late) = run_cases(&exec, cases, plan.jobs).await;
        answered.extend(done);
        out_of_time |= late;
    }
    for phase in &plan.phases {
        if cancelled.load(Ordering::Relaxed) {
            break;
        }
        if *phase == Phase::Stateful {
            let (done, late) = run_sequences(&exec, &world, &operations, plan).await;
            answered.extend(done);
            out_of_time |= late;
            continue;
        }
        let mut cases = Vec::new();
        for op in &operations {
            cases.extend(match phase {
                Phase::Positive => positive_cases(op, &world, plan.seed, plan.max_examples),
                Phase::Negative => negative_cases(op, &world, plan.seed, plan.max_examples),
                _ => coverage_cases(op, &world, plan.seed, plan.max_examples),
            });
        }
        // Another bot's scope is tried only where the run knows one (BP_OTHER_BOT_ID).
        cases.retain(|c| c.scope == Scope::Own || exec.env.other_scope(c.op()).is_some());
        let (done, late) = run_cases(&exec, cases, plan.jobs).await;
        answered.extend(done);
        out_of_time |= late;
    }

    // Shrink and save what failed (stateful steps are reported as their sequence ran).
    let mut failures = Vec::new();
    let mut shrunk: Vec<Answered> = Vec::new();
    let mut kept: Vec<Answered> = Vec::new();
    for a in answered {
        if a.failed() && a.case.phase != Phase::Stateful && shrunk.len() < 50 {
            let minimal = exec.shrink(Answered { ..clone_answered(&a) }).await;
            shrunk.push(minimal);
        } else {
            shrunk.push(Answered { ..clone_answered(&a) });
        }
        kept.push(a);
    }
    for (original, minimal) in kept.iter().zip(&shrunk) {
        if !original.failed() {
            continue;
        }
        let first = original.first_failure().cloned().unwrap_or_else(|| fail("?", "?"));
        let curl = minimal.exchange.curl.clone();
        let saved = match &plan.corpus {
            Some(dir) if original.case.phase != Phase::Replay => super::shrink::save(
                dir,
                &Saved {
                    case: minimal.case.clone(),
                    check: first.check.clone(),
                    message: first.message.clone(),
                    curl: curl.clone(),
                },
            )
            .ok(),
            _ => None,
        };
        failures.push(Failure {
            operation: original.case.operation.clone(),
            phase: original.case.phase,
            meaning: original.case.meaning(),
            check: first.check,
            message: first.message,
            curl,
            saved,
        });
    }

    // Cleanup: everything the run created, newest first.
    let mut leaks = cleanup(&exec).await;
    let Released {
        label,
        embedded,
        capabilities,
        missing_capabilities,
        mut lost,
    } = release_target(target, &exec.ctx.http, &retry, reporters).await;
    leaks.append(&mut lost);

    let scenarios = scenarios_of(&kept, &shrunk, &exec);
    let coverage_rows = std::mem::take(&mut *exec.ctx.coverage.lock().expect("coverage poisoned"));
    let coverage: Vec<_> = OPERATIONS
        .iter()
        .filter_map(|op| coverage_rows.get(op.id).cloned())
        .collect();
    let mut phases: BTreeMap<Phase, PhaseCount> = BTreeMap::new();
    let mut touched = std::collections::BTreeSet::new();
    for a in &kept {
        let count = phases.entry(a.case.phase).or_default();
        count.cases += 1;
        if a.failed() {
            count.failures += 1;
        }
        touched.insert(a.case.operation.clone());
    }
    let summary = FuzzSummary {
        seed: plan.seed,
        cases: kept.len() as u64,
        requests: exec.requests.load(Ordering::Relaxed),
        operations: touched.len() as u64,
        duration: started.elapsed(),
        phases,
        failures,
        out_of_time,
    };
    let mut totals = Summary {
        scenarios: scenarios.len() as u64,
        operations_total: OPERATIONS.len() as u64,
        operations_covered: coverage.len() as u64,
        requests: summary.requests,
        ..Summary::default()
    };
    for s in &scenarios {
        match s.outcome {
            Outcome::Passed => totals.scenarios_passed += 1,
            Outcome::Failed => totals.scenarios_failed += 1,
            Outcome::Skipped => totals.scenarios_skipped += 1,
        }
        for step in &s.steps {
            totals.steps += 1;
            if step.outcome == Outcome::Failed {
                totals.steps_failed += 1;
            }
            for c in &step.checks {
                totals.checks += 1;
                match c.outcome {
                    CheckOutcome::Fail => totals.checks_failed += 1,
                    CheckOutcome::Warn => totals.warnings += 1,
                    CheckOutcome::Pass => {}
                }
            }
        }
    }
    let waited = retry.waited();
    totals.rate_limit_retries = waited.retries;
    totals.rate_limit_wait_ms = waited.total.as_secs_f64() * 1000.0;
    let outcome = if summary.failures.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    let report = RunReport {
        format_version: FORMAT_VERSION,
        tool: format!("bpharness {} fuzz (seed {})", env!("CARGO_PKG_VERSION"), plan.seed),
        target: label,
        embedded,
        capabilities,
        missing_capabilities,
        strict: plan.strict,
        faults: plan.target.server.faults.iter().map(|f| f.name().to_string()).collect(),
        started_at,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        outcome,
        summary: totals,
        scenarios: scenarios.clone(),
        coverage,
        leaks,
    };
    for result in scenarios.into_iter().filter(|s| s.outcome == Outcome::Failed) {
        emit(
            reporters,
            &RunEvent::ScenarioFinished {
                result: Box::new(result),
            },
        );
    }
    emit(
        reporters,
        &RunEvent::RunFinished {
            report: Box::new(report.clone()),
        },
    );
    Ok((report, summary))
}

fn clone_answered(a: &Answered) -> Answered {
    Answered {
        case: a.case.clone(),
        checks: a.checks.clone(),
        exchange: a.exchange.clone(),
        status: a.status,
        body: a.body.clone(),
        elapsed_ms: a.elapsed_ms,
    }
}

/// A saved case aimed at this run's resources: its ids were the last run's.
fn retarget(mut case: Case, world: &World) -> Case {
    let op = case.op();
    if !case.label.starts_with("path ") {
        let mut rng = super::plan::rng_for(0, op, Phase::Replay);
        case.path_params = world.path_params(op, &mut rng);
    }
    if let Body::Json { value } = &mut case.body
        && let Some(map) = value.as_object_mut()
    {
        for (field, id) in [
            ("userId", &world.user),
            ("conversationId", &world.conversation),
            ("messageId", &world.message),
        ] {
            if map.get(field).is_some_and(Value::is_string) {
                map.insert(field.into(), json!(id));
            }
        }
    }
    case.phase = Phase::Replay;
    case
}

/// Runs `cases` with at most `jobs` in flight; cases not started before the deadline are
/// dropped. Returns the answers in case order, and whether time ran out.
async fn run_cases(exec: &Arc<Exec>, cases: Vec<Case>, jobs: usize) -> (Vec<Answered>, bool) {
    let semaphore = Arc::new(Semaphore::new(jobs.max(1)));
    let mut set: JoinSet<(usize, Option<Answered>)> = JoinSet::new();
    for (i, case) in cases.into_iter().enumerate() {
        let (exec, semaphore) = (exec.clone(), semaphore.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore is never closed");
            if Instant::now() > exec.deadline || exec.ctx.is_cancelled() {
                return (i, None);
            }
            (i, Some(exec.send(&case).await))
        });
    }
    let mut done: Vec<(usize, Answered)> = Vec::new();
    let mut late = false;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, Some(a))) => done.push((i, a)),
            Ok((_, None)) => late = true,
            Err(e) => eprintln!("a fuzz task failed: {e}"),
        }
    }
    done.sort_by_key(|(i, _)| *i);
    (done.into_iter().map(|(_, a)| a).collect(), late)
}

/// The run's resources, made through the ledger; what could not be made is said in a note
/// and its cases aim at an unknown id instead.
async fn make_world(exec: &Exec, run_id: &str) -> (World, Vec<String>) {
    let mut world = World {
        prefix: run_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase(),
        bot: exec.env.bot_id.clone().unwrap_or_else(|| UNKNOWN_ID.into()),
        ..World::default()
    };
    world.declare(crate::target::definition::suite_definition());
    let mut notes = Vec::new();
    let mut note =
        |what: &str, e: String| notes.push(format!("fuzz setup: no {what} ({e}); its cases aim at an unknown id"));
    let tag = |key: &str| json!({ key: format!("fuzz-{run_id}") });
    let id_of = |body: &Value, pointer: &str| body.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    let user_tag = world.user_tags.first().cloned().unwrap_or_default();
    let conv_tag = world.conversation_tags.first().cloned().unwrap_or_default();
    for slot in [0, 1] {
        match exec
            .need("createUser", &[], vec![], Some(json!({"tags": tag(&user_tag)})))
            .await
        {
            Ok(b) => {
                let id = id_of(&b, "/user/id").unwrap_or_default();
                if slot == 0 {
                    world.user = id;
                } else {
                    world.user2 = id;
                }
            }
            Err(e) => note("user", e),
        }
    }
    match exec
        .need(
            "createConversation",
            &[],
            vec![],
            Some(json!({"channel": "fuzz", "tags": tag(&conv_tag)})),
        )
        .await
    {
        Ok(b) => world.conversation = id_of(&b, "/conversation/id").unwrap_or_default(),
        Err(e) => note("conversation", e),
    }
    for user in [world.user.clone(), world.user2.clone()] {
        let _ = exec
            .need(
                "addParticipant",
                &[("id", &world.conversation)],
                vec![],
                Some(json!({"userId": user})),
            )
            .await;
    }
    let message = json!({"payload": {"text": "fuzz"}, "userId": world.user, "conversationId": world.conversation, "type": "text", "tags": {}});
    match exec.need("createMessage", &[], vec![], Some(message)).await {
        Ok(b) => world.message = id_of(&b, "/message/id").unwrap_or_default(),
        Err(e) => note("message", e),
    }
    let event_type = world.event_types.first().cloned().unwrap_or_else(|| "fuzz".into());
    match exec
        .need(
            "createEvent",
            &[],
            vec![],
            Some(json!({"type": event_type, "payload": {}, "conversationId": world.conversation})),
        )
        .await
    {
        Ok(b) => world.event = id_of(&b, "/event/id").unwrap_or_default(),
        Err(e) => note("event", e),
    }
    let table = world.unique("Table");
    match exec
        .need(
            "createTable",
            &[],
            vec![],
            Some(json!({"name": table, "schema": table_schema()})),
        )
        .await
    {
        Ok(_) => world.table = table.clone(),
        Err(e) => note("table", e),
    }
    match exec
        .need(
            "createTableRows",
            &[("table", &table)],
            vec![],
            Some(json!({"rows": [{"n": 1, "s": "a"}]})),
        )
        .await
    {
        Ok(b) => world.row = b.pointer("/rows/0/id").and_then(Value::as_u64).unwrap_or(1),
        Err(e) => note("table row", e),
    }
    let key = format!("{}.txt", world.unique("file"));
    match exec
        .need("upsertFile", &[], vec![], Some(json!({"key": key, "size": 5})))
        .await
    {
        Ok(b) => world.file = id_of(&b, "/file/id").unwrap_or_default(),
        Err(e) => note("file", e),
    }
    if exec.env.workspace_id.is_some() {
        match exec
            .need(
                "createBot",
                &[],
                vec![],
                Some(json!({"name": format!("fuzz scratch {run_id}")})),
            )
            .await
        {
            Ok(b) => world.scratch_bot = id_of(&b, "/bot/id"),
            Err(e) => note("scratch bot", e),
        }
        // An issue to read and delete: a failing action opens one on the reference server.
        let _ = exec
            .need("callAction", &[], vec![], Some(json!({"type": "fail", "input": {}})))
            .await;
        let bot = world.bot.clone();
        if let Ok(b) = exec.need("listBotIssues", &[("id", &bot)], vec![], None).await {
            world.issue = b.pointer("/issues/0/id").and_then(Value::as_str).map(str::to_string);
        }
    }
    for slot in [
        &mut world.user,
        &mut world.user2,
        &mut world.conversation,
        &mut world.message,
        &mut world.event,
        &mut world.table,
        &mut world.file,
    ] {
        if slot.is_empty() {
            *slot = UNKNOWN_ID.into();
        }
    }
    (world, notes)
}

/// Deletes what the ledger holds; what cannot be deleted is a leak.
async fn cleanup(exec: &Exec) -> Vec<Leak> {
    let entries = exec.ledger.lock().expect("ledger poisoned").drain_reverse();
    let mut leaks = Vec::new();
    for entry in entries {
        let outgoing = crate::runner::Outgoing {
            method: "DELETE".into(),
            url: format!("{}{}", exec.ctx.base_url, entry.path),
            headers: entry.headers.clone(),
            body: None,
        };
        let operation = match_operation("DELETE", &entry.path);
        let sent = exec.ctx.send(Built { outgoing, operation }).await;
        exec.requests.fetch_add(1, Ordering::Relaxed);
        match &sent.result {
            Ok(got) if (200..300).contains(&got.status) || got.status == 404 => {}
            other => leaks.push(Leak {
                scenario: "fuzz".into(),
                method: "DELETE".into(),
                path: entry.path,
                reason: match other {
                    Ok(got) => format!("answered {}", got.status),
                    Err(e) => e.to_string(),
                },
            }),
        }
    }
    leaks
}

/// The stateful phase: every resource's sequence, `max_examples / 5` times (at least once),
/// the resources in parallel.
async fn run_sequences(
    exec: &Arc<Exec>,
    world: &Arc<World>,
    operations: &[&'static Operation],
    plan: &FuzzPlan,
) -> (Vec<Answered>, bool) {
    let rounds = (plan.max_examples / 5).max(1);
    let mut set: JoinSet<Vec<Answered>> = JoinSet::new();
    let semaphore = Arc::new(Semaphore::new(plan.jobs.max(1)));
    for resource in resources()
        .into_iter()
        .filter(|r| operations.iter().any(|o| o.id == r.create.id))
    {
        for round in 0..rounds {
            let (exec, world, resource, semaphore) = (exec.clone(), world.clone(), resource.clone(), semaphore.clone());
            let seed = plan.seed.wrapping_add(round as u64);
            set.spawn(async move {
                let _permit = semaphore.acquire_owned().await.expect("semaphore is never closed");
                if Instant::now() > exec.deadline || exec.ctx.is_cancelled() {
                    return Vec::new();
                }
                sequence(&exec, &world, &resource, seed).await
            });
        }
    }
    let mut out = Vec::new();
    let mut late = false;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(steps) if steps.is_empty() => late = true,
            Ok(steps) => out.extend(steps),
            Err(e) => eprintln!("a fuzz sequence failed: {e}"),
        }
    }
    out.sort_by(|a, b| a.case.operation.cmp(&b.case.operation));
    (out, late)
}

/// A valid case of `op` for a sequence, aimed at `id`.
fn step_case(op: &'static Operation, world: &World, seed: u64, id: Option<&str>, label: &str) -> Case {
    let mut case = positive_cases(op, world, seed, 1).into_iter().next().expect("one case");
    case.phase = Phase::Stateful;
    case.label = format!("sequence: {label}");
    if let Some(id) = id
        && let Some(slot) = case.path_params.last_mut()
    {
        slot.1 = id.to_string();
    }
    case
}

/// Records the outcome of a sequence rule on the step that showed it.
fn rule(step: &mut Answered, ok: bool, message: String) {
    step.checks.push(if ok {
        pass("sequence", message)
    } else {
        fail("sequence", message)
    });
}

/// One resource's sequence: create → get → get-or-create twice (before an update changes
/// what it matches on) → update → list → delete → get (404).
async fn sequence(exec: &Exec, world: &World, r: &Resource, seed: u64) -> Vec<Answered> {
    let mut steps = Vec::new();
    let mut create = step_case(r.create, world, seed, None, &format!("{} creates", r.create.id));
    // A tag value no other case uses, so lists and get-or-create find this one only.
    let marker = world.unique("seq");
    if let (Some(kind), Some(body)) = (World::tag_kind(r.create), create.body_value().cloned()) {
        let key = match kind {
            "user" => world.user_tags.first(),
            "conversation" => world.conversation_tags.first(),
            _ => world.message_tags.first(),
        };
        if let Some(key) = key {
            let mut body = body;
            body["tags"] = json!({ key: marker });
            create.body = Body::Json { value: body };
        }
    }
    let created = exec.send(&create).await;
    let id = created
        .body
        .as_ref()
        .and_then(|b| b.pointer(r.id_pointer))
        .and_then(Value::as_str)
        .map(str::to_string);
    let ok = created.status.is_some_and(|s| (200..300).contains(&s));
    steps.push(created);
    let Some(id) = id.filter(|_| ok) else {
        return steps;
    };
    if let Some(get) = r.get {
        let mut got = exec
            .send(&step_case(get, world, seed, Some(&id), "get what was created"))
            .await;
        let same = got
            .body
            .as_ref()
            .and_then(|b| b.pointer(r.id_pointer))
            .and_then(Value::as_str)
            == Some(id.as_str());
        rule(&mut got, same, format!("{} finds {id} after {}", get.id, r.create.id));
        steps.push(got);
    }
    if let Some(get_or_create) = r.get_or_create {
        let mut case = step_case(
            get_or_create,
            world,
            seed,
            None,
            "get-or-create twice gives one resource",
        );
        // The creation's own body: every field get-or-create may match on (tags, channel...)
        // is the one the resource was made with.
        if let Some(created_body) = create.body_value() {
            case.body = Body::Json {
                value: created_body.clone(),
            };
        }
        let first = exec.send(&case).await;
        let mut second = exec.send(&case).await;
        let id_of = |a: &Answered| {
            a.body
                .as_ref()
                .and_then(|b| b.pointer(r.id_pointer))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (a, b) = (id_of(&first), id_of(&second));
        if a.is_some() || b.is_some() {
            rule(
                &mut second,
                a == b && a.as_deref() == Some(id.as_str()),
                format!(
                    "{} with the tags of {id} twice: {} then {}",
                    get_or_create.id,
                    a.as_deref().unwrap_or("nothing"),
                    b.as_deref().unwrap_or("nothing")
                ),
            );
        }
        steps.push(first);
        steps.push(second);
    }
    if let Some(update) = r.update {
        steps.push(
            exec.send(&step_case(update, world, seed, Some(&id), "update what was created"))
                .await,
        );
    }
    if let Some(list) = r.list {
        let mut case = step_case(list, world, seed, None, "the list contains what was created");
        case.query.retain(|(n, _)| n == "timeStart");
        // listBots lists development bots only when asked (`dev=true`, ENDPOINTS.md §7).
        if create.body_value().and_then(|b| b.get("dev")) == Some(&json!(true)) {
            case.query.push(("dev".into(), json!(true)));
        }
        if list.path_params_for_own_bot() {
            case.path_params = vec![("id".into(), world.bot.clone())];
        }
        let mut found = false;
        let mut last = None;
        for _ in 0..25 {
            let page = exec.send(&case).await;
            found |= page.body.as_ref().is_some_and(|b| listed_ids(list, b).contains(&id));
            let token = page.body.as_ref().and_then(|b| next_token(list, b));
            last = Some(page);
            match token {
                Some(t) if !found => {
                    case.query.retain(|(n, _)| n != "nextToken");
                    case.query.push(("nextToken".into(), json!(t)));
                }
                _ => break,
            }
        }
        if let Some(mut page) = last {
            rule(&mut page, found, format!("{} lists {id}", list.id));
            steps.push(page);
        }
    }
    if let Some(delete) = r.delete {
        let deleted = exec
            .send(&step_case(delete, world, seed, Some(&id), "delete what was created"))
            .await;
        let gone = deleted.status.is_some_and(|s| (200..300).contains(&s));
        steps.push(deleted);
        if let (Some(get), true) = (r.get, gone) {
            let mut after = exec
                .send(&step_case(get, world, seed, Some(&id), "get after delete"))
                .await;
            let status = after.status;
            rule(
                &mut after,
                status == Some(404),
                format!(
                    "{} of deleted {id} answered {}",
                    get.id,
                    status.map_or("nothing".into(), |s| s.to_string())
                ),
            );
            steps.push(after);
        }
    }
    steps
}

trait OwnBot {
    /// A list whose path names the bot (`/v1/admin/bots/{id}/...`).
    fn path_params_for_own_bot(&self) -> bool;
}

impl OwnBot for Operation {
    fn path_params_for_own_bot(&self) -> bool {
        self.path.starts_with("/v1/admin/bots/{id}/")
    }
}

/// The report's scenarios: one per operation, its cases as steps (the minimal request of a
/// failure first among its exchanges).
fn scenarios_of(answered: &[Answered], shrunk: &[Answered], exec: &Exec) -> Vec<ScenarioResult> {
    let mut by_op: BTreeMap<usize, Vec<StepResult>> = BTreeMap::new();
    for (a, minimal) in answered.iter().zip(shrunk) {
        let index = OPERATIONS.iter().position(|o| o.id == a.case.operation).unwrap_or(0);
        let failed = a.failed();
        let mut exchanges = Vec::new();
        if failed {
            if minimal.exchange.curl != a.exchange.curl {
                exchanges.push(minimal.exchange.clone());
            }
            exchanges.push(a.exchange.clone());
        }
        let mut step = StepResult {
            name: format!("{} {}: {}", a.case.phase.name(), a.case.label, a.case.meaning()),
            section: Section::Steps,
            kind: StepKind::Request,
            line: 0,
            column: 0,
            operation: Some(a.case.operation.clone()),
            outcome: if failed { Outcome::Failed } else { Outcome::Passed },
            duration_ms: a.elapsed_ms,
            checks: if failed {
                a.checks.clone()
            } else {
                // Passing checks are counted, not kept one by one: thousands of cases.
                Vec::new()
            },
            exchanges,
            requests: 1,
            trace: Vec::new(),
            skip: None,
        };
        if !failed {
            step.checks.push(pass(
                "fuzz",
                format!(
                    "{} checks held",
                    a.checks.iter().filter(|c| c.outcome == CheckOutcome::Pass).count()
                ),
            ));
        }
        exec.ctx.redactor.scrub_step(&mut step);
        by_op.entry(index).or_default().push(step);
    }
    by_op
        .into_iter()
        .map(|(index, steps)| {
            let failed = steps.iter().any(|s| s.outcome == Outcome::Failed);
            ScenarioResult {
                name: OPERATIONS[index].id.to_string(),
                file: "fuzz".into(),
                tags: vec!["fuzz".into()],
                outcome: if failed { Outcome::Failed } else { Outcome::Passed },
                duration_ms: steps.iter().map(|s| s.duration_ms).sum(),
                steps,
            }
        })
        .collect()
}

/// The curl line of a case (token masked), for messages.
#[must_use]
pub fn curl_of(case: &Case, base: &str) -> String {
    let env = Env {
        token: "***".into(),
        bot_id: Some("$BP_BOT_ID".into()),
        workspace_id: Some("$BP_WORKSPACE_ID".into()),
        ..Env::default()
    };
    curl_line(&case.outgoing(base, &env))
}
