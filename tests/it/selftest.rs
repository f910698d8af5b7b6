//! The suite catches every fault of the catalogue with the checks the catalogue names and
//! raises no false alarm; the README's "What bpharness checks" table is that catalogue.

use bpharness::runner::{RunPlan, is_check};
use bpharness::selftest::{PROVEN_BY_DOUBLE, checks_table, selftest};
use bpharness::server::fault::{fuzz_faults, suite_faults};

const START: &str = "<!-- checks:start -->\n";
const END: &str = "<!-- checks:end -->";

#[tokio::test]
async fn every_fault_is_caught_and_the_faithful_server_is_green() {
    let plan = RunPlan {
        jobs: 8,
        ..RunPlan::default()
    };
    let (baseline, report) = selftest(&plan, &suite_faults(), &fuzz_faults(), |_| {})
        .await
        .expect("selftest runs");
    assert!(
        report.false_positives.is_empty(),
        "false positives: {:#?}",
        report.false_positives
    );
    assert!(
        report.fuzz_false_positives.is_empty(),
        "fuzz false positives: {:#?}",
        report.fuzz_false_positives
    );
    assert_eq!(report.fuzz_verdicts.len(), fuzz_faults().len());
    let missed: Vec<String> = report
        .verdicts
        .iter()
        .chain(&report.fuzz_verdicts)
        .filter(|v| !v.caught())
        .map(|v| format!("{} (expected {:?}, failed {:?})", v.fault, v.missed, v.caught_by))
        .collect();
    assert!(
        missed.is_empty(),
        "faults not caught by the checks the catalogue expects: {missed:#?}"
    );

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
}

#[test]
fn every_check_is_proven_and_the_readme_table_is_the_catalogue() {
    for (id, _) in bpharness::runner::CHECKS {
        let proven = PROVEN_BY_DOUBLE.contains(id)
            || suite_faults().iter().any(|f| f.expected_checks().contains(id))
            || fuzz_faults().iter().any(|f| f.fuzz_expected_checks().contains(id));
        // `fuzz` only sums up the checks of a passing case; it cannot fail.
        let optional = ["error-body-extra", "template", "cleanup", "poll-field", "fuzz"];
        assert!(
            proven || optional.contains(id),
            "no fault proves that check {id} can fail"
        );
    }
    for f in bpharness::server::fault::FAULTS {
        for id in f.expected_checks().iter().chain(f.fuzz_expected_checks()) {
            assert!(is_check(id), "{f} expects check {id}, which is not in runner::CHECKS");
        }
    }

    // README carries the same table; BPHARNESS_BLESS=1 rewrites it.
    let table = checks_table();
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
