//! The suite catches every fault of the catalogue and raises no false alarm.

use bpharness::runner::RunPlan;
use bpharness::selftest::selftest;
use bpharness::server::fault::FAULTS;

#[tokio::test]
async fn every_fault_is_caught_and_the_faithful_server_is_green() {
    let (_, report) = selftest(&RunPlan { jobs: 8, ..RunPlan::default() }, FAULTS, |_| {}).await.expect("selftest runs");
    assert!(report.false_positives.is_empty(), "false positives: {:#?}", report.false_positives);
    let missed: Vec<&str> = report.verdicts.iter().filter(|v| !v.caught()).map(|v| v.fault.as_str()).collect();
    for v in &report.verdicts {
        println!("{:32} {:?}", v.fault, v.caught_by);
    }
    assert!(missed.is_empty(), "faults no check caught: {missed:?}");
}
