//! The checks applied to every response without being written in a scenario: status,
//! no unexpected 5xx, JSON content type, a body that parses, the success body against the
//! operation's schema, the error body against the error schema and catalogue.

use serde_json::Value;

use crate::api::ErrorType;
use crate::contract::{SchemaSet, violations};
use crate::report::{CheckOutcome, CheckResult, DiffEntry};

use super::http::Received;

/// What a response should be.
#[derive(Debug, Clone, Default)]
pub struct Expectation {
    pub status: u16,
    /// Schema of a success body, as a path inside the schema root (`responses/getUser.json`).
    pub schema: Option<String>,
    /// The error type expected (an `expect_error` step).
    pub error_type: Option<String>,
    /// Other error types the docs leave a server free to answer instead.
    pub accept_types: Vec<String>,
    pub message_contains: Option<String>,
    /// Not a JSON API answer (`expect.json: false`): no content-type, json or schema check.
    pub raw: bool,
}

/// The outcome of the automatic checks, with the parsed body when there is one.
pub struct Checked {
    pub checks: Vec<CheckResult>,
    pub body: Option<Value>,
}

pub fn pass(check: &str, message: impl Into<String>) -> CheckResult {
    CheckResult {
        check: check.into(),
        outcome: CheckOutcome::Pass,
        message: message.into(),
        diff: Vec::new(),
    }
}

pub fn fail(check: &str, message: impl Into<String>) -> CheckResult {
    CheckResult {
        check: check.into(),
        outcome: CheckOutcome::Fail,
        message: message.into(),
        diff: Vec::new(),
    }
}

/// Validates `body` against `rel`: real violations fail `check`; unknown extra fields are
/// `check`-extra warnings, failures when `strict`.
pub fn schema_checks(schemas: &SchemaSet, rel: &str, body: &Value, check: &str, strict: bool) -> Vec<CheckResult> {
    let validator = match schemas.validator(rel) {
        Ok(v) => v,
        Err(e) => return vec![fail(check, format!("cannot use schema: {e}"))],
    };
    // The common case, a valid body, without collecting errors: cheap enough to run on
    // every response under load.
    if validator.is_valid(body) {
        return vec![pass(check, format!("body matches {rel}"))];
    }
    let found = violations(&validator, body, 50);
    let (extra, real): (Vec<_>, Vec<_>) = found.into_iter().partition(|v| v.is_extra_field());
    let to_diff = |v: &crate::contract::Violation| DiffEntry {
        path: if v.instance_path.is_empty() {
            "/".into()
        } else {
            v.instance_path.clone()
        },
        expected: None,
        actual: None,
        message: v.message.clone(),
    };
    let mut out = Vec::new();
    if real.is_empty() {
        out.push(pass(check, format!("body matches {rel}")));
    } else {
        let mut result = fail(check, format!("body does not match {rel}: {}", real[0]));
        result.diff = real.iter().map(to_diff).collect();
        out.push(result);
    }
    if !extra.is_empty() {
        let mut result = CheckResult {
            check: format!("{check}-extra"),
            outcome: if strict { CheckOutcome::Fail } else { CheckOutcome::Warn },
            message: format!(
                "unknown extra fields: {}",
                extra.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ),
            diff: Vec::new(),
        };
        result.diff = extra.iter().map(to_diff).collect();
        out.push(result);
    }
    out
}

/// Every automatic check of one response (for a raw expectation: status, no 5xx, no
/// redirect).
pub fn check_response(schemas: &SchemaSet, strict: bool, expect: &Expectation, got: &Received) -> Checked {
    let mut checks = Vec::new();
    let status = got.status;
    // A type the step also accepts brings its own status (the catalogue's): where the docs
    // leave the refusal open, 400 InvalidPayload may stand for 404 ResourceNotFound.
    let accepted = expect
        .accept_types
        .iter()
        .filter_map(|t| ErrorType::from_name(t))
        .any(|t| t.status() == status);
    if status == expect.status || accepted {
        checks.push(pass("status", format!("status {status}")));
    } else {
        let mut result = fail("status", format!("expected status {}, got {status}", expect.status));
        result.diff.push(DiffEntry {
            path: "status".into(),
            expected: Some(expect.status.into()),
            actual: Some(status.into()),
            message: "differs".into(),
        });
        checks.push(result);
    }
    if status >= 500 && expect.status < 500 {
        checks.push(fail("no-5xx", format!("server error {status}")));
    }
    if (300..400).contains(&status) {
        let to = got.header("location").unwrap_or("nowhere");
        checks.push(fail(
            "no-redirect",
            format!("redirect {status} to {to} (not followed: it would carry the token)"),
        ));
    }
    if expect.raw {
        return Checked {
            checks,
            body: serde_json::from_slice(&got.body).ok(),
        };
    }
    let content_type = got.header("content-type").unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" {
        checks.push(pass("content-type", "application/json"));
    } else {
        let shown = if content_type.is_empty() {
            "no content type"
        } else {
            content_type
        };
        checks.push(fail("content-type", format!("expected application/json, got {shown}")));
    }
    let body: Option<Value> = if got.body.is_empty() {
        checks.push(fail("json", "empty body"));
        None
    } else {
        match serde_json::from_slice::<Value>(&got.body) {
            Ok(v) => {
                checks.push(pass("json", "body is JSON"));
                Some(v)
            }
            Err(e) => {
                checks.push(fail("json", format!("body is not valid JSON: {e}")));
                None
            }
        }
    };
    let Some(body) = body else {
        return Checked { checks, body: None };
    };
    if (200..300).contains(&status) {
        if let Some(rel) = &expect.schema {
            checks.extend(schema_checks(schemas, rel, &body, "schema", strict));
        }
    } else if status >= 400 {
        checks.extend(error_checks(schemas, strict, expect, status, &body));
    }
    Checked {
        checks,
        body: Some(body),
    }
}

fn error_checks(
    schemas: &SchemaSet,
    strict: bool,
    expect: &Expectation,
    status: u16,
    body: &Value,
) -> Vec<CheckResult> {
    let mut out = schema_checks(schemas, "error.json", body, "error-body", strict);
    match body.get("code").and_then(Value::as_u64) {
        Some(code) if code == u64::from(status) => out.push(pass("error-code", format!("code {code} = status"))),
        Some(code) => out.push(fail(
            "error-code",
            format!("body code {code} differs from the HTTP status {status}"),
        )),
        None => out.push(fail("error-code", "error body has no numeric code")),
    }
    let ty = body.get("type").and_then(Value::as_str);
    match ty.map(|t| (t, ErrorType::from_name(t))) {
        Some((t, Some(known))) if known.status() == status => {
            out.push(pass("error-catalogue", format!("{t} is a {status} in the catalogue")))
        }
        Some((t, Some(known))) => out.push(fail(
            "error-catalogue",
            format!(
                "{t} is a {} in the catalogue, but came with status {status}",
                known.status()
            ),
        )),
        Some((t, None)) => out.push(fail(
            "error-catalogue",
            format!("{t:?} is not a type of the error catalogue"),
        )),
        None => out.push(fail("error-catalogue", "error body has no type")),
    }
    if let Some(want) = &expect.error_type {
        match ty {
            Some(t) if t == want || expect.accept_types.iter().any(|a| a == t) => {
                out.push(pass("error-type", format!("type {t}")));
            }
            Some(t) => out.push(fail("error-type", format!("expected error type {want}, got {t}"))),
            None => out.push(fail("error-type", format!("expected error type {want}, got no type"))),
        }
    }
    if let Some(fragment) = &expect.message_contains {
        let message = body.get("message").and_then(Value::as_str).unwrap_or("");
        if message.contains(fragment.as_str()) {
            out.push(pass("error-message", format!("message mentions {fragment:?}")));
        } else {
            out.push(fail(
                "error-message",
                format!("message {message:?} does not mention {fragment:?}"),
            ));
        }
    }
    out
}
