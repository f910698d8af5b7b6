//! The JUnit XML report, through `quick-junit`: one test suite per scenario, one test case
//! per step (classname = scenario file, name = section and step name). A failed step
//! carries its failed checks and their diffs as the failure text.

use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::DateTime;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::model::{CheckOutcome, Outcome, RunReport, ScenarioResult, StepResult};
use super::text::{diff_line, location, millis, step_label};

/// Writes `report` as JUnit XML.
pub fn write_junit(w: &mut impl Write, report: &RunReport) -> io::Result<()> {
    let mut junit = Report::new("bpharness");
    junit.set_time(millis(report.duration_ms));
    if let Ok(at) = DateTime::parse_from_rfc3339(&report.started_at) {
        junit.set_timestamp(at);
    }
    junit.add_test_suites(report.scenarios.iter().map(suite));
    junit.serialize(&mut *w).map_err(io::Error::other)
}

fn suite(scenario: &ScenarioResult) -> TestSuite {
    let mut suite = TestSuite::new(&scenario.name);
    suite.set_time(millis(scenario.duration_ms));
    if !scenario.tags.is_empty() {
        suite.add_property(Property::new("tags", scenario.tags.join(",")));
    }
    suite.add_test_cases(scenario.steps.iter().map(|s| case(&scenario.file, s)));
    // quick-junit counts skipped cases as `disabled`; most CI readers look for `skipped`.
    let skipped = suite.disabled.to_string();
    suite.extra.insert("skipped".into(), skipped.into());
    suite
}

fn case(file: &str, step: &StepResult) -> TestCase {
    let status = match step.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(skip) = &step.skip {
                status.set_message(skip.reason.as_str());
            }
            status
        }
        Outcome::Failed => {
            let failed: Vec<_> = step.checks.iter().filter(|c| c.outcome == CheckOutcome::Fail).collect();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let message = failed.first().map_or("step failed", |c| c.message.as_str());
            status.set_message(message);
            let kinds: Vec<&str> = failed.iter().map(|c| c.check.as_str()).collect();
            if !kinds.is_empty() {
                status.set_type(kinds.join(","));
            }
            status.set_description(failure_text(file, step));
            status
        }
    };
    let mut case = TestCase::new(step_label(step), status);
    case.set_classname(file);
    case.set_time(millis(step.duration_ms));
    case.set_assertions(step.checks.len());
    case
}

/// The failure's text node: where, which checks, what differed, how to replay.
fn failure_text(file: &str, step: &StepResult) -> String {
    let mut text = format!("at {}\n", location(file, step));
    for check in step.checks.iter().filter(|c| c.outcome == CheckOutcome::Fail) {
        let _ = writeln!(text, "[{}] {}", check.check, check.message);
        for entry in &check.diff {
            let _ = writeln!(text, "  {}", diff_line(entry));
        }
    }
    if let Some(last) = step.exchanges.last() {
        if let Some(error) = &last.error {
            let _ = writeln!(text, "error: {error}");
        }
        let _ = writeln!(text, "{}", last.curl);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn render(report: &RunReport) -> String {
        let mut out = Vec::new();
        write_junit(&mut out, report).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn counts_follow_the_steps() {
        let xml = render(&sample::rich());
        assert!(xml.starts_with("<?xml"));
        assert!(xml.contains(r#"<testsuites name="bpharness" tests="6" failures="1" errors="0""#));
        assert_eq!(xml.matches("<testsuite ").count(), 3);
        assert_eq!(
            xml.matches("</testsuite>").count() + xml.matches("<testsuite ").count(),
            6
        );
        assert_eq!(xml.matches("<testcase ").count(), 6);
        assert!(xml.contains(r#"tests="3" disabled="1" errors="0" failures="1""#));
        assert!(xml.contains(r#"skipped="1""#));
        // A skipped step says why.
        assert!(xml.contains(r#"tests="2" disabled="2""#));
        assert!(xml.contains(r#"<skipped message="requires reference-storage: not the reference server"#));
        assert!(
            xml.contains(r#"<skipped message="blocked: needs file_id from &quot;storage errors are JSON&quot;"/>"#)
        );
    }

    #[test]
    fn output_parses_back() {
        let xml = render(&sample::rich());
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!((parsed.tests, parsed.failures, parsed.errors), (6, 1, 0));
        let users = &parsed.test_suites[0];
        assert_eq!(users.name.as_str(), "users <script>alert(1)</script>");
        let names: Vec<&str> = users.test_cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["setup: list users", "steps: create user", "teardown: delete user"]
        );
        assert!(
            users
                .test_cases
                .iter()
                .all(|c| c.classname.as_deref() == Some("scenarios/smoke/users.yaml"))
        );
        assert_eq!(users.test_cases[0].time, Some(millis(40.0)));
        assert!(matches!(users.test_cases[2].status, TestCaseStatus::Skipped { .. }));
        let TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            ty,
            description,
            ..
        } = &users.test_cases[1].status
        else {
            panic!("create user should fail");
        };
        assert_eq!(message.as_deref(), Some("expected status 201, got 400"));
        assert_eq!(ty.as_deref(), Some("status,schema"));
        let text = description.as_deref().unwrap();
        assert!(text.starts_with("at scenarios/smoke/users.yaml:7:5\n[status] expected status 201, got 400\n"));
        assert!(text.contains("  at /user/id: expected \"string\", got 42\n"));
        assert!(text.contains("curl -X POST 'http://127.0.0.1:3000/v1/chat/users?a=1&b=<2>'"));
        assert!(!text.contains("unknown-field"));
    }

    #[test]
    fn an_empty_run_is_an_empty_report() {
        let xml = render(&sample::minimal());
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        assert_eq!((parsed.tests, parsed.test_suites.len()), (0, 0));
    }
}
