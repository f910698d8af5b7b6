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

/// Hands `event` to every reporter. A reporter that cannot write (a closed pipe) does not
/// stop the run.
pub fn emit(reporters: &mut [Box<dyn Reporter>], event: &RunEvent) {
    for r in reporters.iter_mut() {
        let _ = r.on_event(event);
    }
}

/// Opens a run (`run` and `fuzz` alike): `RunStarted` with the target's label and the
/// number of scenarios, then one notice per line of what the target says of itself.
pub fn announce(
    reporters: &mut [Box<dyn Reporter>],
    target: String,
    scenarios: usize,
    notices: impl IntoIterator<Item = String>,
) {
    emit(reporters, &RunEvent::RunStarted { target, scenarios });
    for message in notices {
        emit(reporters, &RunEvent::Notice { message });
    }
}
