//! The scenario suite against the embedded reference server.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use bpharness::api::{Area, OPERATIONS};
use bpharness::report::{CheckOutcome, Outcome, Reporter, RunEvent, RunReport};
use bpharness::runner::{RunPlan, run};
use bpharness::selftest::selftest;
use bpharness::server::fault::Fault;
use bpharness::server::{ServerConfig, spawn_local};
use bpharness::target::TargetSpec;
use serde_json::{Value, json};

pub async fn run_paths(paths: &[&str], plan: RunPlan) -> RunReport {
    let plan = RunPlan {
        paths: paths.iter().map(PathBuf::from).collect(),
        ..plan
    };
    run(&plan, &mut [], Arc::new(AtomicBool::new(false)))
        .await
        .expect("the run gives a verdict")
}

/// Every failed check of a report, as `scenario / step: [check] message` lines.
pub fn failures(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        for step in &s.steps {
            for c in &step.checks {
                if c.outcome == CheckOutcome::Fail {
                    out.push(format!("{} / {}: [{}] {}", s.name, step.name, c.check, c.message));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn the_whole_suite_passes_on_the_faithful_server() {
    let report = run_paths(&["scenarios"], RunPlan::default()).await;
    assert_eq!(report.outcome, Outcome::Passed, "{:#?}", failures(&report));
    assert!(report.summary.requests > 0);
    assert!(report.leaks.is_empty(), "{:#?}", report.leaks);

    // Every runtime operation is exercised on its success path.
    let runtime = [
        Area::Users,
        Area::Conversations,
        Area::Events,
        Area::Messages,
        Area::States,
        Area::Actions,
    ];
    let missing: Vec<&str> = OPERATIONS
        .iter()
        .filter(|op| runtime.contains(&op.area))
        .filter(|op| {
            !report
                .coverage
                .iter()
                .any(|row| row.operation == op.id && row.statuses.contains(&op.success_status))
        })
        .map(|op| op.id)
        .collect();
    assert!(
        missing.is_empty(),
        "runtime operations never answered with success: {missing:?}"
    );

    // And every error type the runtime routes can produce is provoked somewhere.
    let seen: BTreeSet<&str> = report
        .coverage
        .iter()
        .flat_map(|row| row.error_types.iter().map(String::as_str))
        .collect();
    let expected = [
        "Unauthorized",
        "Forbidden",
        "InvalidPayload",
        "UnsupportedMediaType",
        "ResourceNotFound",
        "ReferenceNotFound",
        "InvalidQuery",
        "InvalidDataFormat",
        "Runtime",
    ];
    let unseen: Vec<&str> = expected.into_iter().filter(|t| !seen.contains(t)).collect();
    assert!(unseen.is_empty(), "error types never provoked: {unseen:?}");
}

/// Keeps the notices of a run.
struct Notes(Arc<Mutex<Vec<String>>>);

impl Reporter for Notes {
    fn on_event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        if let RunEvent::Notice { message } = event {
            self.0.lock().unwrap().push(message.clone());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_target_without_a_bot_id_gets_bots_of_its_own_for_the_run() {
    let server = spawn_local(ServerConfig::default()).await.unwrap();
    let seeds = server.seeds().clone();
    let plan = RunPlan {
        paths: vec![PathBuf::from("scenarios")],
        target: TargetSpec {
            workspace_id: Some(seeds.workspace_id.clone()),
            other_workspace_id: Some(seeds.other_workspace_id.clone()),
            other_workspace_bot_id: Some(seeds.other_workspace_bot_id.clone()),
            ..TargetSpec::remote(server.url.clone(), seeds.tokens[0].clone())
        },
        ..RunPlan::default()
    };
    let notes = Arc::new(Mutex::new(Vec::new()));
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(Notes(notes.clone()))];
    let report = run(&plan, &mut reporters, Arc::new(AtomicBool::new(false)))
        .await
        .expect("the run gives a verdict");
    assert_eq!(report.outcome, Outcome::Passed, "{:#?}", failures(&report));
    assert!(report.leaks.is_empty(), "{:#?}", report.leaks);
    let notes = notes.lock().unwrap().clone();
    assert_eq!(notes.len(), 4, "{notes:#?}");
    assert!(
        notes[0].contains("(a bpharness reference server); capabilities: builtin-actions,"),
        "{notes:#?}"
    );
    assert!(
        notes[2].contains("(bot_id)") && notes[2].contains("(other_bot_id)") && notes[2].contains("bot definition"),
        "{notes:#?}"
    );
    assert!(
        notes[3].starts_with("deleted the bots created for this run"),
        "{notes:#?}"
    );

    let admin = |path: String| {
        let (token, workspace, url) = (&seeds.tokens[0], &seeds.workspace_id, &server.url);
        async move {
            let r = reqwest::Client::new()
                .get(format!("{url}{path}"))
                .bearer_auth(token)
                .header("x-workspace-id", workspace)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let bots = admin("/v1/admin/bots".into()).await;
    let mut left: Vec<&str> = bots["bots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    left.sort_unstable();
    let mut seeded = [seeds.bot_id.as_str(), seeds.other_bot_id.as_str()];
    seeded.sort_unstable();
    assert_eq!(left, seeded, "the run's bots are gone, the seeded ones stay");
    for bot in [&seeds.bot_id, &seeds.other_bot_id] {
        let logs = admin(format!("/v1/admin/bots/{bot}/logs?timeStart=2000-01-01T00:00:00Z")).await;
        assert_eq!(logs["logs"], json!([]), "no traffic went to the seeded bot {bot}");
    }
}

#[tokio::test]
async fn the_bot_scenarios_catch_every_bot_fault() {
    let faults = [
        Fault::BotStuckDeploying,
        Fault::BotLogsMetaToken,
        Fault::AnalyticsIgnoresRange,
        Fault::IssueNotDeleted,
        Fault::WorkspaceNotEnforced,
    ];
    let plan = RunPlan {
        paths: [
            "bots.yaml",
            "bots-paging.yaml",
            "bots-activity.yaml",
            "bots-issues.yaml",
        ]
        .iter()
        .map(|f| PathBuf::from("scenarios/contract").join(f))
        .collect(),
        ..RunPlan::default()
    };
    let (_, report) = selftest(&plan, &faults, &[], |_| {}).await.expect("selftest runs");
    assert!(report.false_positives.is_empty(), "{:#?}", report.false_positives);
    for verdict in &report.verdicts {
        assert!(verdict.caught(), "{} not caught", verdict.fault);
    }
}
