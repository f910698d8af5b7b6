//! `RunEvent`: the only interface between the runner and the live reporters. The runner
//! sends these as things happen; it never prints.

use super::model::{RunReport, ScenarioResult, StepResult};

#[derive(Debug, Clone)]
pub enum RunEvent {
    RunStarted {
        target: String,
        scenarios: usize,
    },
    /// Something the run did besides the scenarios (bots it created or deleted).
    Notice {
        message: String,
    },
    ScenarioStarted {
        name: String,
        file: String,
    },
    StepFinished {
        scenario: String,
        step: Box<StepResult>,
    },
    ScenarioFinished {
        result: Box<ScenarioResult>,
    },
    RunFinished {
        report: Box<RunReport>,
    },
}

/// Something that follows a run live (terminal output, the JSON Lines stream).
pub trait Reporter: Send {
    fn on_event(&mut self, event: &RunEvent) -> std::io::Result<()>;
}
