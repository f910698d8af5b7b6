//! Small plain-text renderings shared by the writers, so a step's name, place and diff read
//! the same in the terminal, JUnit and HTML.

use std::time::Duration;

use serde_json::Value;

use super::model::{DiffEntry, Section, StepResult};

/// The step's section and name: `steps: create user`, `teardown: delete user`.
pub(crate) fn step_label(step: &StepResult) -> String {
    let section = match step.section {
        Section::Setup => "setup",
        Section::Steps => "steps",
        Section::Teardown => "teardown",
        Section::Cleanup => "cleanup",
    };
    format!("{section}: {}", step.name)
}

/// `file:line:col`, or the bare file for steps that have no place in it (cleanup).
pub(crate) fn location(file: &str, step: &StepResult) -> String {
    if step.line == 0 {
        file.to_string()
    } else {
        format!("{file}:{}:{}", step.line, step.column)
    }
}

/// `at <path>: expected <e>, got <a>`, or `at <path>: <message>` when neither value is known.
pub(crate) fn diff_line(entry: &DiffEntry) -> String {
    if entry.expected.is_none() && entry.actual.is_none() {
        return format!("at {}: {}", entry.path, entry.message);
    }
    format!(
        "at {}: expected {}, got {}",
        entry.path,
        value_text(entry.expected.as_ref()),
        value_text(entry.actual.as_ref())
    )
}

/// A diff value as compact JSON; `nothing` when absent.
pub(crate) fn value_text(value: Option<&Value>) -> String {
    value.map_or_else(|| "nothing".to_string(), Value::to_string)
}

/// `1 check`, `2 checks`.
pub(crate) fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Milliseconds as a `Duration`; negative or non-finite values (which a clock should never
/// give) become zero rather than a panic.
pub(crate) fn millis(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::json;

    use super::*;

    #[rstest]
    #[case(Some(json!(201)), Some(json!(400)), "at /a: expected 201, got 400")]
    #[case(Some(json!("x")), None, "at /a: expected \"x\", got nothing")]
    #[case(None, None, "at /a: differs")]
    fn diff_lines(#[case] expected: Option<Value>, #[case] actual: Option<Value>, #[case] line: &str) {
        let entry = DiffEntry {
            path: "/a".into(),
            expected,
            actual,
            message: "differs".into(),
        };
        assert_eq!(diff_line(&entry), line);
    }

    #[rstest]
    #[case(1500.0, Duration::from_millis(1500))]
    #[case(-1.0, Duration::ZERO)]
    #[case(f64::NAN, Duration::ZERO)]
    fn millis_never_panics(#[case] ms: f64, #[case] expected: Duration) {
        assert_eq!(millis(ms), expected);
    }
}
