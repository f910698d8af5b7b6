//! The JSON Lines stream: one JSON object per run event, flushed as soon as it is written,
//! so a run that is interrupted keeps a record of everything it finished.

use std::io::{self, Write};

use serde::Serialize;

use super::event::{Reporter, RunEvent};
use super::model::{CoverageRow, FORMAT_VERSION, Leak, Outcome, ScenarioResult, StepResult, Summary};

/// Writes each event as one line of JSON, tagged by `event`.
pub struct JsonLinesReporter<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesReporter<W> {
    pub fn new(out: W) -> Self {
        JsonLinesReporter { out }
    }

    /// The stream back, e.g. the buffer a test wrote into.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One line. The run's end leaves the scenarios out: each was already sent on its own line,
/// and the whole report goes to `report.json`.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Line<'a> {
    RunStarted {
        format_version: u32,
        target: &'a str,
        scenarios: usize,
    },
    Notice {
        message: &'a str,
    },
    ScenarioStarted {
        name: &'a str,
        file: &'a str,
    },
    StepFinished {
        scenario: &'a str,
        step: &'a StepResult,
    },
    ScenarioFinished {
        result: &'a ScenarioResult,
    },
    RunFinished {
        outcome: Outcome,
        duration_ms: f64,
        summary: &'a Summary,
        coverage: &'a [CoverageRow],
        leaks: &'a [Leak],
    },
}

impl<'a> From<&'a RunEvent> for Line<'a> {
    fn from(event: &'a RunEvent) -> Self {
        match event {
            RunEvent::RunStarted { target, scenarios } => Line::RunStarted {
                format_version: FORMAT_VERSION,
                target,
                scenarios: *scenarios,
            },
            RunEvent::Notice { message } => Line::Notice { message },
            RunEvent::ScenarioStarted { name, file } => Line::ScenarioStarted { name, file },
            RunEvent::StepFinished { scenario, step } => Line::StepFinished { scenario, step },
            RunEvent::ScenarioFinished { result } => Line::ScenarioFinished { result },
            RunEvent::RunFinished { report } => Line::RunFinished {
                outcome: report.outcome,
                duration_ms: report.duration_ms,
                summary: &report.summary,
                coverage: &report.coverage,
                leaks: &report.leaks,
            },
        }
    }
}

impl<W: Write + Send> Reporter for JsonLinesReporter<W> {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &Line::from(event))?;
        self.out.write_all(b"\n")?;
        // Flushed per line: the point of the stream is to survive an interrupted run.
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::sample;

    /// Records the bytes and how many of them had been flushed.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        flushed: usize,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            self.flushed = self.bytes.len();
            Ok(())
        }
    }

    fn events() -> Vec<RunEvent> {
        let report = sample::rich();
        let scenario = report.scenarios[0].clone();
        vec![
            RunEvent::RunStarted {
                target: report.target.clone(),
                scenarios: 3,
            },
            RunEvent::ScenarioStarted {
                name: scenario.name.clone(),
                file: scenario.file.clone(),
            },
            RunEvent::StepFinished {
                scenario: scenario.name.clone(),
                step: Box::new(scenario.steps[1].clone()),
            },
            RunEvent::ScenarioFinished {
                result: Box::new(scenario),
            },
            RunEvent::RunFinished {
                report: Box::new(report),
            },
        ]
    }

    #[test]
    fn each_event_is_one_parsable_line_flushed_at_once() {
        let mut reporter = JsonLinesReporter::new(Recorder::default());
        for event in events() {
            reporter.on_event(&event).unwrap();
            let out = &reporter.out;
            assert_eq!(out.flushed, out.bytes.len());
            assert!(out.bytes.ends_with(b"\n"));
        }
        let text = String::from_utf8(reporter.into_inner().bytes).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "run_started",
                "scenario_started",
                "step_finished",
                "scenario_finished",
                "run_finished"
            ]
        );
        assert_eq!(lines[0]["format_version"], FORMAT_VERSION);
        assert_eq!(lines[2]["scenario"], "users <script>alert(1)</script>");
        let step: StepResult = serde_json::from_value(lines[2]["step"].clone()).unwrap();
        assert_eq!(step, sample::rich().scenarios[0].steps[1]);
        assert_eq!(lines[3]["result"]["outcome"], "failed");
        assert_eq!(lines[4]["summary"]["scenarios_failed"], 1);
        assert_eq!(lines[4]["leaks"].as_array().unwrap().len(), 1);
        assert!(lines[4].get("scenarios").is_none());
    }

    #[test]
    fn notices_are_lines_of_their_own() {
        let mut reporter = JsonLinesReporter::new(Recorder::default());
        let message = "created bot b1".to_string();
        reporter.on_event(&RunEvent::Notice { message }).unwrap();
        let text = String::from_utf8(reporter.into_inner().bytes).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(
            line,
            serde_json::json!({ "event": "notice", "message": "created bot b1" })
        );
    }
}
