//! The scenario suite against the embedded reference server.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

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
}
