//! Assertions written in scenarios: a JSONPath (or a header), an operator, a value.

use std::cmp::Ordering;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::report::{CheckOutcome, CheckResult, DiffEntry};
use crate::scenario::AssertOp;

use super::diff::json_diff;

/// What an assertion looks at: the nodes a JSONPath selects, or a header's values.
pub enum Subject<'a> {
    Body { path: &'a str, nodes: Vec<&'a Value> },
    Header { name: &'a str, values: Vec<Value> },
}

impl Subject<'_> {
    fn label(&self) -> String {
        match self {
            Subject::Body { path, .. } => (*path).to_string(),
            Subject::Header { name, .. } => format!("header {name}"),
        }
    }

    fn values(&self) -> Vec<&Value> {
        match self {
            Subject::Body { nodes, .. } => nodes.clone(),
            Subject::Header { values, .. } => values.iter().collect(),
        }
    }
}

/// Selects the nodes of `path` in `body`; a path that does not parse is reported as such
/// (the loader checks paths, so this only happens with templated paths).
pub fn select<'a>(path: &'a str, body: &'a Value) -> Result<Subject<'a>, String> {
    let parsed = JsonPath::parse(path).map_err(|e| format!("invalid JSONPath {path:?}: {e}"))?;
    Ok(Subject::Body {
        path,
        nodes: parsed.query(body).all(),
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// JSON equality where numbers compare by value (`3` equals `3.0`, `0` equals `-0.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 120 {
        format!(
            "{}…",
            &text[..text.char_indices().nth(117).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

/// Evaluates one assertion. `expected` is the assertion's value, already rendered.
pub fn evaluate(subject: &Subject<'_>, op: AssertOp, expected: Option<&Value>) -> CheckResult {
    let label = subject.label();
    let nodes = subject.values();
    let want = expected.cloned().unwrap_or(Value::Bool(true));
    let single = || -> Result<&Value, String> {
        match nodes.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("{label}: no value there")),
            many => Err(format!("{label}: {} values where one was expected", many.len())),
        }
    };
    let mut diff = Vec::new();
    let verdict: Result<String, String> = match op {
        AssertOp::Eq => single().and_then(|actual| {
            if same(actual, &want) {
                Ok(format!("{label} == {}", short(&want)))
            } else {
                diff = json_diff("", &want, actual, 20);
                Err(format!("{label}: expected {}, got {}", short(&want), short(actual)))
            }
        }),
        AssertOp::Ne => match nodes.as_slice() {
            [] => Ok(format!("{label} is absent, so != {}", short(&want))),
            _ => single().and_then(|actual| {
                if !same(actual, &want) {
                    Ok(format!("{label} != {}", short(&want)))
                } else {
                    Err(format!("{label}: expected anything but {}", short(&want)))
                }
            }),
        },
        AssertOp::Lt | AssertOp::Le | AssertOp::Gt | AssertOp::Ge => single().and_then(|actual| {
            let ok = match compare(actual, &want) {
                None => {
                    return Err(format!(
                        "{label}: {} and {} cannot be compared",
                        short(actual),
                        short(&want)
                    ));
                }
                Some(ord) => match op {
                    AssertOp::Lt => ord == Ordering::Less,
                    AssertOp::Le => ord != Ordering::Greater,
                    AssertOp::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                },
            };
            if ok {
                Ok(format!("{label} {op} {}", short(&want)))
            } else {
                Err(format!(
                    "{label}: expected {op} {}, got {}",
                    short(&want),
                    short(actual)
                ))
            }
        }),
        AssertOp::Exists => {
            let should = want.as_bool().unwrap_or(true);
            match (should, nodes.is_empty()) {
                (true, false) => Ok(format!("{label} exists")),
                (false, true) => Ok(format!("{label} is absent")),
                (true, true) => Err(format!("{label}: expected a value, found none")),
                (false, false) => Err(format!("{label}: expected no value, found {}", short(nodes[0]))),
            }
        }
        AssertOp::Contains => single().and_then(|actual| {
            let ok = match (actual, &want) {
                (Value::String(s), Value::String(w)) => s.contains(w.as_str()),
                (Value::Array(items), w) => items.contains(w),
                (Value::Object(map), Value::String(k)) => map.contains_key(k),
                _ => false,
            };
            if ok {
                Ok(format!("{label} contains {}", short(&want)))
            } else {
                Err(format!("{label}: {} does not contain {}", short(actual), short(&want)))
            }
        }),
        AssertOp::Matches => single().and_then(|actual| {
            let pattern = want.as_str().unwrap_or_default();
            let re = regex::Regex::new(pattern).map_err(|e| format!("invalid regex {pattern:?}: {e}"))?;
            match actual.as_str() {
                Some(s) if re.is_match(s) => Ok(format!("{label} matches {pattern}")),
                _ => Err(format!("{label}: {} does not match {pattern}", short(actual))),
            }
        }),
        AssertOp::Count => {
            let n = nodes.len() as u64;
            match want.as_u64() {
                Some(w) if w == n => Ok(format!("{label} has {n} values")),
                Some(w) => Err(format!("{label}: expected {w} values, got {n}")),
                None => Err(format!("count needs a whole number, got {}", short(&want))),
            }
        }
        AssertOp::Type => single().and_then(|actual| {
            let t = json_type(actual);
            let w = want.as_str().unwrap_or_default();
            if t == w || (w == "number" && t == "integer") {
                Ok(format!("{label} is a {w}"))
            } else {
                Err(format!("{label}: expected a {w}, got a {t}"))
            }
        }),
    };
    match verdict {
        Ok(message) => CheckResult {
            check: "assert".into(),
            outcome: CheckOutcome::Pass,
            message,
            diff: Vec::new(),
        },
        Err(message) => {
            if diff.is_empty() {
                diff.push(DiffEntry {
                    path: label,
                    expected: expected.cloned(),
                    actual: nodes.first().map(|v| (*v).clone()),
                    message: message.clone(),
                });
            }
            CheckResult {
                check: "assert".into(),
                outcome: CheckOutcome::Fail,
                message,
                diff,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case("$.user.name", AssertOp::Eq, json!("Ada"), true)]
    #[case("$.user.age", AssertOp::Eq, json!(36.0), true)]
    #[case("$.user.gone", AssertOp::Eq, json!(null), true)]
    #[case("$.user.name", AssertOp::Eq, json!("Bob"), false)]
    #[case("$.user.name", AssertOp::Ne, json!("Bob"), true)]
    #[case("$.user.age", AssertOp::Lt, json!(40), true)]
    #[case("$.user.age", AssertOp::Ge, json!(40), false)]
    #[case("$.user.createdAt", AssertOp::Lt, json!("2026-01-01T00:00:00.000Z"), true)]
    #[case("$.user.name", AssertOp::Exists, json!(true), true)]
    #[case("$.user.nope", AssertOp::Exists, json!(false), true)]
    #[case("$.user.nope", AssertOp::Exists, json!(true), false)]
    #[case("$.user.name", AssertOp::Contains, json!("d"), true)]
    #[case("$.user.list", AssertOp::Contains, json!(2), true)]
    #[case("$.user.tags", AssertOp::Contains, json!("k"), true)]
    #[case("$.user.name", AssertOp::Matches, json!("^A.a$"), true)]
    #[case("$.user.name", AssertOp::Matches, json!("^B"), false)]
    #[case("$.user.list[*]", AssertOp::Count, json!(3), true)]
    #[case("$.user.list[*]", AssertOp::Count, json!(2), false)]
    #[case("$.user.age", AssertOp::Type, json!("integer"), true)]
    #[case("$.user.age", AssertOp::Type, json!("number"), true)]
    #[case("$.user.name", AssertOp::Type, json!("number"), false)]
    fn evaluates(#[case] path: &str, #[case] op: AssertOp, #[case] value: Value, #[case] pass: bool) {
        let body = json!({ "user": { "name": "Ada", "age": 36, "gone": null, "createdAt": "2025-01-01T00:00:00.000Z",
            "list": [1, 2, 3], "tags": { "k": "v" } } });
        let subject = select(path, &body).unwrap();
        let result = evaluate(&subject, op, Some(&value));
        assert_eq!(result.outcome == CheckOutcome::Pass, pass, "{}", result.message);
    }

    #[test]
    fn equality_failures_carry_a_diff() {
        let body = json!({ "a": { "b": 1, "c": 2 } });
        let result = evaluate(
            &select("$.a", &body).unwrap(),
            AssertOp::Eq,
            Some(&json!({ "b": 1, "c": 3 })),
        );
        assert_eq!(result.diff[0].path, "/c");
    }
}
