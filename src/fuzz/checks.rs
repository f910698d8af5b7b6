//! The verdict on one answer to a generated case. Every answer gets the runner's automatic
//! checks (no 5xx, JSON, the success body against its schema, the error body against the
//! error contract); on top, what the case's intent demands: valid input accepted (or
//! refused for a reason the docs allow), invalid input refused, no token 401, another
//! bot's scope sees nothing, and a created resource holds what was sent.

use serde_json::Value;

use crate::api::{Area, ErrorType, Operation};
use crate::contract::SchemaSet;
use crate::report::{CheckOutcome, CheckResult};
use crate::runner::{Expectation, Received, check_response};

use super::case::{Case, Intent, Phase, Rule};

/// The refusals a valid case may get, and why. **This is the one place where the docs
/// leave the answer open**; every entry says what allows it.
#[must_use]
pub fn allowed_refusals(op: &Operation, case: &Case) -> Vec<ErrorType> {
    use ErrorType::*;
    // Unknown ids are 404 everywhere, and an unknown id inside a body or query is 400
    // ReferenceNotFound (ERRORS.md); valid cases aim deletes at unknown ids on purpose, and
    // stateful sequences delete resources the other cases use.
    let mut allowed = vec![ResourceNotFound, ReferenceNotFound];
    // Limits and quotas the docs name without numbers (file sizes, bot quotas, plan limits):
    // a value valid by the schema may still be over one.
    allowed.extend([LimitExceeded, QuotaExceeded, PaymentRequired, PayloadTooLarge]);
    // Creations that name things may meet a name already taken.
    if op.id.starts_with("create") || op.id.starts_with("getOrCreate") || op.id.starts_with("upsert") {
        allowed.extend([AlreadyExists, RelationConflict]);
    }
    match op.area {
        // Table bodies are checked against the table's own column schema and naming rules
        // (ENDPOINTS.md §8), which no request schema can express; renameTableColumn aims at
        // a column that does not exist, so the other cases keep theirs.
        Area::Tables | Area::TableRows => allowed.extend([
            InvalidIdentifier,
            InvalidJsonSchema,
            InvalidQuery,
            InvalidPayload,
            AlreadyExists,
            RelationConflict,
            ResourceLockedConflict,
        ]),
        // An action may fail at run time (ERRORS.md `Runtime`); which actions exist is the
        // bot's code, not the contract.
        Area::Actions => allowed.extend([Runtime]),
        _ => {}
    }
    // Page tokens and dates the coverage phase makes up: "an invalid page token" and "an
    // empty date" are answered 400 by some servers and ignored by others; the docs say
    // neither, so both are accepted.
    if case.phase == Phase::Coverage && case.label.starts_with("query ") {
        allowed.extend([InvalidQuery, InvalidPayload]);
    }
    // Values the schema allows but the bot's definition decides: tag keys. A case that
    // really uses a key the bot does not declare may be refused with InvalidPayload (README
    // "Bot definitions"); no other valid case may.
    if case.undeclared {
        allowed.push(InvalidPayload);
    }
    // Path ids the coverage phase makes up (empty, Unicode, very long): 404, or refused as
    // a malformed identifier (the catalogue's InvalidIdentifier).
    if case.label.starts_with("path ") {
        allowed.extend([InvalidIdentifier, InvalidPayload]);
    }
    allowed
}

/// What a refused invalid case may be answered with.
fn allowed_for_invalid(rule: Rule) -> Vec<ErrorType> {
    use ErrorType::*;
    let mut allowed: Vec<ErrorType> = crate::api::ERROR_TYPES
        .into_iter()
        .filter(|t| t.status() == 400)
        .collect();
    // Which comes first, the body check or the id lookup, the docs leave open.
    allowed.push(ResourceNotFound);
    match rule {
        Rule::WrongContentType => allowed.push(UnsupportedMediaType),
        Rule::TooLong | Rule::TooManyItems | Rule::TooLarge => allowed.extend([PayloadTooLarge, LimitExceeded]),
        _ => {}
    }
    allowed
}

/// The checks of one answer, and whether they all held.
pub fn verdict(schemas: &SchemaSet, strict: bool, case: &Case, got: &Received) -> Vec<CheckResult> {
    let op = case.op();
    let got_type = (got.status >= 400)
        .then(|| serde_json::from_slice::<Value>(&got.body).ok())
        .flatten()
        .and_then(|b| b.get("type").and_then(Value::as_str).and_then(ErrorType::from_name));
    let (allowed, primary, check, what): (Vec<ErrorType>, u16, &str, String) = match &case.intent {
        Intent::Valid => (
            allowed_refusals(op, case),
            op.success_status,
            "positive-accepted",
            "valid input".into(),
        ),
        Intent::Invalid { rule, at } => (
            allowed_for_invalid(*rule),
            400,
            "negative-refused",
            format!(
                "input breaking {} at {}",
                rule.name(),
                if at.is_empty() { "/" } else { at }
            ),
        ),
        Intent::NoToken => (vec![ErrorType::Unauthorized], 401, "auth-required", "no token".into()),
        Intent::OtherScope => (
            vec![ErrorType::ResourceNotFound, ErrorType::Forbidden],
            404,
            "scope-isolated",
            "another bot's scope".into(),
        ),
    };
    let refused_as_allowed = got_type.filter(|t| allowed.contains(t) && t.status() == got.status);
    let mut expect = Expectation {
        status: primary,
        ..Expectation::default()
    };
    let mut own = Vec::new();
    if (200..300).contains(&got.status) {
        if case.intent == Intent::Valid {
            expect.schema = Some(format!("responses/{}.json", op.id));
            own.push(pass(check, format!("{what} accepted")));
        } else {
            own.push(fail(check, format!("{what} was accepted with {}", got.status)));
        }
    } else if let Some(t) = refused_as_allowed {
        expect.status = got.status;
        expect.error_type = Some(t.name().to_string());
        own.push(pass(
            check,
            format!("{what} refused with {} {t}, which the docs allow", got.status),
        ));
    } else {
        let ty = got_type.map_or("no catalogue type".to_string(), |t| t.name().to_string());
        let names: Vec<&str> = allowed.iter().map(|t| t.name()).collect();
        own.push(fail(
            check,
            format!(
                "{what}: answered {} {ty}; expected {} or one of {}",
                got.status,
                if case.intent == Intent::Valid {
                    format!("{} (success)", op.success_status)
                } else {
                    primary.to_string()
                },
                names.join(", ")
            ),
        ));
        if case.intent != Intent::Valid {
            let first = allowed.first().copied().unwrap_or(ErrorType::InvalidPayload);
            expect.error_type = Some(first.name().to_string());
            expect.accept_types = allowed.iter().map(|t| t.name().to_string()).collect();
        }
    }
    let checked = check_response(schemas, strict, &expect, got);
    let mut out = checked.checks;
    out.extend(own);
    if let (Some(body), Intent::Valid) = (&checked.body, &case.intent)
        && (200..300).contains(&got.status)
        && let Some(echo) = echo_check(case, body)
    {
        out.push(echo);
    }
    out
}

/// Where a created resource must hold a free-form value exactly as sent.
const ECHOES: &[(&str, &str, &str)] = &[
    ("createMessage", "/payload", "/message/payload"),
    ("createEvent", "/payload", "/event/payload"),
    ("setState", "/payload", "/state/payload"),
    ("callAction", "/input", "/output"),
];

/// The value sent in a free-form field comes back the same. Numbers are compared as
/// doubles: a server in JavaScript reads 2^53 + 1 as 2^53, which the docs do not forbid;
/// a number that comes back as a string, or changed by more than a double's rounding, is
/// mangled.
fn echo_check(case: &Case, body: &Value) -> Option<CheckResult> {
    let (_, sent_at, got_at) = ECHOES.iter().find(|(op, _, _)| *op == case.operation)?;
    if case.operation == "callAction" && case.body_value()?.get("type") != Some(&Value::from("echo")) {
        return None;
    }
    let sent = case.body_value()?.pointer(sent_at)?;
    if sent.is_null() {
        return None;
    }
    let back = body.pointer(got_at)?;
    Some(if same(sent, back) {
        pass("echo", format!("{got_at} holds what was sent"))
    } else {
        fail(
            "echo",
            format!(
                "{got_at} differs from what was sent: sent {}, got {}",
                short(sent),
                short(back)
            ),
        )
    })
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

/// Equal as JSON, numbers compared as doubles.
#[must_use]
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

pub(crate) use crate::runner::{fail, pass};

/// Whether any check failed.
#[must_use]
pub fn failed(checks: &[CheckResult]) -> bool {
    checks.iter().any(|c| c.outcome == CheckOutcome::Fail)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_compare_as_doubles_but_strings_do_not_pass_for_numbers() {
        assert!(same(
            &json!({"a": 9007199254740993u64}),
            &json!({"a": 9007199254740992.0})
        ));
        assert!(!same(
            &json!({"a": 9007199254740993u64}),
            &json!({"a": "9007199254740993"})
        ));
        assert!(!same(&json!([1, 2]), &json!([1])));
    }
}
