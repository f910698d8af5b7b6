//! A `poll` step: repeat a request until a status field reaches one of the `until` values
//! or the deadline passes, and check every move of that field against the allowed graph.
//!
//! Checks: `poll-initial` (first value allowed), `poll-transition` (each change allowed by
//! `transitions`), `poll-terminal` (nothing leaves a terminal state), `poll-timeout` (an
//! `until` value reached in time). The observed trace is kept in the step result.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::report::{CheckOutcome, CheckResult, Exchange, StepKind, StepResult};
use crate::scenario::{Step, Vars};

use super::checks::{fail, pass};
use super::exec::Ctx;
use super::step::{capture_value, check_sent, expectation, outcome_of};

/// The states a move from `from` to `to` passes through unobserved, if the graph allows
/// it in more than one step: the shortest such path, without its ends.
fn unobserved_path(
    transitions: &BTreeMap<String, Vec<String>>,
    terminal: &[String],
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(state) = queue.pop_front() {
        if state != from && terminal.iter().any(|t| t == state) {
            continue;
        }
        for next in transitions.get(state).into_iter().flatten() {
            if next == from || came_from.contains_key(next.as_str()) {
                continue;
            }
            came_from.insert(next, state);
            if next == to {
                let mut path = Vec::new();
                let mut at = came_from[to];
                while at != from {
                    path.push(at.to_string());
                    at = came_from[at];
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(next);
        }
    }
    None
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub async fn run_poll(ctx: &Ctx, step: &Step, vars: &mut Vars, result: &mut StepResult) {
    let Some(p) = &step.poll else { return };
    result.kind = StepKind::Poll;
    let started = Instant::now();
    // Deadlines stretch with --time-scale; reads back off (x1.5, at most 2 s apart) so a
    // slow server is not hammered while it deploys or indexes.
    let timeout = Duration::from_millis(p.timeout_ms).mul_f64(ctx.time_scale.max(0.01));
    let deadline = started + timeout;
    let mut interval = Duration::from_millis(p.interval_ms.max(1));
    let longest = Duration::from_secs(2).max(interval);
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut trace: Vec<String> = Vec::new();
    let mut reached = false;
    let mut broken = false;
    // States the graph puts between two reads that saw neither of them.
    let mut gaps: Vec<String> = Vec::new();
    let mut last_read: Option<Instant> = None;
    loop {
        let built = match ctx.build(&p.request, vars, &[], None) {
            Ok(b) => b,
            Err(e) => {
                checks.push(fail("template", e));
                broken = true;
                break;
            }
        };
        result.operation = built.operation.map(|o| o.id.to_string());
        let mut expect = expectation(built.operation, step.expect.as_ref(), None, vars);
        if let Some(schema) = &p.schema {
            expect.schema = Some(format!("responses/{schema}.json"));
        }
        let sent = ctx.send(built).await;
        let read_at = Instant::now();
        let since_last = last_read
            .replace(read_at)
            .map(|at| read_at.duration_since(at).as_millis());
        result.requests += 1;
        let (response_checks, body) = check_sent(ctx, &sent, &expect, None, vars);
        let failed = outcome_of(&response_checks) == crate::report::Outcome::Failed;
        if failed || exchanges.is_empty() {
            exchanges.push(ctx.record(&sent));
        }
        for c in response_checks {
            if c.outcome != CheckOutcome::Pass || !checks.iter().any(|k| k.check == c.check) {
                checks.push(c);
            }
        }
        if failed {
            broken = true;
            break;
        }
        let value = body.as_ref().and_then(|b| {
            serde_json_path::JsonPath::parse(&p.field)
                .ok()
                .and_then(|path| path.query(b).all().first().map(|v| text(v)))
        });
        let Some(value) = value else {
            checks.push(fail("poll-field", format!("no value at {}", p.field)));
            broken = true;
            break;
        };
        match trace.last() {
            None => {
                if !p.initial.is_empty() && !p.initial.contains(&value) {
                    // A later state reached from a starting one before the first read.
                    let reached_from = p.initial.iter().find_map(|start| {
                        unobserved_path(&p.transitions, &p.terminal, start, &value).map(|between| (start, between))
                    });
                    match reached_from {
                        Some((start, between)) if !p.every_state => {
                            let mut unseen = vec![start.clone()];
                            unseen.extend(between);
                            gaps.push(format!("before {value:?}: {}", unseen.join(", ")));
                        }
                        Some((start, between)) => {
                            let mut unseen = vec![start.clone()];
                            unseen.extend(between);
                            checks.push(fail(
                                "poll-transition",
                                format!(
                                    "first observed {value:?}: {} went unseen, and every_state requires each \
                                     state to be observed",
                                    unseen.join(", ")
                                ),
                            ));
                            broken = true;
                        }
                        None => {
                            checks.push(fail(
                                "poll-initial",
                                format!("first observed {value:?}, allowed: {}", p.initial.join(", ")),
                            ));
                            broken = true;
                        }
                    }
                }
                trace.push(value.clone());
            }
            Some(last) if *last != value => {
                let last = last.clone();
                trace.push(value.clone());
                if p.terminal.contains(&last) {
                    checks.push(fail(
                        "poll-terminal",
                        format!(
                            "moved out of terminal state {last:?} to {value:?}; trace {}",
                            trace.join(" → ")
                        ),
                    ));
                    broken = true;
                } else if !p.transitions.is_empty()
                    && !p.transitions.get(&last).is_some_and(|allowed| allowed.contains(&value))
                {
                    let apart = since_last
                        .map(|ms| format!("reads {ms} ms apart; "))
                        .unwrap_or_default();
                    match unobserved_path(&p.transitions, &p.terminal, &last, &value) {
                        Some(between) if !p.every_state => {
                            gaps.push(format!("{last:?} → {value:?} without {}", between.join(", ")));
                        }
                        Some(between) => {
                            checks.push(fail(
                                "poll-transition",
                                format!(
                                    "{last:?} → {value:?} skips {}, and every_state requires each state to be \
                                     observed ({apart}trace {})",
                                    between.join(", "),
                                    trace.join(" → ")
                                ),
                            ));
                            broken = true;
                        }
                        None => {
                            checks.push(fail(
                                "poll-transition",
                                format!(
                                    "{last:?} → {value:?} is not an allowed transition; trace {}",
                                    trace.join(" → ")
                                ),
                            ));
                            broken = true;
                        }
                    }
                }
            }
            Some(_) => {}
        }
        if broken {
            break;
        }
        let until: Vec<String> = p
            .until
            .iter()
            .map(|u| crate::scenario::template::render_string(u, vars).unwrap_or_else(|_| u.clone()))
            .collect();
        if until.contains(&value) {
            reached = true;
            if let (Ok(got), Some(expect)) = (&sent.result, step.expect.as_ref()) {
                checks.extend(super::step::assertions(Some(expect), got, body.as_ref(), vars));
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
            }
            exchanges.push(ctx.record(&sent));
            break;
        }
        if Instant::now() >= deadline || ctx.is_cancelled() {
            break;
        }
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        if !p.every_state {
            // A poll that must see every state keeps its pace.
            interval = interval.mul_f64(1.5).min(longest);
        }
    }
    if !broken {
        if reached {
            checks.push(pass(
                "poll-timeout",
                format!(
                    "reached {} after {} requests",
                    trace.last().cloned().unwrap_or_default(),
                    result.requests
                ),
            ));
            if !p.transitions.is_empty() {
                let unseen = if gaps.is_empty() {
                    String::new()
                } else {
                    format!(" (between reads: {})", gaps.join("; "))
                };
                checks.push(pass("poll-transition", format!("trace {}{unseen}", trace.join(" → "))));
            }
        } else {
            checks.push(fail(
                "poll-timeout",
                format!(
                    "none of {} within {} ms; trace {}",
                    p.until.join(", "),
                    timeout.as_millis(),
                    trace.join(" → ")
                ),
            ));
        }
    }
    result.trace = trace;
    result.checks = checks;
    result.exchanges = exchanges;
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result.outcome = outcome_of(&result.checks);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_graph() -> BTreeMap<String, Vec<String>> {
        [
            (
                "upload_pending",
                vec!["upload_completed", "indexing_pending", "upload_failed"],
            ),
            ("indexing_pending", vec!["indexing_completed", "indexing_failed"]),
        ]
        .into_iter()
        .map(|(from, to)| (from.to_string(), to.into_iter().map(String::from).collect()))
        .collect()
    }

    #[test]
    fn a_move_the_graph_allows_in_steps_names_the_states_between() {
        let g = files_graph();
        let path = unobserved_path(&g, &[], "upload_pending", "indexing_completed");
        assert_eq!(path, Some(vec!["indexing_pending".to_string()]));
    }

    #[test]
    fn no_path_backwards_or_through_a_terminal_state() {
        let g = files_graph();
        assert_eq!(unobserved_path(&g, &[], "indexing_pending", "upload_pending"), None);
        assert_eq!(unobserved_path(&g, &[], "indexing_completed", "indexing_pending"), None);
        let terminal = vec!["indexing_pending".to_string()];
        assert_eq!(
            unobserved_path(&g, &terminal, "upload_pending", "indexing_completed"),
            None
        );
    }
}
