//! The scenario suite against the embedded reference server.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bpharness::api::{Area, OPERATIONS};
use bpharness::report::{CheckOutcome, Outcome, RunReport};
use bpharness::runner::{RunPlan, run};

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
