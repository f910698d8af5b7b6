//! The suite catches every fault of the catalogue and raises no false alarm; the README's
//! "What bpharness checks" table is what this run shows.

use bpharness::runner::{RunPlan, is_check};
use bpharness::selftest::{PROVEN_BY_DOUBLE, checks_table, selftest};
use bpharness::server::fault::suite_faults;

const START: &str = "<!-- checks:start -->\n";
const END: &str = "<!-- checks:end -->";

#[tokio::test]
async fn every_fault_is_caught_and_the_faithful_server_is_green() {
    let plan = RunPlan {
        jobs: 8,
        ..RunPlan::default()
    };
    let (baseline, report) = selftest(&plan, &suite_faults(), |_| {}).await.expect("selftest runs");
    assert!(
        report.false_positives.is_empty(),
        "false positives: {:#?}",
        report.false_positives
    );
    let missed: Vec<&str> = report
        .verdicts
        .iter()
        .filter(|v| !v.caught())
        .map(|v| v.fault.as_str())
        .collect();
    assert!(missed.is_empty(), "faults no check caught: {missed:?}");

    // Every check id a run reports is in the catalogue.
    for v in &report.verdicts {
        for id in &v.caught_by {
            assert!(is_check(id), "check {id} is missing from runner::CHECKS");
        }
    }
    for s in &baseline.scenarios {
        for step in &s.steps {
            for c in &step.checks {
                assert!(is_check(&c.check), "check {} is missing from runner::CHECKS", c.check);
            }
        }
    }

    // Every check of the catalogue is proven by a fault or by the hostile double.
    let table = checks_table(&report);
    for (id, _) in bpharness::runner::CHECKS {
        let proven = PROVEN_BY_DOUBLE.contains(id) || report.verdicts.iter().any(|v| v.caught_by.contains(*id));
        let optional = ["error-body-extra", "template", "cleanup", "poll-field"];
        assert!(
            proven || optional.contains(id),
            "no fault proves that check {id} can fail"
        );
    }

    // README carries the same table; BPHARNESS_BLESS=1 rewrites it.
    let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(readme_path).unwrap();
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md has no {START:?} … {END:?} section");
    };
    let current = &readme[start + START.len()..end];
    if current != table {
        if std::env::var_os("BPHARNESS_BLESS").is_some() {
            let updated = format!("{}{START}{table}{}", &readme[..start], &readme[end..]);
            std::fs::write(readme_path, updated).unwrap();
        } else {
            panic!("README.md's checks table is stale; rerun with BPHARNESS_BLESS=1\n{table}");
        }
    }
}
