//! Golden diagnostics: every file in `tests/fixtures/scenarios/invalid/` must fail to load with
//! exactly the text of the `.err` file beside it. `BPHARNESS_BLESS=1` rewrites the `.err` files.

use std::path::{Path, PathBuf};

use bpharness::contract::SchemaSet;
use bpharness::scenario::{LoadOptions, load_file_with};
use rstest::rstest;

const INVALID_DIR: &str = "tests/fixtures/scenarios/invalid";

fn bless() -> bool {
    std::env::var_os("BPHARNESS_BLESS").is_some_and(|v| v == "1")
}

/// Scenario files of the invalid fixtures, relative to the crate root, sorted.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(INVALID_DIR)
        .expect("invalid fixtures directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e != "err"))
        .collect();
    cases.sort();
    cases
}

fn render(case: &Path) -> String {
    let options = LoadOptions::with_schemas(&SchemaSet::load_dir(Path::new("tests/fixtures/schemas")).unwrap());
    match load_file_with(case, &options) {
        Ok(_) => panic!("{} loaded without error", case.display()),
        Err(err) => format!("{err}\n"),
    }
}

/// Compares `actual` with the `.err` file beside `case` (rewrites it under
/// `BPHARNESS_BLESS=1`); the mismatch, if any, as a message.
fn against_golden(case: &Path, actual: &str) -> Option<String> {
    let golden = case.with_extension("err");
    if bless() {
        std::fs::write(&golden, actual).unwrap();
        return None;
    }
    match std::fs::read_to_string(&golden) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{}:\n--- expected\n{expected}--- actual\n{actual}",
            case.display()
        )),
        Err(_) => Some(format!(
            "{} has no {} (run with BPHARNESS_BLESS=1):\n{actual}",
            case.display(),
            golden.display()
        )),
    }
}

#[rstest]
fn invalid_fixtures_match_their_golden_errors() {
    let cases = cases();
    assert!(cases.len() >= 16, "expected one fixture per kind of mistake");
    let mut mismatches = Vec::new();
    for case in &cases {
        let actual = render(case);
        mismatches.extend(against_golden(case, &actual));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[rstest]
fn every_golden_error_has_a_scenario() {
    let cases = cases();
    for entry in std::fs::read_dir(INVALID_DIR).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "err") {
            assert!(
                cases.iter().any(|case| case.with_extension("err") == path),
                "{} has no scenario file",
                path.display()
            );
        }
    }
}

#[rstest]
fn every_invalid_yaml_has_a_golden_error() {
    for case in cases() {
        assert!(
            bless() || case.with_extension("err").is_file(),
            "{} has no .err file",
            case.display()
        );
    }
}

const INVALID_SCHEMA_DIR: &str = "tests/fixtures/schema-files/invalid";

/// Each folder of `tests/fixtures/schema-files/invalid/` is a `--schemas` directory with one
/// mistake; loading it must fail with exactly the text of the `.err` file beside the folder.
#[rstest]
fn invalid_schema_directories_match_their_golden_errors() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(INVALID_SCHEMA_DIR)
        .expect("invalid schema fixtures directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "expected one fixture per kind of mistake");
    let mut mismatches = Vec::new();
    for case in &cases {
        let actual = match bpharness::contract::SchemaSet::load_dir(case) {
            Ok(_) => panic!("{} loaded without error", case.display()),
            Err(err) => format!("{err}\n"),
        };
        assert!(!actual.contains("panicked"), "{actual}");
        mismatches.extend(against_golden(case, &actual));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
