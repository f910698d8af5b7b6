//! The JSON report: `RunReport` as pretty JSON, the format `schemas/report.schema.json`
//! describes (versioned by `format_version`).

use std::io::{self, Write};

use super::model::RunReport;

/// Writes `report` as pretty JSON, ending with a newline.
pub fn write_json(w: &mut impl Write, report: &RunReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use jsonschema::Validator;
    use rstest::rstest;
    use serde_json::Value;

    use super::*;
    use crate::report::sample;

    const SCHEMA: &str = include_str!("../../schemas/report.schema.json");

    fn validator() -> Validator {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    }

    fn to_value(report: &RunReport) -> Value {
        let mut out = Vec::new();
        write_json(&mut out, report).unwrap();
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).unwrap()
    }

    fn errors(instance: &Value) -> Vec<String> {
        validator()
            .iter_errors(instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    #[rstest]
    #[case::rich(sample::rich())]
    #[case::minimal(sample::minimal())]
    fn output_matches_the_schema(#[case] report: RunReport) {
        let value = to_value(&report);
        assert_eq!(errors(&value), Vec::<String>::new());
    }

    #[test]
    fn output_reads_back_into_the_same_report() {
        let report = sample::rich();
        let back: RunReport = serde_json::from_value(to_value(&report)).unwrap();
        assert_eq!(back, report);
    }

    #[rstest]
    #[case::outcome("/outcome", Value::from("broken"))]
    #[case::check_outcome("/scenarios/0/steps/1/checks/0/outcome", Value::from("failed"))]
    #[case::section("/scenarios/0/steps/0/section", Value::from("body"))]
    #[case::kind("/scenarios/0/steps/0/kind", Value::from("get"))]
    #[case::version("/format_version", Value::from(2))]
    #[case::status("/coverage/0/statuses/0", Value::from(42))]
    #[case::header("/scenarios/0/steps/1/exchanges/0/request/headers/0", serde_json::json!(["a"]))]
    #[case::unknown_field("/summary/extra", Value::from(1))]
    #[case::date("/started_at", Value::from("yesterday"))]
    fn wrong_values_fail_validation(#[case] pointer: &str, #[case] value: Value) {
        let mut instance = to_value(&sample::rich());
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match instance.pointer_mut(parent).unwrap() {
            Value::Object(map) => {
                map.insert(key.to_string(), value);
            }
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            other => panic!("{parent} is {other}"),
        }
        assert!(!errors(&instance).is_empty(), "{pointer} accepted");
    }

    #[test]
    fn schema_id_is_under_the_schema_base() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        assert_eq!(
            schema["$id"],
            format!("{}report.schema.json", crate::contract::SCHEMA_BASE)
        );
    }
}
