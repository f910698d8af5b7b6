//! Capture → HAR → inferred schemas → drift against `schemas/`.

use std::collections::BTreeSet;

use bpharness::capture::{CaptureSink, read_har, to_har, write_har};
use bpharness::contract::SchemaSet;
use bpharness::drift::{ChangeKind, DriftReport, documents_from, documents_of, drift, render_text};
use bpharness::infer::infer;
use bpharness::runner::RunPlan;
use bpharness::server::fault::Fault;
use rstest::rstest;

use crate::runner_suite::run_paths;

async fn drift_with(faults: &[Fault]) -> (DriftReport, String) {
    let sink = CaptureSink::default();
    let mut plan = RunPlan {
        capture: Some(sink.clone()),
        ..RunPlan::default()
    };
    plan.target.server.faults = faults.iter().copied().collect::<BTreeSet<_>>();
    run_paths(&["scenarios"], plan).await;
    let har = to_har(&sink.take());
    let mut text = Vec::new();
    write_har(&mut text, &har).unwrap();
    let text = String::from_utf8(text).unwrap();
    let har = read_har(&text).expect("our HAR reads back");
    let inferred = infer(&[har]);
    let report = drift(&documents_of(SchemaSet::embedded()), &documents_from(&inferred));
    (report, text)
}

#[tokio::test]
async fn the_faithful_server_has_no_breaking_drift_and_the_har_is_valid() {
    let (report, har) = drift_with(&[]).await;
    println!("{}", render_text(&report));
    assert!(report.compared.len() >= 10, "{:?}", report.compared);
    assert_eq!(report.breaking(), 0, "{}", render_text(&report));

    let value: serde_json::Value = serde_json::from_str(&har).unwrap();
    let validator = SchemaSet::embedded()
        .validator("har.schema.json")
        .expect("HAR 1.2 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(5)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!har.contains("bp_pat_"), "a token is in the HAR");
}

#[rstest]
#[case::dropped_field(Fault::UserMissingCreatedAt, ChangeKind::FieldRemoved, "createdAt")]
#[case::wrong_type(Fault::MessagePayloadString, ChangeKind::TypeChanged, "payload")]
#[case::non_iso_date(Fault::NonIsoTimestamps, ChangeKind::FormatChanged, "createdAt")]
#[case::null_channel(Fault::NullChannel, ChangeKind::NullabilityChanged, "channel")]
#[tokio::test]
async fn shape_faults_show_up_as_breaking_drift(#[case] fault: Fault, #[case] kind: ChangeKind, #[case] field: &str) {
    let (report, _) = drift_with(&[fault]).await;
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.breaking && c.kind == kind && c.path.ends_with(field)),
        "{fault}: {}",
        render_text(&report)
    );
}
