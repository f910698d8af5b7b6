//! A `paginate` step: walk a list to its end and check the walk as a whole.
//!
//! Checks: every page answers with its schema (`page-schema` via the automatic checks),
//! at most `page_limit` items a page (`page-size`), no id twice (`page-unique`), the
//! requested order across pages (`page-order`), an end within `max_pages` and no token
//! served twice (`page-termination`), expected ids present (`page-expected`), deleted ids
//! absent (`page-absent`), and at least `min_pages`/`min_items` (`page-count`).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Value, json};

use crate::report::{CheckOutcome, CheckResult, DiffEntry, Exchange, StepKind, StepResult};
use crate::scenario::template::render_value;
use crate::scenario::{Direction, PageStyle, Paginate, Step, Vars};

use super::checks::{fail, pass};
use super::exec::Ctx;
use super::step::{Exchanged, Shape, exchange, outcome_of};

const KEPT_EXCHANGES: usize = 3;

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ids_of(spec: &Option<Value>, vars: &Vars) -> Result<Vec<String>, String> {
    let Some(spec) = spec else { return Ok(Vec::new()) };
    match render_value(spec, vars).map_err(|e| e.to_string())? {
        // `["{{ids}}", "{{one_more}}"]`: a variable holding a list adds all of its ids.
        Value::Array(items) => Ok(items
            .iter()
            .flat_map(|item| match item {
                Value::Array(inner) => inner.iter().map(id_text).collect(),
                one => vec![id_text(one)],
            })
            .collect()),
        Value::Null => Ok(Vec::new()),
        one => Ok(vec![id_text(&one)]),
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

pub async fn run_paginate(ctx: &Ctx, step: &Step, vars: &mut Vars, result: &mut StepResult) {
    let Some(p) = &step.paginate else { return };
    result.kind = StepKind::Paginate;
    let started = Instant::now();
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut items: Vec<Value> = Vec::new();
    let mut page_sizes: Vec<usize> = Vec::new();
    let mut seen_tokens: HashSet<String> = HashSet::new();
    let mut token: Option<String> = None;
    let mut offset: u64 = 0;
    let mut finished = false;
    let limit = page_limit(p);

    for page in 0..p.max_pages {
        let mut extra = Vec::new();
        let mut body_override = None;
        match p.style {
            PageStyle::MetaNextToken | PageStyle::NextToken => {
                if let Some(t) = &token {
                    extra.push(("nextToken".to_string(), Value::String(t.clone())));
                }
            }
            PageStyle::Offset => {
                let mut body = p.request.body.clone().unwrap_or_else(|| json!({}));
                if let Value::Object(map) = &mut body {
                    map.insert("offset".into(), offset.into());
                }
                body_override = Some(body);
            }
        }
        let shape = Shape {
            schema: p.schema.as_deref(),
            ..Shape::default()
        };
        let Exchanged {
            sent,
            checks: page_checks,
            body,
        } = match exchange(ctx, &p.request, vars, &extra, body_override, shape).await {
            Ok(done) => done,
            Err(e) => {
                checks.push(fail("template", e));
                finished = true;
                break;
            }
        };
        result.operation = sent.built.operation.map(|o| o.id.to_string());
        result.requests += 1;
        let page_failed = outcome_of(&page_checks) == crate::report::Outcome::Failed;
        if page_failed || exchanges.len() < KEPT_EXCHANGES {
            exchanges.push(ctx.record(&sent));
        }
        for mut c in page_checks {
            if c.outcome != CheckOutcome::Pass {
                c.message = format!("page {}: {}", page + 1, c.message);
            }
            if !checks
                .iter()
                .any(|k| k.check == c.check && k.outcome == c.outcome && c.outcome == CheckOutcome::Pass)
            {
                checks.push(c);
            }
        }
        let Some(body) = body.filter(|_| !page_failed) else {
            finished = true;
            break;
        };
        let page_items = body
            .get(&p.items)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        page_sizes.push(page_items.len());
        items.extend(page_items.iter().cloned());
        let next = match p.style {
            PageStyle::MetaNextToken => body
                .pointer("/meta/nextToken")
                .and_then(Value::as_str)
                .map(str::to_string),
            PageStyle::NextToken => body.get("nextToken").and_then(Value::as_str).map(str::to_string),
            PageStyle::Offset => {
                let more = body.get("hasMore").and_then(Value::as_bool).unwrap_or(false);
                offset += page_items.len() as u64;
                (more && !page_items.is_empty()).then(|| offset.to_string())
            }
        };
        match next {
            None => {
                finished = true;
                break;
            }
            Some(t) => {
                if !seen_tokens.insert(t.clone()) {
                    checks.push(fail(
                        "page-termination",
                        format!(
                            "page {}: the same nextToken was served twice; the walk would never end",
                            page + 1
                        ),
                    ));
                    finished = true;
                    break;
                }
                token = Some(t);
            }
        }
    }
    if !finished {
        checks.push(fail(
            "page-termination",
            format!("still a next page after {} pages (max_pages)", p.max_pages),
        ));
    } else if !checks.iter().any(|c| c.check == "page-termination") {
        checks.push(pass(
            "page-termination",
            format!("ended after {} pages", page_sizes.len()),
        ));
    }

    // Page size.
    match page_sizes.iter().enumerate().find(|(_, n)| **n > limit) {
        Some((i, n)) => checks.push(fail(
            "page-size",
            format!("page {} has {n} items, more than the limit {limit}", i + 1),
        )),
        None => checks.push(pass("page-size", format!("every page has at most {limit} items"))),
    }

    // Unique ids.
    let ids: Vec<String> = items.iter().filter_map(|i| i.get(&p.id_field)).map(id_text).collect();
    let mut seen = HashSet::new();
    let dupes: Vec<&String> = ids.iter().filter(|id| !seen.insert(*id)).collect();
    if dupes.is_empty() {
        checks.push(pass("page-unique", format!("{} items, none twice", ids.len())));
    } else {
        checks.push(fail(
            "page-unique",
            format!("{} ids appear more than once, first {}", dupes.len(), dupes[0]),
        ));
    }

    // Order.
    let order = p.order.clone().or_else(|| {
        (p.style != PageStyle::Offset).then(|| crate::scenario::Order {
            field: "createdAt".into(),
            direction: Direction::Desc,
        })
    });
    if let Some(order) = order {
        let values: Vec<Option<&Value>> = items.iter().map(|i| i.get(&order.field)).collect();
        let broken = values.windows(2).enumerate().find_map(|(i, w)| {
            let (Some(a), Some(b)) = (w[0], w[1]) else { return None };
            let ord = compare(a, b)?;
            let ok = match order.direction {
                Direction::Asc => ord != Ordering::Greater,
                Direction::Desc => ord != Ordering::Less,
            };
            (!ok).then_some((i, a.clone(), b.clone()))
        });
        let dir = match order.direction {
            Direction::Asc => "ascending",
            Direction::Desc => "descending",
        };
        match broken {
            None => checks.push(pass("page-order", format!("{} {dir} across pages", order.field))),
            Some((i, a, b)) => {
                let mut c = fail(
                    "page-order",
                    format!(
                        "items {} and {} are not {dir} by {}: {a} then {b}",
                        i + 1,
                        i + 2,
                        order.field
                    ),
                );
                c.diff.push(DiffEntry {
                    path: format!("/{}/{}", i + 1, order.field),
                    expected: None,
                    actual: Some(b),
                    message: format!("after {a}"),
                });
                checks.push(c);
            }
        }
    }

    // Expected and absent ids.
    let present: HashSet<&String> = ids.iter().collect();
    match ids_of(&p.expect_ids, vars) {
        Err(e) => checks.push(fail("template", e)),
        Ok(expected) if !expected.is_empty() => {
            let missing: Vec<&String> = expected.iter().filter(|id| !present.contains(id)).collect();
            if missing.is_empty() {
                checks.push(pass(
                    "page-expected",
                    format!("all {} expected ids seen", expected.len()),
                ));
            } else {
                checks.push(fail(
                    "page-expected",
                    format!(
                        "{} of {} expected ids never seen, first {}",
                        missing.len(),
                        expected.len(),
                        missing[0]
                    ),
                ));
            }
        }
        Ok(_) => {}
    }
    match ids_of(&p.absent_ids, vars) {
        Err(e) => checks.push(fail("template", e)),
        Ok(absent) if !absent.is_empty() => {
            let found: Vec<&String> = absent.iter().filter(|id| present.contains(id)).collect();
            if found.is_empty() {
                checks.push(pass(
                    "page-absent",
                    format!("none of {} deleted ids listed", absent.len()),
                ));
            } else {
                checks.push(fail(
                    "page-absent",
                    format!("{} deleted ids still listed, first {}", found.len(), found[0]),
                ));
            }
        }
        Ok(_) => {}
    }
    if let Some(min) = p.min_pages {
        let n = page_sizes.len() as u32;
        checks.push(if n >= min {
            pass("page-count", format!("{n} pages"))
        } else {
            fail("page-count", format!("{n} pages, expected at least {min}"))
        });
    }
    if let Some(min) = p.min_items {
        let n = items.len() as u32;
        checks.push(if n >= min {
            pass("page-count", format!("{n} items"))
        } else {
            fail("page-count", format!("{n} items, expected at least {min}"))
        });
    }

    // Captures see the whole walk: `$.items` and `$.pages`.
    let walk = json!({ "items": items, "pages": page_sizes.len() });
    for (name, source) in &step.capture {
        if let Some(v) = capture_value_body(source, &walk) {
            vars.insert(name.clone(), v);
        } else {
            checks.push(fail("capture", format!("{name}: nothing at {source} of the walk")));
        }
    }
    result.checks = checks;
    result.exchanges = exchanges;
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result.outcome = outcome_of(&result.checks);
}

fn capture_value_body(source: &str, body: &Value) -> Option<Value> {
    let path = serde_json_path::JsonPath::parse(source).ok()?;
    path.query(body).all().first().map(|v| (*v).clone())
}

/// The most items a page may hold: given, else the documented default of the style.
fn page_limit(p: &Paginate) -> usize {
    match (p.page_limit, p.style) {
        (Some(n), _) => n as usize,
        (None, PageStyle::Offset) => p
            .request
            .body
            .as_ref()
            .and_then(|b| b.get("limit"))
            .and_then(Value::as_u64)
            .unwrap_or(100) as usize,
        (None, _) => 20,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_take_variables_holding_lists_and_single_ids_alike() {
        let vars: Vars = [
            ("ids".to_string(), json!(["usr_1", "usr_2"])),
            ("one".to_string(), json!("usr_3")),
        ]
        .into_iter()
        .collect();
        let spec = Some(json!(["{{ids}}", "{{one}}", "usr_4"]));
        assert_eq!(ids_of(&spec, &vars).unwrap(), ["usr_1", "usr_2", "usr_3", "usr_4"]);
        assert_eq!(ids_of(&Some(json!("{{ids}}")), &vars).unwrap(), ["usr_1", "usr_2"]);
        assert!(ids_of(&Some(json!(["{{missing}}"])), &vars).is_err());
    }
}
