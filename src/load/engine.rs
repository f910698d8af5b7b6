//! The hot path shared by both workload models: a lane's state (variables, connection,
//! recorder), setup once per lane, and one exchange: build the step as the runner does,
//! send it, run the runner's automatic checks and the step's assertions, record.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Notify;

use crate::report::CheckOutcome;
use crate::runner::{
    Ctx, Exchanged, Expectation, Outgoing, Received, Shape, TransportError, assertions, capture_into, capture_value,
    check_response, exchange,
};
use crate::scenario::Vars;
use crate::scenario::template::render_value;

use super::client::{LeanConn, LeanTarget, Prepared};
use super::profile::Workload;
use super::stats::{Outcome, Recorder, Series};

/// Why the load stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EndedBy {
    Running = 0,
    Duration = 1,
    Requests = 2,
    Interrupted = 3,
    Finished = 4,
}

impl EndedBy {
    pub fn name(self) -> &'static str {
        match self {
            EndedBy::Running | EndedBy::Finished => "finished",
            EndedBy::Duration => "duration",
            EndedBy::Requests => "requests",
            EndedBy::Interrupted => "interrupted",
        }
    }

    fn from_u8(v: u8) -> EndedBy {
        match v {
            1 => EndedBy::Duration,
            2 => EndedBy::Requests,
            3 => EndedBy::Interrupted,
            4 => EndedBy::Finished,
            _ => EndedBy::Running,
        }
    }
}

/// A lane's variables: one set per setup scenario, and the requests rendered from them.
pub struct LaneVars {
    pub per_scenario: Vec<Vars>,
    pub ready: Vec<bool>,
    version: u64,
    cache: Vec<Option<(u64, Arc<Rendered>)>>,
    iteration: u64,
    rng: u64,
    /// Cumulative weights of the steps this lane can send (its setup passed).
    table: Vec<(u64, usize)>,
}

/// The step a lane sends next, rendered; `Ok(None)`: it has none; `Err`: its operation
/// and why it does not render.
type Picked = Result<Option<(usize, Arc<Rendered>)>, (usize, String)>;

/// A step rendered with a lane's variables: as the runner sends it, and as the lean
/// client sends it.
pub struct Rendered {
    pub out: Outgoing,
    pub lean: Option<Result<Prepared, TransportError>>,
}

/// One virtual user (closed model) or session (open model). Aligned so that two lanes
/// never share a cache line: each is touched by one user on one thread at a time.
#[repr(align(128))]
pub struct Lane {
    pub vars: Mutex<LaneVars>,
    pub recorder: Mutex<Recorder>,
    pub conn: tokio::sync::Mutex<LeanConn>,
    passed: Mutex<Option<Passed>>,
}

/// The last answer `quick_pass` passed on a lane. Its checks are a function of the step and
/// of the answer's status, content type and body, so a byte-identical answer to the same
/// step passes them too and is not parsed and validated again (a load that reads the same
/// resource gets the same body again and again). Assertions still run on every answer.
struct Passed {
    index: usize,
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
    value: Value,
}

impl Passed {
    fn new(index: usize, got: &Received, value: Value) -> Passed {
        Passed {
            index,
            status: got.status,
            content_type: got.header("content-type").map(str::to_string),
            body: got.body.clone(),
            value,
        }
    }

    /// Whether `got`, an answer to step `index`, is this one again, byte for byte.
    fn answers(&self, index: usize, got: &Received) -> bool {
        self.index == index
            && self.status == got.status
            && self.body == got.body
            && self.content_type.as_deref() == got.header("content-type")
    }
}

/// Everything the lanes share.
pub struct Shared {
    pub ctx: Arc<Ctx>,
    pub workload: Workload,
    /// The success schema of each step, compiled once.
    validators: Vec<Option<Arc<jsonschema::Validator>>>,
    pub lanes: Vec<Lane>,
    pub next_lane: AtomicUsize,
    /// Lanes set up and sending (`bpharness_virtual_users`); 0 once the load is over.
    pub virtual_users: AtomicU64,
    pub lean: Option<LeanTarget>,
    pub timeout: Duration,
    pub max_body: usize,
    pub respect_retry_after: bool,
    /// Set when the load starts; the series counts seconds from here.
    pub started: OnceLock<Instant>,
    pub deadline: OnceLock<Instant>,
    pub duration: Duration,
    budget: Option<AtomicU64>,
    stopped: AtomicBool,
    ended_by: AtomicU8,
    pub stop_notify: Notify,
    pub series: Series,
    /// A request that got a 429, kept for the honesty probe.
    pub limited_request: OnceLock<Outgoing>,
    pub with_retry_after: AtomicU64,
    pub without_retry_after: AtomicU64,
    pub setup_runs: AtomicU64,
    pub setup_failures: Mutex<Vec<String>>,
    pub setup_failed: AtomicU64,
    /// Open model under `--respect-retry-after`: no arrival is sent before this.
    pub backoff_until: Mutex<Option<Instant>>,
}

pub struct SharedConfig {
    pub lanes: usize,
    pub lean: Option<LeanTarget>,
    pub timeout: Duration,
    pub max_body: usize,
    pub respect_retry_after: bool,
    pub duration: Duration,
    pub requests: Option<u64>,
}

impl Shared {
    pub fn new(ctx: Arc<Ctx>, workload: Workload, config: SharedConfig) -> Arc<Shared> {
        let operations = workload.operations.len();
        let scenarios = workload.scenarios.len();
        let steps = workload.steps.len();
        let lanes = (0..config.lanes)
            .map(|index| Lane {
                vars: Mutex::new(LaneVars {
                    per_scenario: vec![Vars::new(); scenarios],
                    ready: vec![false; scenarios],
                    version: 0,
                    cache: vec![None; steps],
                    iteration: 0,
                    rng: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
                    table: Vec::new(),
                }),
                recorder: Mutex::new(Recorder::new(operations)),
                conn: tokio::sync::Mutex::new(LeanConn::default()),
                passed: Mutex::new(None),
            })
            .collect();
        let validators = workload
            .steps
            .iter()
            .map(|s| {
                s.expectation
                    .schema
                    .as_deref()
                    .and_then(|rel| ctx.schemas.validator(rel).ok())
            })
            .collect();
        Arc::new(Shared {
            ctx,
            workload,
            validators,
            lanes,
            next_lane: AtomicUsize::new(0),
            virtual_users: AtomicU64::new(0),
            lean: config.lean,
            timeout: config.timeout,
            max_body: config.max_body,
            respect_retry_after: config.respect_retry_after,
            started: OnceLock::new(),
            deadline: OnceLock::new(),
            duration: config.duration,
            budget: config.requests.map(AtomicU64::new),
            stopped: AtomicBool::new(false),
            ended_by: AtomicU8::new(EndedBy::Running as u8),
            stop_notify: Notify::new(),
            series: Series::default(),
            limited_request: OnceLock::new(),
            with_retry_after: AtomicU64::new(0),
            without_retry_after: AtomicU64::new(0),
            setup_runs: AtomicU64::new(0),
            setup_failures: Mutex::new(Vec::new()),
            setup_failed: AtomicU64::new(0),
            backoff_until: Mutex::new(None),
        })
    }

    /// Starts the clock of the load (once); the duration bound counts from here.
    pub fn start(&self) -> Instant {
        let now = *self.started.get_or_init(Instant::now);
        let _ = self.deadline.set(now + self.duration);
        now
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.get().copied()
    }

    pub fn stop(&self, why: EndedBy) {
        let _ = self
            .ended_by
            .compare_exchange(EndedBy::Running as u8, why as u8, Ordering::SeqCst, Ordering::SeqCst);
        self.stopped.store(true, Ordering::SeqCst);
        self.virtual_users.store(0, Ordering::Relaxed);
        // A setup request waiting out a 429 gives up too.
        self.ctx.cancelled.store(true, Ordering::SeqCst);
        self.stop_notify.notify_waiters();
    }

    pub fn ended_by(&self) -> EndedBy {
        EndedBy::from_u8(self.ended_by.load(Ordering::SeqCst))
    }

    /// Whether the load is over; passing the deadline stops it.
    pub fn is_stopped(&self) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return true;
        }
        if let Some(deadline) = self.deadline()
            && Instant::now() >= deadline
        {
            self.stop(EndedBy::Duration);
            return true;
        }
        false
    }

    /// Waits until the load is over (the deadline, or a stop).
    pub async fn stopped(&self) {
        loop {
            let notified = self.stop_notify.notified();
            if self.is_stopped() {
                return;
            }
            match self.deadline() {
                Some(deadline) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(deadline.into()) => {}
                    }
                }
                None => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            }
        }
    }

    /// Sleeps `d`, or less when the load ends first.
    pub async fn sleep(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.stopped() => {}
        }
    }

    /// Takes one request from the `--requests` budget; `false` when it is spent.
    pub fn take_budget(&self) -> bool {
        match &self.budget {
            None => true,
            Some(left) => {
                let ok = left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if !ok {
                    self.stop(EndedBy::Requests);
                }
                ok
            }
        }
    }

    /// Whole seconds since the start of the load.
    fn second(&self, at: Instant) -> usize {
        self.started
            .get()
            .map(|s| at.saturating_duration_since(*s).as_secs() as usize)
            .unwrap_or(0)
    }

    /// Runs the setup of every scenario for `lane`; returns whether any weighted step can run.
    pub async fn setup_lane(&self, lane: &Lane) -> bool {
        let mut all_vars = Vec::new();
        let mut ready = Vec::new();
        for scenario in &self.workload.scenarios {
            let mut vars: Vars = self.ctx.builtins.clone();
            vars.insert("scenario".into(), Value::String(scenario.name.clone()));
            let mut ok = true;
            for (name, value) in &scenario.vars {
                match render_value(value, &vars) {
                    Ok(v) => {
                        vars.insert(name.clone(), v);
                    }
                    Err(e) => {
                        self.setup_failed(format!("{} / variable {name}: {e}", scenario.name));
                        ok = false;
                    }
                }
            }
            for step in &scenario.setup {
                if !ok {
                    break;
                }
                if let Err(e) = self.setup_step(step, &mut vars).await {
                    self.setup_failed(format!("{} / {}: {e}", scenario.name, step.name));
                    ok = false;
                }
            }
            self.setup_runs.fetch_add(1, Ordering::Relaxed);
            all_vars.push(vars);
            ready.push(ok);
        }
        let mut v = lane.vars.lock().expect("lane poisoned");
        v.per_scenario = all_vars;
        v.ready = ready;
        v.version += 1;
        let mut total = 0;
        v.table.clear();
        for (i, step) in self.workload.steps.iter().enumerate() {
            if v.ready[step.scenario] {
                total += u64::from(step.weight);
                v.table.push((total, i));
            }
        }
        let ready = !v.table.is_empty();
        if ready && !self.is_stopped() {
            self.virtual_users.fetch_add(1, Ordering::Relaxed);
        }
        ready
    }

    fn setup_failed(&self, message: String) {
        self.setup_failed.fetch_add(1, Ordering::Relaxed);
        self.note_setup(message);
    }

    fn note_setup(&self, message: String) {
        let mut list = self.setup_failures.lock().expect("setup list poisoned");
        if list.len() < 10 {
            list.push(message);
        }
    }

    /// One setup request, sent and checked as a run step is: a 429 is waited out from the
    /// same budget (`Ctx::send`), and the load's end interrupts the wait.
    async fn setup_step(&self, step: &crate::scenario::Step, vars: &mut Vars) -> Result<(), String> {
        let request = step.request.as_ref().ok_or("not a request")?;
        if self.is_stopped() {
            return Err("the load ended before this setup step".into());
        }
        let shape = Shape {
            expect: step.expect.as_ref(),
            error: step.expect_error.as_ref(),
            schema: None,
            assertions: true,
        };
        let Exchanged { sent, checks, body } = exchange(&self.ctx, request, vars, &[], None, shape).await?;
        let got = sent.result.as_ref().map_err(|e| e.to_string())?;
        if got.status == 429 && self.ctx.is_cancelled() {
            // The wait for its Retry-After was cut short: say so, not "expected 201, got 429".
            return Err("answered 429; the load ended while this setup step waited to send it again".into());
        }
        // Setup is there to get ids: a wrong status stops it, while a body that breaks
        // its contract is noted and the load goes on (the load steps measure the contract).
        if let Some(bad) = checks
            .iter()
            .find(|c| c.outcome == CheckOutcome::Fail && matches!(c.check.as_str(), "status" | "no-5xx" | "rate-limit"))
        {
            return Err(format!("[{}] {}", bad.check, bad.message));
        }
        if let Some(bad) = checks.iter().find(|c| c.outcome == CheckOutcome::Fail) {
            self.note_setup(format!(
                "{} (contract, the load went on): [{}] {}",
                step.name, bad.check, bad.message
            ));
        }
        if let Some(bad) = capture_into(&self.ctx, step, got, body.as_ref(), vars).first() {
            return Err(format!("[capture] {}", bad.message));
        }
        Ok(())
    }

    /// Picks a weighted step for `lane` and renders it; `None` when the lane has none.
    fn next_request(&self, lane: &Lane) -> Picked {
        let mut v = lane.vars.lock().expect("lane poisoned");
        let Some(&(total, _)) = v.table.last() else {
            return Ok(None);
        };
        // xorshift64*: cheap, and each lane has its own sequence.
        let mut x = v.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.rng = x;
        let pick = x.wrapping_mul(0x2545_F491_4F6C_DD1D) % total;
        let index = v
            .table
            .iter()
            .find(|(upto, _)| pick < *upto)
            .map(|(_, i)| *i)
            .unwrap_or(0);
        let step = &self.workload.steps[index];
        v.iteration += 1;
        let version = v.version;
        if !step.uses_iteration
            && let Some((cached_version, rendered)) = &v.cache[index]
            && *cached_version == version
        {
            return Ok(Some((index, rendered.clone())));
        }
        let iteration = v.iteration;
        let vars = &mut v.per_scenario[step.scenario];
        if step.uses_iteration {
            vars.insert("i".into(), iteration.into());
        }
        let built = self
            .ctx
            .build(&step.request, vars, &[], None)
            .map_err(|e| (step.op, e))?;
        let lean = self.lean.as_ref().map(|target| Prepared::new(target, &built.outgoing));
        let rendered = Arc::new(Rendered {
            out: built.outgoing,
            lean,
        });
        if !step.uses_iteration {
            v.cache[index] = Some((version, rendered.clone()));
        }
        Ok(Some((index, rendered)))
    }

    /// Sends one weighted step for `lane` and records it. `intended`: the open model's
    /// planned send time, from which latency is measured. Returns the wait a 429 asked
    /// for, when there was one; `Err(())` when the lane has nothing to send.
    pub async fn exchange(&self, lane: &Lane, intended: Option<Instant>, pooled: bool) -> Result<Option<u64>, ()> {
        let (index, rendered) = match self.next_request(lane) {
            Ok(Some(pair)) => pair,
            Ok(None) => return Err(()),
            Err((op, message)) => {
                let outcome = Outcome {
                    error: Some("template".into()),
                    contract: vec![("template".into(), message)],
                    ..Outcome::default()
                };
                self.record(lane, op, &outcome);
                return Ok(None);
            }
        };
        let step = &self.workload.steps[index];
        let start = intended.unwrap_or_else(Instant::now);
        let result = match (&self.lean, &rendered.lean, pooled) {
            (Some(target), Some(Ok(prepared)), false) => {
                let mut conn = lane.conn.lock().await;
                conn.send(target, prepared, self.timeout, self.max_body).await
            }
            (Some(_), Some(Err(e)), false) => Err(e.clone()),
            _ => self.ctx.http.send(&rendered.out).await,
        };
        let latency_us = start.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
        let (mut outcome, body, wait) = self.judge(index, &result, lane);
        outcome.latency_us = latency_us;
        if outcome.rate_limited && self.limited_request.get().is_none() {
            let _ = self.limited_request.set(rendered.out.clone());
        }
        if outcome.success
            && !step.capture.is_empty()
            && let Ok(got) = &result
        {
            let mut v = lane.vars.lock().expect("lane poisoned");
            let vars = &mut v.per_scenario[step.scenario];
            for (name, source) in &step.capture {
                if let Some(value) = capture_value(source, got, body.as_ref()) {
                    vars.insert(name.clone(), value);
                }
            }
            v.version += 1;
        }
        self.record(lane, step.op, &outcome);
        Ok(wait)
    }

    fn judge(
        &self,
        index: usize,
        result: &Result<Received, TransportError>,
        lane: &Lane,
    ) -> (Outcome, Option<Value>, Option<u64>) {
        let step = &self.workload.steps[index];
        let (expected, written, scenario) = (&step.expectation, step.expect.as_ref(), step.scenario);
        let got = match result {
            Err(e) => {
                let kind = match e {
                    TransportError::Timeout(_) => "timeout",
                    TransportError::Connect(_) => "connect",
                    TransportError::BodyTooLarge(_) | TransportError::DeclaredTooLarge { .. } => "body-too-large",
                    TransportError::Encoded(_) => "undecodable-body",
                    TransportError::Interrupted => "interrupted",
                    TransportError::Broken(_) => "broken",
                    TransportError::Invalid(_) => "invalid-request",
                };
                let outcome = Outcome {
                    error: Some(format!("transport:{kind}")),
                    ..Outcome::default()
                };
                return (outcome, None, None);
            }
            Ok(got) => got,
        };
        let limited = got.status == 429;
        // The common case without building a check report: every automatic check passes
        // (the same conditions `check_response` tests), so only assertions remain.
        let mut passed = lane.passed.lock().expect("lane poisoned");
        if !limited && !passed.as_ref().is_some_and(|p| p.answers(index, got)) {
            *passed =
                quick_pass(expected, self.validators[index].as_deref(), got).map(|body| Passed::new(index, got, body));
        }
        if !limited && let Some(Passed { value: body, .. }) = passed.as_ref() {
            let mut contract = Vec::new();
            if written.is_some_and(|w| !w.assert.is_empty()) {
                let v = lane.vars.lock().expect("lane poisoned");
                for c in assertions(written, got, Some(body), &v.per_scenario[scenario]) {
                    if c.outcome == CheckOutcome::Fail {
                        contract.push((c.check, c.message));
                    }
                }
            }
            let success = contract.is_empty();
            let outcome = Outcome {
                status: Some(got.status),
                success,
                rate_limited: false,
                error: (!success).then(|| "contract".to_string()),
                contract,
                latency_us: 0,
            };
            // Only captures need the body after this.
            let body = (!step.capture.is_empty()).then(|| body.clone());
            return (outcome, body, None);
        }
        drop(passed);
        let rate_limited_expectation;
        let expect = if limited {
            rate_limited_expectation = Expectation {
                status: 429,
                error_type: Some("RateLimited".into()),
                ..Expectation::default()
            };
            &rate_limited_expectation
        } else {
            expected
        };
        let checked = check_response(self.ctx.schemas, self.ctx.strict, expect, got);
        let mut status_ok = got.status == expected.status;
        let mut contract: Vec<(String, String)> = Vec::new();
        for c in &checked.checks {
            if c.outcome == CheckOutcome::Fail {
                if c.check == "status" || c.check == "no-5xx" {
                    status_ok = false;
                } else {
                    contract.push((c.check.clone(), c.message.clone()));
                }
            }
        }
        let mut wait = None;
        if limited {
            match retry_after(got) {
                Some(s) => {
                    self.with_retry_after.fetch_add(1, Ordering::Relaxed);
                    wait = Some(s);
                }
                None => {
                    self.without_retry_after.fetch_add(1, Ordering::Relaxed);
                    contract.push(("retry-after".into(), "429 without a Retry-After header".into()));
                }
            }
        } else if status_ok && written.is_some_and(|w| !w.assert.is_empty()) {
            let v = lane.vars.lock().expect("lane poisoned");
            for c in assertions(written, got, checked.body.as_ref(), &v.per_scenario[scenario]) {
                if c.outcome == CheckOutcome::Fail {
                    contract.push((c.check, c.message));
                }
            }
        }
        let success = status_ok && contract.is_empty() && !limited;
        let error = if success {
            None
        } else if got.status >= 400 {
            Some(
                checked
                    .body
                    .as_ref()
                    .and_then(|b| b.get("type"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("status:{}", got.status)),
            )
        } else if !contract.is_empty() {
            Some("contract".into())
        } else {
            Some(format!("status:{}", got.status))
        };
        let outcome = Outcome {
            status: Some(got.status),
            success,
            rate_limited: limited,
            error,
            contract,
            latency_us: 0,
        };
        (outcome, checked.body, wait)
    }

    /// Records an outcome that did not come from an exchange (the open model's overflow).
    pub fn record_outcome(&self, lane: usize, op: usize, outcome: &Outcome) {
        self.record(&self.lanes[lane], op, outcome);
    }

    fn record(&self, lane: &Lane, op: usize, outcome: &Outcome) {
        let second = self.second(Instant::now());
        lane.recorder
            .lock()
            .expect("recorder poisoned")
            .record(op, second, outcome, &self.series);
    }

    /// Requests, failures and 429s so far, summed over the lanes (for the progress line:
    /// no shared counter on the hot path).
    pub fn totals(&self) -> (u64, u64, u64) {
        let mut t = (0, 0, 0);
        for lane in &self.lanes {
            let recorder = lane.recorder.lock().expect("recorder poisoned");
            for op in &recorder.ops {
                t.0 += op.requests;
                t.1 += op.failures;
                t.2 += op.rate_limited;
            }
        }
        t
    }

    /// Hands every lane's last second to the series.
    pub fn flush(&self) {
        for lane in &self.lanes {
            lane.recorder.lock().expect("recorder poisoned").flush(&self.series);
        }
    }
}

/// The body when every automatic check of `check_response` passes: the expected (2xx)
/// status, a JSON content type, a body that parses, and one that the schema accepts.
///
/// Its domain is a success expected as a JSON body (2xx, no error type, not raw); outside
/// it, it answers `None` and `check_response` decides. Inside it, `Some` exactly when every
/// check of `check_response` passes with no warning, which the test below proves over many
/// kinds of answer, so a check added to the runner cannot be skipped under load.
fn quick_pass(expect: &Expectation, validator: Option<&jsonschema::Validator>, got: &Received) -> Option<Value> {
    if got.status != expect.status || !(200..300).contains(&got.status) || expect.error_type.is_some() || expect.raw {
        return None;
    }
    let content_type = got.header("content-type")?;
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") || got.body.is_empty() {
        return None;
    }
    let body: Value = serde_json::from_slice(&got.body).ok()?;
    match (&expect.schema, validator) {
        (None, _) => Some(body),
        (Some(_), Some(v)) if v.is_valid(&body) => Some(body),
        _ => None,
    }
}

/// `Retry-After` in whole seconds (the delay form; an HTTP date counts as absent).
pub fn retry_after(got: &Received) -> Option<u64> {
    got.header("retry-after")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    use super::*;
    use crate::contract::SchemaSet;
    use crate::runner::check_response;

    #[test]
    fn a_passed_answer_is_reused_only_when_byte_identical() {
        let body = br#"{"user":{"id":"user_1"}}"#;
        let first = answer(200, Some("application/json"), body);
        let passed = Passed::new(3, &first, json!({"user": {"id": "user_1"}}));
        assert!(passed.answers(3, &answer(200, Some("application/json"), body)));
        let differs = [
            (4, answer(200, Some("application/json"), body)),
            (3, answer(201, Some("application/json"), body)),
            (3, answer(200, Some("application/json; charset=utf-8"), body)),
            (3, answer(200, None, body)),
            (3, answer(200, Some("application/json"), br#"{"user":{"id":"user_2"}}"#)),
            (
                3,
                answer(200, Some("application/json"), br#"{"user":{"id":"user_1"}} "#),
            ),
        ];
        for (index, got) in &differs {
            assert!(
                !passed.answers(*index, got),
                "{index} {} {:?}",
                got.status,
                got.header("content-type")
            );
        }
    }

    fn answer(status: u16, content_type: Option<&str>, body: &[u8]) -> Received {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        if (300..400).contains(&status) {
            headers.insert("location", HeaderValue::from_static("http://elsewhere.invalid/"));
        }
        Received {
            status,
            headers,
            body: body.to_vec(),
            elapsed: Duration::ZERO,
        }
    }

    /// Bodies of every kind a server may send: valid, extra fields at two depths, a
    /// missing or mistyped field, not JSON, empty, an error body right and wrong.
    fn bodies() -> Vec<(&'static str, Vec<u8>)> {
        let user = json!({"id": "user_01JZ0000000000000000000000", "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z", "tags": {}});
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = json!({ "user": user.clone() });
            f(&mut v);
            serde_json::to_vec(&v).unwrap()
        };
        vec![
            ("valid", with(&|_| {})),
            ("valid with optional name", with(&|v| v["user"]["name"] = json!("Ada"))),
            ("extra top-level field", with(&|v| v["extra"] = json!(1))),
            ("extra nested field", with(&|v| v["user"]["extra"] = json!("x"))),
            (
                "missing required field",
                with(&|v| {
                    v["user"].as_object_mut().unwrap().remove("createdAt");
                }),
            ),
            ("wrong type", with(&|v| v["user"]["tags"] = json!("not an object"))),
            ("null where none is allowed", with(&|v| v["user"]["id"] = Value::Null)),
            ("bad timestamp", with(&|v| v["user"]["createdAt"] = json!("yesterday"))),
            ("not JSON", b"{\"user\": ".to_vec()),
            ("HTML", b"<html>oops</html>".to_vec()),
            ("empty", Vec::new()),
            ("JSON array", b"[]".to_vec()),
            (
                "error body",
                serde_json::to_vec(
                    &json!({"id": "err_1", "code": 404, "type": "ResourceNotFound", "message": "no such user"}),
                )
                .unwrap(),
            ),
            (
                "error body, wrong code",
                serde_json::to_vec(&json!({"id": "err_1", "code": 500, "type": "ResourceNotFound", "message": "x"}))
                    .unwrap(),
            ),
            (
                "error body, unknown type",
                serde_json::to_vec(&json!({"id": "err_1", "code": 404, "type": "Nope", "message": "x"})).unwrap(),
            ),
            (
                "error body, extra field",
                serde_json::to_vec(
                    &json!({"id": "err_1", "code": 404, "type": "ResourceNotFound", "message": "x", "more": 1}),
                )
                .unwrap(),
            ),
        ]
    }

    fn expectations() -> Vec<(&'static str, Expectation)> {
        let schema = Some("responses/getUser.json".to_string());
        vec![
            (
                "200 with schema",
                Expectation {
                    status: 200,
                    schema: schema.clone(),
                    ..Expectation::default()
                },
            ),
            (
                "201 with schema",
                Expectation {
                    status: 201,
                    schema,
                    ..Expectation::default()
                },
            ),
            (
                "200 without schema",
                Expectation {
                    status: 200,
                    ..Expectation::default()
                },
            ),
            (
                "200 raw",
                Expectation {
                    status: 200,
                    raw: true,
                    ..Expectation::default()
                },
            ),
            (
                "404 error",
                Expectation {
                    status: 404,
                    error_type: Some("ResourceNotFound".into()),
                    message_contains: Some("no such".into()),
                    ..Expectation::default()
                },
            ),
        ]
    }

    /// Every automatic check `check_response` has; a check it emits that is not here fails
    /// the test below until a case that makes it fail is added.
    const KNOWN_CHECKS: [&str; 13] = [
        "status",
        "no-5xx",
        "no-redirect",
        "content-type",
        "json",
        "schema",
        "schema-extra",
        "error-body",
        "error-body-extra",
        "error-code",
        "error-catalogue",
        "error-type",
        "error-message",
    ];

    #[test]
    fn quick_pass_agrees_with_every_check_of_the_runner() {
        let schemas = SchemaSet::embedded();
        let statuses = [200, 201, 204, 302, 400, 404, 429, 500, 503];
        let types = [
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("Application/JSON"),
            Some("text/plain"),
            Some("application/jsonx"),
            Some("application/problem+json"),
            None,
        ];
        let (mut fast, mut cases) = (0, 0);
        let mut failed_checks = BTreeSet::new();
        for (what, expect) in expectations() {
            let validator = expect.schema.as_deref().map(|rel| schemas.validator(rel).unwrap());
            for status in statuses {
                for content_type in types {
                    for (body_kind, body) in bodies() {
                        for strict in [false, true] {
                            cases += 1;
                            let got = answer(status, content_type, &body);
                            let checked = check_response(schemas, strict, &expect, &got);
                            for c in &checked.checks {
                                assert!(
                                    KNOWN_CHECKS.contains(&c.check.as_str()),
                                    "check_response has a new check {:?}: add it to KNOWN_CHECKS with a case that makes it fail",
                                    c.check
                                );
                                if c.outcome != CheckOutcome::Pass {
                                    failed_checks.insert(c.check.clone());
                                }
                            }
                            let all_pass = checked.checks.iter().all(|c| c.outcome == CheckOutcome::Pass);
                            let quick = quick_pass(&expect, validator.as_deref(), &got);
                            let case =
                                format!("{what}, status {status}, {content_type:?}, {body_kind}, strict {strict}");
                            if let Some(body) = &quick {
                                // The fast path never passes what a check fails or warns about.
                                assert!(
                                    all_pass,
                                    "quick_pass passed what check_response did not: {case}: {:?}",
                                    checked
                                        .checks
                                        .iter()
                                        .filter(|c| c.outcome != CheckOutcome::Pass)
                                        .map(|c| &c.check)
                                        .collect::<Vec<_>>()
                                );
                                assert_eq!(Some(body), checked.body.as_ref(), "{case}");
                                fast += 1;
                            }
                            let in_domain =
                                (200..300).contains(&expect.status) && expect.error_type.is_none() && !expect.raw;
                            if in_domain {
                                assert_eq!(
                                    quick.is_some(),
                                    all_pass,
                                    "quick_pass and check_response disagree: {case}"
                                );
                            } else {
                                assert!(quick.is_none(), "outside its domain quick_pass defers: {case}");
                            }
                        }
                    }
                }
            }
        }
        assert!(
            fast > 0 && fast < cases,
            "the cases reach both paths: {fast} of {cases}"
        );
        let never: Vec<&str> = KNOWN_CHECKS
            .iter()
            .copied()
            .filter(|c| !failed_checks.contains(*c))
            .collect();
        assert!(never.is_empty(), "no case makes these checks fail: {never:?}");
    }
}
