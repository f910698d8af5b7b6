//! The suite is portable: it passes on a server that differs from the reference server only
//! where the docs leave freedom (`ServerConfig::other_server()`: other wording, 429s now and
//! then, storage on another origin with XML errors, no built-in actions, no activity from
//! traffic, slow deploys and uploads, nothing naming the implementation), given only a
//! token and a workspace id; and a remote `bpharness serve` keeps every capability.

use std::collections::BTreeMap;

use bpharness::report::{Outcome, RunReport, SkipKind};
use bpharness::runner::RunPlan;
use bpharness::server::{ServerConfig, spawn_local};
use bpharness::target::TargetSpec;

use crate::runner_suite::{failures, run_paths};

/// Steps run / all steps, and the skips by reason.
fn shares(report: &RunReport) -> (f64, BTreeMap<String, u64>) {
    let s = &report.summary;
    let ran = s.steps - s.steps_skipped - s.steps_blocked;
    (ran as f64 / s.steps as f64, s.skipped_by_reason.clone())
}

async fn suite_against(config: ServerConfig) -> RunReport {
    let server = spawn_local(config).await.unwrap();
    let seeds = server.seeds().clone();
    let plan = RunPlan {
        target: TargetSpec {
            workspace_id: Some(seeds.workspace_id.clone()),
            ..TargetSpec::remote(server.url.clone(), seeds.tokens[0].clone())
        },
        ..RunPlan::default()
    };
    let report = run_paths(&["scenarios"], plan).await;
    server.stop().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_on_another_conformant_server_with_a_token_and_a_workspace() {
    let report = suite_against(ServerConfig::other_server()).await;
    let (ran, skipped) = shares(&report);
    assert_eq!(report.summary.steps_failed, 0, "{:#?}", failures(&report));
    assert_eq!(report.outcome, Outcome::Passed);
    assert!(ran >= 0.75, "only {:.1}% of steps ran: {skipped:#?}", ran * 100.0);
    assert!(
        report.summary.operations_covered >= 55,
        "{} of 60 operations covered",
        report.summary.operations_covered
    );
    assert!(!report.embedded && report.capabilities.iter().all(|c| !c.contains("reference")));
    // The other server rate-limits now and then: waited out, not failed.
    assert!(report.summary.rate_limit_retries > 0, "no 429 was waited out");
    assert!(report.leaks.is_empty(), "{:#?}", report.leaks);
    // Every skip says why, and none is a silent pass.
    for scenario in &report.scenarios {
        for step in scenario.steps.iter().filter(|s| s.outcome == Outcome::Skipped) {
            let skip = step.skip.as_ref().expect("a skipped step says why");
            assert_ne!(skip.kind, SkipKind::Interrupted, "{}", step.name);
            assert!(step.checks.is_empty() && step.requests == 0, "{}", step.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_reference_server_keeps_every_capability() {
    let report = suite_against(ServerConfig::default()).await;
    let (ran, skipped) = shares(&report);
    assert_eq!(report.summary.steps_failed, 0, "{:#?}", failures(&report));
    assert!(ran >= 0.90, "only {:.1}% of steps ran: {skipped:#?}", ran * 100.0);
    assert!(
        report
            .missing_capabilities
            .keys()
            .all(|k| k.starts_with("other-workspace")),
        "{:#?}",
        report.missing_capabilities
    );
    assert_eq!(report.summary.operations_covered, 60);
}

/// A bot given by id is read first: what its definition lacks is listed, the steps that
/// rely on it are skipped with that reason, and `--configure-bot` adds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_given_by_id_is_checked_against_the_definition_and_configured_on_request() {
    let server = spawn_local(ServerConfig::default()).await.unwrap();
    let seeds = server.seeds().clone();
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{}/v1/admin/bots", server.url))
        .bearer_auth(&seeds.tokens[0])
        .header("x-workspace-id", &seeds.workspace_id)
        .json(&serde_json::json!({"name": "bare"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bot = created["bot"]["id"].as_str().unwrap().to_string();
    let plan = |configure_bot| RunPlan {
        target: TargetSpec {
            bot_id: Some(bot.clone()),
            workspace_id: Some(seeds.workspace_id.clone()),
            configure_bot,
            ..TargetSpec::remote(server.url.clone(), seeds.tokens[0].clone())
        },
        ..RunPlan::default()
    };

    let bare = run_paths(&["scenarios/contract/users.yaml"], plan(false)).await;
    assert_eq!(bare.summary.steps_failed, 0, "{:#?}", failures(&bare));
    let undeclared = bare
        .summary
        .skipped_by_reason
        .get("requires bot-definition")
        .copied()
        .unwrap_or(0);
    assert!(undeclared > 0, "{:#?}", bare.summary.skipped_by_reason);
    let reason = bare
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter_map(|s| s.skip.as_ref())
        .find(|s| s.reason.contains("does not declare user tag"))
        .map(|s| s.reason.clone());
    assert!(reason.is_some_and(|r| r.contains("--configure-bot")));

    let configured = run_paths(&["scenarios/contract/users.yaml"], plan(true)).await;
    assert_eq!(configured.summary.steps_failed, 0, "{:#?}", failures(&configured));
    assert!(
        !configured
            .summary
            .skipped_by_reason
            .contains_key("requires bot-definition"),
        "{:#?}",
        configured.summary.skipped_by_reason
    );
    let read: serde_json::Value = client
        .get(format!("{}/v1/admin/bots/{bot}", server.url))
        .bearer_auth(&seeds.tokens[0])
        .header("x-workspace-id", &seeds.workspace_id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(read["bot"]["user"]["tags"]["suite"].is_object(), "{read:#}");
    server.stop().await;
}
