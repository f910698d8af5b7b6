//! The scenario format: the checked-in JSON Schema matches the model, and the valid fixtures
//! load cleanly, validate against that schema and between them use every feature.
//! `BPHARNESS_BLESS=1` rewrites `schemas/scenario.schema.json`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bpharness::contract::SchemaSet;
use bpharness::scenario::{AssertOp, LoadOptions, LoadedScenario, StepAction, load_paths_with, scenario_schema};
use rstest::rstest;
use serde_json::Value;

const SCHEMA_FILE: &str = "schemas/scenario.schema.json";
const VALID_DIR: &str = "tests/fixtures/scenarios/valid";

fn valid_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(VALID_DIR)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

fn load_valid() -> Vec<LoadedScenario> {
    let options = LoadOptions::with_schemas(&SchemaSet::load_dir(Path::new("tests/fixtures/schemas")).unwrap());
    let (loaded, errors) = load_paths_with(&[PathBuf::from(VALID_DIR)], &options);
    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "{}", rendered.join("\n\n"));
    loaded
}

#[rstest]
fn checked_in_schema_matches_the_model() {
    let generated = serde_json::to_string_pretty(&scenario_schema()).unwrap() + "\n";
    if std::env::var_os("BPHARNESS_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all("schemas").unwrap();
        std::fs::write(SCHEMA_FILE, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(SCHEMA_FILE).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{SCHEMA_FILE} is stale: run the tests with BPHARNESS_BLESS=1 and commit the result"
    );
}

fn document(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_saphyr::from_str(&text).unwrap()
    }
}

#[rstest]
fn valid_fixtures_match_the_schema() {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA_FILE).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let files = valid_files();
    assert!(files.len() >= 3);
    for file in files {
        let instance = document(&file);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[rstest]
fn schema_rejects_unknown_keys() {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA_FILE).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!({"name": "x", "steps": [{"name": "s", "expct": {}}]});
    assert!(!validator.is_valid(&bad));
}

#[rstest]
fn valid_fixtures_load_in_path_order() {
    let loaded = load_valid();
    let paths: Vec<&Path> = loaded.iter().map(|l| l.source.path.as_path()).collect();
    let expected = valid_files();
    assert_eq!(paths, expected.iter().map(PathBuf::as_path).collect::<Vec<_>>());
}

#[rstest]
fn valid_fixtures_use_every_feature() {
    let loaded = load_valid();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut mark = |feature: &str| {
        seen.insert(feature.to_owned());
    };
    for scenario in loaded.iter().map(|l| &l.scenario) {
        if !scenario.vars.is_empty() {
            mark("vars");
        }
        for (_, _, step) in scenario.all_steps() {
            let request = match step.action().expect("one action") {
                StepAction::Request(request) => {
                    mark("request");
                    Some(request)
                }
                StepAction::Paginate(paginate) => {
                    mark("paginate");
                    if paginate.order.is_some() {
                        mark("paginate order");
                    }
                    Some(&paginate.request)
                }
                StepAction::Poll(poll) => {
                    mark("poll");
                    if !poll.transitions.is_empty() {
                        mark("poll transitions");
                    }
                    Some(&poll.request)
                }
            };
            if let Some(request) = request {
                for value in request.query.values() {
                    match value {
                        Value::Object(_) => mark("query map"),
                        Value::Array(_) => mark("query array"),
                        _ => mark("query scalar"),
                    }
                }
                if request.headers.values().any(Option::is_some) {
                    mark("header set");
                }
                if request.headers.values().any(Option::is_none) {
                    mark("header removed");
                }
                if request.body.is_some() {
                    mark("body");
                }
                if request.raw_body.is_some() {
                    mark("raw_body");
                }
            }
            if step.repeat.is_some() {
                mark("repeat");
            }
            if !step.capture.is_empty() {
                mark("capture");
            }
            if !step.capture_all.is_empty() {
                mark("capture_all");
            }
            if !step.secret.is_empty() {
                mark("secret");
            }
            if step.expect_error.is_some() {
                mark("expect_error");
            }
            for assertion in step.expect.iter().flat_map(|e| &e.assert) {
                mark(&format!("op {}", assertion.op));
                if assertion.header.is_some() {
                    mark("header assertion");
                }
            }
        }
    }
    let mut wanted: Vec<String> = [
        "vars",
        "request",
        "paginate",
        "paginate order",
        "poll",
        "poll transitions",
        "query map",
        "query array",
        "header set",
        "header removed",
        "body",
        "raw_body",
        "repeat",
        "capture",
        "capture_all",
        "secret",
        "expect_error",
        "header assertion",
    ]
    .map(str::to_owned)
    .to_vec();
    for op in [
        AssertOp::Eq,
        AssertOp::Ne,
        AssertOp::Lt,
        AssertOp::Le,
        AssertOp::Gt,
        AssertOp::Ge,
        AssertOp::Exists,
        AssertOp::Contains,
        AssertOp::Matches,
        AssertOp::Count,
        AssertOp::Type,
    ] {
        wanted.push(format!("op {op}"));
    }
    let missing: Vec<&String> = wanted.iter().filter(|w| !seen.contains(*w)).collect();
    assert!(missing.is_empty(), "no valid fixture uses {missing:?}");
}

#[rstest]
fn step_locations_point_at_steps() {
    use bpharness::scenario::Section;
    for loaded in load_valid() {
        for (section, index, step) in loaded.scenario.all_steps() {
            let (line, col) = loaded.step_location(section, index);
            let text = loaded.source.text.lines().nth(line - 1).unwrap();
            let rest: String = text.chars().skip(col - 1).collect();
            assert!(
                rest.starts_with("name:") || rest.starts_with('{'),
                "{}:{line}:{col} ({section}[{index}] {}) starts at {rest:?}",
                loaded.source.path.display(),
                step.name
            );
        }
        let _ = Section::ALL;
    }
}
