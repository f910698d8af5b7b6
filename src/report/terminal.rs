//! Live human output: a progress mark per step, one line per scenario with the details of
//! each failed step (location, failed checks, diff, curl), then coverage, leaks and the
//! closing summary. Colour is plain ANSI and only when the caller asks for it (it decides
//! from `NO_COLOR` and whether the stream is a terminal).

use std::io::{self, Write};

use super::event::{Reporter, RunEvent};
use super::model::{CheckOutcome, CoverageRow, Outcome, RunReport, ScenarioResult, StepResult};
use super::text::{diff_line, location, plural, step_label};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Wrap width for the compact list of uncovered operations.
const WIDTH: usize = 100;

/// Writes a run as it happens, for a person watching it.
pub struct TerminalReporter<W: Write> {
    out: W,
    color: bool,
    /// A line of progress marks is open and needs ending before the next full line.
    marks_open: bool,
    /// Whether to write a mark per step (off when a progress display shows life instead).
    marks: bool,
}

impl<W: Write> TerminalReporter<W> {
    /// `color` switches ANSI colours on; the caller decides (`NO_COLOR`, terminal or not).
    pub fn new(out: W, color: bool) -> Self {
        TerminalReporter {
            out,
            color,
            marks_open: false,
            marks: true,
        }
    }

    /// No mark per step: a progress display (`super::progress`) shows the run is alive.
    #[must_use]
    pub fn without_marks(mut self) -> Self {
        self.marks = false;
        self
    }

    /// The stream back, e.g. the buffer a test wrote into.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn paint(&self, color: &str, text: &str) -> String {
        if self.color {
            format!("{color}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn end_marks(&mut self) -> io::Result<()> {
        if self.marks_open {
            self.marks_open = false;
            writeln!(self.out)?;
        }
        Ok(())
    }

    fn step_mark(&mut self, step: &StepResult) -> io::Result<()> {
        if !self.marks {
            return Ok(());
        }
        let mark = match step.outcome {
            Outcome::Passed => self.paint(GREEN, "."),
            Outcome::Failed => self.paint(RED, "F"),
            Outcome::Skipped => self.paint(YELLOW, "s"),
        };
        self.marks_open = true;
        write!(self.out, "{mark}")?;
        // Marks are the only sign of life during a long scenario: show each one now.
        self.out.flush()
    }

    fn scenario(&mut self, result: &ScenarioResult) -> io::Result<()> {
        self.end_marks()?;
        let label = match result.outcome {
            Outcome::Passed => self.paint(GREEN, "PASS"),
            Outcome::Failed => self.paint(RED, "FAIL"),
            Outcome::Skipped => self.paint(YELLOW, "SKIP"),
        };
        writeln!(
            self.out,
            "{label} {} ({}) {:.0} ms",
            result.name, result.file, result.duration_ms
        )?;
        for step in result.steps.iter().filter(|s| s.outcome == Outcome::Failed) {
            self.failed_step(&result.file, step)?;
        }
        Ok(())
    }

    fn failed_step(&mut self, file: &str, step: &StepResult) -> io::Result<()> {
        let label = self.paint(RED, &step_label(step));
        writeln!(self.out, "  - {label} at {}", location(file, step))?;
        for check in step.checks.iter().filter(|c| c.outcome == CheckOutcome::Fail) {
            writeln!(self.out, "    [{}] {}", check.check, check.message)?;
            for entry in &check.diff {
                writeln!(self.out, "      {}", diff_line(entry))?;
            }
        }
        if let Some(last) = step.exchanges.last() {
            if let Some(error) = &last.error {
                writeln!(self.out, "    error: {error}")?;
            }
            writeln!(self.out, "    {}", last.curl)?;
        }
        Ok(())
    }

    fn finish(&mut self, report: &RunReport) -> io::Result<()> {
        self.end_marks()?;
        self.coverage(report)?;
        if !report.leaks.is_empty() {
            writeln!(
                self.out,
                "{}",
                self.paint(YELLOW, &format!("leaks ({}), left on the target:", report.leaks.len()))
            )?;
            for leak in &report.leaks {
                writeln!(
                    self.out,
                    "  {} {} ({}): {}",
                    leak.method, leak.path, leak.scenario, leak.reason
                )?;
            }
        }
        self.summary(report)?;
        self.out.flush()
    }

    fn coverage(&mut self, report: &RunReport) -> io::Result<()> {
        let (covered, uncovered): (Vec<&CoverageRow>, Vec<&CoverageRow>) =
            report.coverage.iter().partition(|r| r.requests > 0);
        if !covered.is_empty() {
            let rows: Vec<[String; 4]> = covered
                .iter()
                .map(|r| {
                    [
                        r.operation.clone(),
                        r.requests.to_string(),
                        join_or_dash(r.statuses.iter().map(u16::to_string)),
                        join_or_dash(r.error_types.iter().cloned()),
                    ]
                })
                .collect();
            let header = ["operation", "requests", "statuses", "error types"].map(String::from);
            let widths: Vec<usize> = (0..4)
                .map(|i| rows.iter().chain([&header]).map(|r| r[i].len()).max().unwrap_or(0))
                .collect();
            for row in [&header].into_iter().chain(&rows) {
                let line = format!(
                    "  {:<w0$}  {:>w1$}  {:<w2$}  {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2],
                );
                writeln!(self.out, "{}", line.trim_end())?;
            }
        }
        if !uncovered.is_empty() {
            let names: Vec<&str> = uncovered.iter().map(|r| r.operation.as_str()).collect();
            let text = format!("uncovered ({}): {}", names.len(), names.join(", "));
            for line in wrap(&text, WIDTH) {
                writeln!(self.out, "{line}")?;
            }
        }
        if report.summary.operations_total > 0 {
            writeln!(
                self.out,
                "covered {} of {} operations",
                report.summary.operations_covered, report.summary.operations_total
            )?;
        }
        Ok(())
    }

    fn summary(&mut self, report: &RunReport) -> io::Result<()> {
        let s = &report.summary;
        if s.steps_skipped + s.steps_blocked > 0 {
            let ran = s.steps - s.steps_skipped - s.steps_blocked;
            writeln!(
                self.out,
                "steps: {ran} of {} run, {} skipped, {} blocked; by reason:",
                s.steps, s.steps_skipped, s.steps_blocked
            )?;
            let mut reasons: Vec<(&String, &u64)> = s.skipped_by_reason.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (reason, n) in reasons {
                writeln!(self.out, "  {n:>4}  {reason}")?;
            }
        }
        if s.rate_limit_retries > 0 {
            writeln!(
                self.out,
                "rate limited: {} waited out and sent again, {:.1} s of waiting",
                plural(s.rate_limit_retries, "answer"),
                s.rate_limit_wait_ms / 1000.0
            )?;
        }
        let failed = format!("{} failed", s.scenarios_failed);
        let failed = if s.scenarios_failed > 0 {
            self.paint(RED, &failed)
        } else {
            failed
        };
        let mut line = format!(
            "{}, {failed}",
            self.paint(GREEN, &format!("{} passed", s.scenarios_passed))
        );
        if s.scenarios_skipped > 0 {
            line.push_str(", ");
            line.push_str(&self.paint(YELLOW, &format!("{} skipped", s.scenarios_skipped)));
        }
        writeln!(self.out, "{line}")?;
        writeln!(
            self.out,
            "{} ({} failed), {}, {} in {}",
            plural(s.checks, "check"),
            s.checks_failed,
            plural(s.warnings, "warning"),
            plural(s.requests, "request"),
            duration(report.duration_ms)
        )
    }
}

impl<W: Write + Send> Reporter for TerminalReporter<W> {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::RunStarted { target, scenarios } => {
                writeln!(
                    self.out,
                    "running {} against {target}",
                    plural(*scenarios as u64, "scenario")
                )
            }
            RunEvent::Notice { message } => writeln!(self.out, "note: {message}"),
            RunEvent::ScenarioStarted { .. } => Ok(()),
            RunEvent::StepFinished { step, .. } => self.step_mark(step),
            RunEvent::ScenarioFinished { result } => self.scenario(result),
            RunEvent::RunFinished { report } => self.finish(report),
        }
    }
}

fn join_or_dash(items: impl Iterator<Item = String>) -> String {
    let joined = items.collect::<Vec<_>>().join(",");
    if joined.is_empty() { "-".to_string() } else { joined }
}

fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Greedy word wrap on spaces; continuation lines are indented by two.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("lines is never empty");
        if !line.trim().is_empty() && line.len() + 1 + word.len() > width {
            lines.push(format!("  {word}"));
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::report::sample;

    fn render(color: bool, events: &[RunEvent]) -> String {
        let mut reporter = TerminalReporter::new(Vec::new(), color);
        for event in events {
            reporter.on_event(event).unwrap();
        }
        String::from_utf8(reporter.into_inner()).unwrap()
    }

    /// `lines` joined, each ending with a newline.
    fn lines(lines: &[&str]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    fn whole_run(report: &RunReport) -> Vec<RunEvent> {
        let mut events = vec![RunEvent::RunStarted {
            target: report.target.clone(),
            scenarios: report.scenarios.len(),
        }];
        for scenario in &report.scenarios {
            events.push(RunEvent::ScenarioStarted {
                name: scenario.name.clone(),
                file: scenario.file.clone(),
            });
            for step in &scenario.steps {
                events.push(RunEvent::StepFinished {
                    scenario: scenario.name.clone(),
                    step: Box::new(step.clone()),
                });
            }
            events.push(RunEvent::ScenarioFinished {
                result: Box::new(scenario.clone()),
            });
        }
        events.push(RunEvent::RunFinished {
            report: Box::new(report.clone()),
        });
        events
    }

    #[test]
    fn steps_leave_one_mark_each_then_the_scenario_line() {
        let report = sample::rich();
        let out = render(false, &whole_run(&report));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "running 3 scenarios against http://127.0.0.1:3000");
        assert_eq!(lines[1], ".Fs");
        assert_eq!(
            lines[2],
            "FAIL users <script>alert(1)</script> (scenarios/smoke/users.yaml) 120 ms"
        );
        assert!(out.contains("\n.\nPASS conversations (scenarios/smoke/conversations.yaml) 80 ms\n"));
        assert!(out.contains("\nSKIP files (scenarios/contract/files.yaml) 0 ms\n"));
    }

    #[test]
    fn a_failed_step_shows_location_checks_diff_and_last_curl() {
        let report = sample::rich();
        let out = render(
            false,
            &[RunEvent::ScenarioFinished {
                result: Box::new(report.scenarios[0].clone()),
            }],
        );
        let expected = lines(&[
            "  - steps: create user at scenarios/smoke/users.yaml:7:5",
            "    [status] expected status 201, got 400",
            "      at status: expected 201, got 400",
            "    [schema] body does not match responses/createUser.json",
            "      at /user/id: expected \"string\", got 42",
            "      at /user/name: required property missing",
            "    error: connection reset after headers",
            "    curl -X POST 'http://127.0.0.1:3000/v1/chat/users?a=1&b=<2>' -H 'authorization: Bearer ***'",
        ]);
        assert!(out.ends_with(&expected), "{out}");
        // Warnings and passing checks stay out of the failure details.
        assert!(!out.contains("unknown-field"));
        assert!(!out.contains("delete user"));
    }

    #[test]
    fn run_end_prints_coverage_leaks_and_summary() {
        let report = sample::rich();
        let out = render(
            false,
            &[RunEvent::RunFinished {
                report: Box::new(report),
            }],
        );
        let expected = lines(&[
            "  operation   requests  statuses     error types",
            "  createUser         3  201,400,500  InvalidPayload",
            "uncovered (2): getUser, listUsers",
            "covered 1 of 60 operations",
            "leaks (1), left on the target:",
            "  DELETE /v1/chat/users/user_1 (users): status 500",
            "steps: 4 of 6 run, 1 skipped, 1 blocked; by reason:",
            "     1  blocked by an earlier step",
            "     1  requires reference-storage",
            "rate limited: 2 answers waited out and sent again, 2.0 s of waiting",
            "1 passed, 1 failed, 1 skipped",
            "5 checks (2 failed), 1 warning, 6 requests in 1.23 s",
        ]);
        assert_eq!(out, expected);
    }

    #[test]
    fn an_empty_run_has_no_skipped_count_and_no_leaks() {
        let out = render(false, &whole_run(&sample::minimal()));
        let expected = lines(&[
            "running 0 scenarios against http://127.0.0.1:3000",
            "covered 0 of 60 operations",
            "0 passed, 0 failed",
            "0 checks (0 failed), 0 warnings, 0 requests in 0 ms",
        ]);
        assert_eq!(out, expected);
    }

    #[test]
    fn long_uncovered_lists_wrap() {
        let text = format!("uncovered (30): {}", vec!["someOperation"; 30].join(", "));
        let lines = wrap(&text, WIDTH);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= WIDTH));
        assert!(lines[1..].iter().all(|l| l.starts_with("  someOperation")));
    }

    #[rstest]
    #[case(false)]
    #[case(true)]
    fn colour_only_when_asked(#[case] color: bool) {
        let out = render(color, &whole_run(&sample::rich()));
        assert_eq!(out.contains('\x1b'), color);
        if color {
            assert!(out.contains("\x1b[31mFAIL\x1b[0m users"));
            assert!(out.contains("\x1b[32mPASS\x1b[0m conversations"));
            assert!(out.contains("\x1b[33mSKIP\x1b[0m files"));
            assert!(out.contains("\x1b[32m1 passed\x1b[0m, \x1b[31m1 failed\x1b[0m, \x1b[33m1 skipped\x1b[0m\n"));
        } else {
            assert!(out.contains("\n1 passed, 1 failed, 1 skipped\n"));
        }
    }
}
