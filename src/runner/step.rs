//! A `request` step: render, send (`repeat` times), check, capture, record what it created.

use std::time::Instant;

use serde_json::Value;

use crate::api::Operation;
use crate::report::{CheckOutcome, CheckResult, Exchange, Outcome, StepKind, StepResult};
use crate::scenario::template::{render_string, render_value};
use crate::scenario::{Expect, ExpectError, Step, Vars};

use super::assert::{Subject, evaluate, select};
use super::checks::{Expectation, check_response, fail, pass};
use super::exec::{Ctx, Sent};
use super::http::Received;
use super::ledger::Ledger;

/// Exchanges kept per step when all goes well; failing ones are always kept.
const KEPT_EXCHANGES: usize = 3;

/// What a response should be, from the step's `expect`/`expect_error` and the catalogue.
pub fn expectation(
    op: Option<&Operation>,
    expect: Option<&Expect>,
    error: Option<&ExpectError>,
    vars: &Vars,
) -> Expectation {
    if let Some(e) = error {
        // A fragment that cannot be rendered is kept as written: the check then fails on it.
        let message_contains = e
            .message_contains
            .as_ref()
            .map(|m| crate::scenario::template::render_string(m, vars).unwrap_or_else(|_| m.clone()));
        return Expectation {
            status: e.status,
            schema: None,
            error_type: Some(e.r#type.clone()),
            accept_types: e.accept_types.clone(),
            message_contains,
            raw: false,
        };
    }
    let status = expect
        .and_then(|e| e.status)
        .or(op.map(|o| o.success_status))
        .unwrap_or(200);
    let schema = expect
        .and_then(|e| e.schema.clone())
        .or_else(|| op.map(|o| o.id.to_string()));
    let raw = expect.is_some_and(|e| !e.json);
    Expectation {
        status,
        schema: schema.filter(|_| !raw).map(|s| format!("responses/{s}.json")),
        raw,
        ..Expectation::default()
    }
}

/// `expect.body`: the whole body, as text, is the expected one.
fn body_check(want: &str, got: &Received, vars: &Vars) -> CheckResult {
    let want = match render_string(want, vars) {
        Ok(w) => w,
        Err(e) => return fail("assert", format!("cannot render the expected body: {e}")),
    };
    let actual = String::from_utf8_lossy(&got.body);
    if actual == want {
        return pass("assert", format!("body is the expected {} bytes", want.len()));
    }
    let mut shown: String = actual.chars().take(200).collect();
    if shown.len() < actual.len() {
        shown.push('…');
    }
    fail(
        "assert",
        format!(
            "body ({} bytes) differs from the expected one ({} bytes): {shown:?}",
            got.body.len(),
            want.len()
        ),
    )
}

/// Evaluates the step's written assertions on a response.
pub fn assertions(expect: Option<&Expect>, got: &Received, body: Option<&Value>, vars: &Vars) -> Vec<CheckResult> {
    let Some(expect) = expect else { return Vec::new() };
    let null = Value::Null;
    let body = body.unwrap_or(&null);
    let whole_body = expect.body.as_ref().map(|want| body_check(want, got, vars));
    whole_body
        .into_iter()
        .chain(expect.assert.iter().map(|a| {
            let value = match a.value.as_ref().map(|v| render_value(v, vars)).transpose() {
                Ok(v) => v,
                Err(e) => return fail("assert", format!("cannot render the expected value: {e}")),
            };
            let subject = match (&a.path, &a.header) {
                (Some(path), _) => match select(path, body) {
                    Ok(s) => s,
                    Err(e) => return fail("assert", e),
                },
                (None, Some(name)) => Subject::Header {
                    name,
                    values: got
                        .headers
                        .get_all(name.as_str())
                        .iter()
                        .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
                        .collect(),
                },
                (None, None) => return fail("assert", "assertion names neither a path nor a header"),
            };
            evaluate(&subject, a.op, value.as_ref())
        }))
        .collect()
}

/// The value a capture source names: `$...` JSONPath (first match), `header:Name`, `status`.
pub fn capture_value(source: &str, got: &Received, body: Option<&Value>) -> Option<Value> {
    if source == "status" {
        return Some(got.status.into());
    }
    if let Some(name) = source.strip_prefix("header:") {
        return got.header(name.trim()).map(|v| Value::String(v.into()));
    }
    let body = body?;
    let path = serde_json_path::JsonPath::parse(source).ok()?;
    path.query(body).all().first().map(|v| (*v).clone())
}

pub fn outcome_of(checks: &[CheckResult]) -> Outcome {
    if checks.iter().any(|c| c.outcome == CheckOutcome::Fail) {
        Outcome::Failed
    } else {
        Outcome::Passed
    }
}

/// The checks of one sent request: transport, automatic checks, assertions.
pub fn check_sent(
    ctx: &Ctx,
    sent: &Sent,
    expect: &Expectation,
    written: Option<&Expect>,
    vars: &Vars,
) -> (Vec<CheckResult>, Option<Value>) {
    match &sent.result {
        Err(e) => (vec![fail("transport", e.to_string())], None),
        Ok(got) => {
            let checked = check_response(ctx.schemas, ctx.strict, expect, got);
            let mut checks = checked.checks;
            if let Some(reason) = &sent.rate_limited {
                checks.insert(0, fail("rate-limit", reason.clone()));
            }
            checks.extend(assertions(written, got, checked.body.as_ref(), vars));
            (checks, checked.body)
        }
    }
}

pub async fn run_request(ctx: &Ctx, step: &Step, vars: &mut Vars, ledger: &mut Ledger, result: &mut StepResult) {
    let Some(request) = &step.request else { return };
    result.kind = StepKind::Request;
    let started = Instant::now();
    let times = step.repeat.unwrap_or(1).max(1);
    let mut collected: Vec<(String, Vec<Value>)> = step.capture_all.keys().map(|k| (k.clone(), Vec::new())).collect();
    let mut exchanges: Vec<Exchange> = Vec::new();
    // An interrupt stops the repetitions, unless it came before the step (clean-up steps
    // after an interrupt run whole).
    let interruptible = !ctx.is_cancelled();
    for i in 0..times {
        if i > 0 && interruptible && ctx.is_cancelled() {
            break;
        }
        if step.repeat.is_some() {
            vars.insert("i".into(), i.into());
        }
        let built = match ctx.build(request, vars, &[], None) {
            Ok(b) => b,
            Err(e) => {
                result.checks.push(fail("template", e));
                break;
            }
        };
        let operation = built.operation;
        result.operation = operation.map(|o| o.id.to_string());
        let mut expect = expectation(operation, step.expect.as_ref(), step.expect_error.as_ref(), vars);
        // Wording is not in the contract: checked only where the target words errors as
        // the reference server does.
        if !ctx.capabilities.has("error-wording") {
            expect.message_contains = None;
        }
        let sent = ctx.send(built).await;
        result.requests += 1;
        let (mut checks, body) = check_sent(ctx, &sent, &expect, step.expect.as_ref(), vars);
        if let (Ok(got), Some(op)) = (&sent.result, operation)
            && (200..300).contains(&got.status)
            && let Some(body) = &body
        {
            ledger.record(op.id, body, &sent.built.outgoing.headers);
        }
        if let Ok(got) = &sent.result {
            for (name, source) in &step.capture {
                match capture_value(source, got, body.as_ref()) {
                    Some(v) => {
                        if step.secret.contains(name)
                            && let Some(s) = v.as_str()
                        {
                            ctx.redactor.add(s);
                        }
                        vars.insert(name.clone(), v);
                    }
                    None => checks.push(fail("capture", format!("{name}: nothing at {source}"))),
                }
            }
            for (name, source) in &step.capture_all {
                match capture_value(source, got, body.as_ref()) {
                    Some(v) => collected
                        .iter_mut()
                        .find(|(n, _)| n == name)
                        .expect("declared")
                        .1
                        .push(v),
                    None => checks.push(fail("capture", format!("{name}: nothing at {source}"))),
                }
            }
        }
        let failed = outcome_of(&checks) == Outcome::Failed;
        if failed || exchanges.len() < KEPT_EXCHANGES {
            exchanges.push(ctx.record(&sent));
        }
        // Repeated requests report their checks once per distinct failure, not N times.
        for check in checks {
            if check.outcome == CheckOutcome::Pass && i > 0 {
                continue;
            }
            if !result.checks.contains(&check) {
                result.checks.push(check);
            }
        }
        if failed {
            break;
        }
    }
    if step.repeat.is_some() {
        vars.remove("i");
    }
    for (name, values) in collected {
        vars.insert(name, Value::Array(values));
    }
    if result.checks.is_empty() {
        result.checks.push(pass("template", "rendered"));
    }
    result.exchanges = exchanges;
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result.outcome = outcome_of(&result.checks);
}
