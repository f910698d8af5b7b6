//! Running one scenario: setup, steps, teardown, then the cleanup ledger, sending a
//! `StepFinished` event for each step as it ends.

use std::time::Instant;

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use crate::report::{Leak, Outcome, RunEvent, ScenarioResult, Section, Skip, SkipKind, StepKind, StepResult};
use crate::scenario::template::render_value;
use crate::scenario::{LoadedScenario, Section as FileSection, Step, Vars};

use super::checks::{fail, pass};
use super::exec::Ctx;
use super::gate::{Owed, undeclared, unmet, used_variables};
use super::http::Outgoing;
use super::ledger::Ledger;
use super::paginate::run_paginate;
use super::poll::run_poll;
use super::step::{outcome_of, run_request};

fn report_section(section: FileSection) -> Section {
    match section {
        FileSection::Setup => Section::Setup,
        FileSection::Steps => Section::Steps,
        FileSection::Teardown => Section::Teardown,
    }
}

fn blank(step: &Step, section: Section, (line, column): (usize, usize)) -> StepResult {
    StepResult {
        name: step.name.clone(),
        section,
        kind: if step.paginate.is_some() {
            StepKind::Paginate
        } else if step.poll.is_some() {
            StepKind::Poll
        } else {
            StepKind::Request
        },
        line,
        column,
        operation: None,
        outcome: Outcome::Skipped,
        duration_ms: 0.0,
        checks: Vec::new(),
        exchanges: Vec::new(),
        requests: 0,
        trace: Vec::new(),
        skip: None,
    }
}

/// Runs `loaded` against the target of `ctx`.
pub async fn run_scenario(
    ctx: &Ctx,
    loaded: &LoadedScenario,
    events: &UnboundedSender<RunEvent>,
) -> (ScenarioResult, Vec<Leak>) {
    let scenario = &loaded.scenario;
    let file = loaded.source.path.display().to_string();
    let started = Instant::now();
    let _ = events.send(RunEvent::ScenarioStarted {
        name: scenario.name.clone(),
        file: file.clone(),
    });
    let mut vars: Vars = ctx.builtins.clone();
    vars.insert("scenario".into(), Value::String(scenario.name.clone()));
    let mut steps: Vec<StepResult> = Vec::new();
    let mut owed = Owed::default();
    for (name, value) in &scenario.vars {
        match render_value(value, &vars) {
            Ok(v) => {
                vars.insert(name.clone(), v);
            }
            Err(e) => {
                let mut r = StepResult {
                    name: format!("variable {name}"),
                    ..blank(&empty_step(), Section::Setup, (0, 0))
                };
                r.checks.push(fail("template", e.to_string()));
                r.outcome = Outcome::Failed;
                steps.push(r);
                owed.owe(name, &format!("variable {name}"));
            }
        }
    }
    let mut ledger = Ledger::default();
    // A scenario builds on its own steps (users made in setup are listed later), so one
    // step relying on a name the bot does not declare skips the whole scenario.
    let undeclared_here = scenario
        .all_steps()
        .find_map(|(_, _, step)| undeclared(&ctx.undeclared, step));
    for (section, index, step) in scenario.all_steps() {
        let mut result = blank(step, report_section(section), loaded.step_location(section, index));
        let captures: Vec<&String> = step.capture.keys().chain(step.capture_all.keys()).collect();
        let used = used_variables(step);
        let interrupted = (ctx.is_cancelled() && section != FileSection::Teardown).then(|| Skip {
            kind: SkipKind::Interrupted,
            reason: "the run was interrupted before this step".into(),
        });
        let skip = interrupted
            .or_else(|| undeclared_here.clone())
            .or_else(|| unmet(&ctx.capabilities, &scenario.requires, step, &used))
            .or_else(|| owed.blocks(&used));
        if let Some(skip) = skip {
            for name in &captures {
                owed.owe(name, &step.name);
            }
            result.skip = Some(skip);
        } else {
            let before: Vec<Option<Value>> = captures.iter().map(|n| vars.get(*n).cloned()).collect();
            if step.request.is_some() {
                run_request(ctx, step, &mut vars, &mut ledger, &mut result).await;
            } else if step.paginate.is_some() {
                run_paginate(ctx, step, &mut vars, &mut result).await;
            } else if step.poll.is_some() {
                run_poll(ctx, step, &mut vars, &mut result).await;
            }
            ctx.redactor.scrub_step(&mut result);
            // A failed step owes the variables it did not get to capture.
            for (name, was) in captures.iter().zip(before) {
                if result.outcome == Outcome::Failed && vars.get(*name) == was.as_ref() {
                    owed.owe(name, &step.name);
                } else {
                    owed.settle(name);
                }
            }
        }
        let _ = events.send(RunEvent::StepFinished {
            scenario: scenario.name.clone(),
            step: Box::new(result.clone()),
        });
        steps.push(result);
    }
    let (cleanup, leaks) = cleanup(ctx, &scenario.name, &mut ledger).await;
    if let Some(mut cleanup) = cleanup {
        ctx.redactor.scrub_step(&mut cleanup);
        let _ = events.send(RunEvent::StepFinished {
            scenario: scenario.name.clone(),
            step: Box::new(cleanup.clone()),
        });
        steps.push(cleanup);
    }
    let outcome = if steps.iter().any(|s| s.outcome == Outcome::Failed) {
        Outcome::Failed
    } else if steps.iter().all(|s| s.outcome == Outcome::Skipped) && !steps.is_empty() {
        Outcome::Skipped
    } else {
        Outcome::Passed
    };
    let result = ScenarioResult {
        name: scenario.name.clone(),
        file,
        tags: scenario.tags.clone(),
        outcome,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        steps,
    };
    let _ = events.send(RunEvent::ScenarioFinished {
        result: Box::new(result.clone()),
    });
    (result, leaks)
}

fn empty_step() -> Step {
    Step {
        name: String::new(),
        request: None,
        paginate: None,
        poll: None,
        requires: Vec::new(),
        repeat: None,
        expect: None,
        expect_error: None,
        capture: Default::default(),
        capture_all: Default::default(),
        secret: Vec::new(),
    }
}

/// Deletes what the scenario created, newest first. Gone already (404) counts as deleted;
/// anything else is a leak. Leaks are reported, not failures: the scenario's verdict is
/// about the contract, the leak list about the target's hygiene.
async fn cleanup(ctx: &Ctx, scenario: &str, ledger: &mut Ledger) -> (Option<StepResult>, Vec<Leak>) {
    if ledger.is_empty() {
        return (None, Vec::new());
    }
    let started = Instant::now();
    let mut result = StepResult {
        name: "cleanup ledger".into(),
        kind: StepKind::Cleanup,
        ..blank(&empty_step(), Section::Cleanup, (0, 0))
    };
    let mut leaks = Vec::new();
    let mut deleted = 0;
    for entry in ledger.drain_reverse() {
        let mut headers = entry.headers.clone();
        headers.retain(|(n, _)| n != "content-type");
        headers.push(("content-type".into(), "application/json".into()));
        let out = Outgoing {
            method: "DELETE".into(),
            url: format!("{}{}", ctx.base_url, entry.path),
            headers,
            body: Some(b"{}".to_vec()),
        };
        result.requests += 1;
        // Through `Ctx::send`, so a rate-limited delete is waited out, not leaked.
        let sent = ctx
            .send(super::exec::Built {
                outgoing: out,
                operation: None,
            })
            .await;
        match sent.result {
            Ok(r) if (200..300).contains(&r.status) || r.status == 404 => deleted += 1,
            Ok(r) => leaks.push(Leak {
                scenario: scenario.into(),
                method: "DELETE".into(),
                path: entry.path,
                reason: format!("status {}", r.status),
            }),
            Err(e) => leaks.push(Leak {
                scenario: scenario.into(),
                method: "DELETE".into(),
                path: entry.path,
                reason: e.to_string(),
            }),
        }
    }
    result
        .checks
        .push(pass("cleanup", format!("deleted {deleted} resources")));
    if !leaks.is_empty() {
        result.checks.push(crate::report::CheckResult {
            check: "cleanup".into(),
            outcome: crate::report::CheckOutcome::Warn,
            message: format!("{} resources could not be deleted", leaks.len()),
            diff: Vec::new(),
        });
    }
    result.outcome = outcome_of(&result.checks);
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    (Some(result), leaks)
}
