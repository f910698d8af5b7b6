//! What a command ends with: a [`Verdict`] when it ran to its end, a [`CliError`] when it
//! could not. Both know their exit code (README "Exit codes", `crate::exit`), and the error
//! knows how it reads on a terminal; every command returns [`Outcome`] and only
//! [`super::run`] prints the error and turns it into the process's exit code (nextest's
//! `ExpectedError::process_exit_code`).

use std::path::PathBuf;

use crate::contract::SchemaError;
use crate::exit;
use crate::load::LoadError;
use crate::runner::RunError;
use crate::scenario::ScenarioError;
use crate::target::TargetError;

/// What a command that ran to its end found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed (or there was nothing to check).
    Passed,
    /// At least one check failed; for drift, a breaking change; for selftest, a fault not
    /// caught or a false positive.
    Failed,
    /// A load run (or a merge) finished with a threshold breached.
    ThresholdBreached,
}

impl Verdict {
    #[must_use]
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Passed => exit::OK,
            Verdict::Failed => exit::CHECK_FAILED,
            Verdict::ThresholdBreached => exit::THRESHOLD_BREACHED,
        }
    }

    /// `Passed` when `passed`, else `Failed`.
    #[must_use]
    pub fn checks(passed: bool) -> Self {
        if passed { Verdict::Passed } else { Verdict::Failed }
    }
}

/// Why a command could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags or arguments that clap could not tell (clap's own errors exit 2 too).
    #[error("{0}")]
    Usage(String),
    /// A path given on the command line that does not exist.
    #[error("no {what} at {}", path.display())]
    MissingPath {
        /// What was looked for: "scenario file or directory", "load profile"...
        what: &'static str,
        path: PathBuf,
        /// What to do instead.
        hint: String,
    },
    /// An output that cannot be written: a report directory, a HAR file.
    #[error("cannot write {}: {source}", path.display())]
    Output { path: PathBuf, source: std::io::Error },
    /// Scenario files with diagnostics; nothing was sent.
    #[error("{} invalid scenario file(s); nothing was sent", .0.len())]
    InvalidScenarios(Vec<ScenarioError>),
    /// A schema directory that does not load; nothing was sent.
    #[error("invalid schemas; nothing was sent")]
    InvalidSchemas(SchemaError),
    /// Another input file that is not what it should be: a load profile, a HAR capture, a
    /// load.json.
    #[error("{0}")]
    InvalidInput(String),
    /// The target did not answer.
    #[error("cannot reach the target {target}: {reason}")]
    Unreachable { target: String, reason: String },
    /// `serve` cannot listen on the address it was given.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// A bug in bpharness: a task panicked, the runtime or the embedded server failed.
    #[error("{0}")]
    Internal(String),
}

impl CliError {
    /// The process exit code for this error.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::MissingPath { .. } | CliError::Output { .. } | CliError::Listen { .. } => {
                exit::USAGE
            }
            CliError::InvalidScenarios(_) | CliError::InvalidSchemas(_) | CliError::InvalidInput(_) => {
                exit::INVALID_INPUT
            }
            CliError::Unreachable { .. } => exit::UNREACHABLE,
            CliError::Internal(_) => exit::INTERNAL,
        }
    }

    /// The error as it reads on a terminal: located diagnostics first, then `error: ...`
    /// and, where there is something to do, `hint: ...`.
    #[must_use]
    pub fn render(&self) -> String {
        match self {
            CliError::InvalidScenarios(errors) => {
                let mut out = String::new();
                for e in errors {
                    out.push_str(&format!("{e}\n\n"));
                }
                out.push_str(&format!("error: {self}"));
                out
            }
            CliError::InvalidSchemas(e) => format!("{}\nerror: {self}", e.render()),
            CliError::MissingPath { hint, .. } => format!("error: {self}\nhint: {hint}"),
            CliError::Listen { .. } => format!(
                "error: {self}\nhint: another process may hold the port; pick another with --listen (port 0: any free one)"
            ),
            CliError::Internal(_) => format!(
                "error: {self}\nnote: this is a bug in bpharness; please report it with the command line that showed it"
            ),
            _ => format!("error: {self}"),
        }
    }

    /// A missing scenario path, with what to do.
    #[must_use]
    pub fn missing_scenarios(path: PathBuf) -> Self {
        CliError::MissingPath {
            what: "scenario file or directory",
            path,
            hint: "give existing .yaml/.yml/.json files or directories of them; with no path, the suite built into \
                   bpharness runs (`bpharness scenarios export DIR` writes a copy to start from)"
                .into(),
        }
    }
}

/// What every command returns.
pub type Outcome = Result<Verdict, CliError>;

impl From<RunError> for CliError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::InvalidScenarios(errors) => CliError::InvalidScenarios(errors),
            RunError::InvalidSchemas(e) => CliError::InvalidSchemas(e),
            RunError::Unreachable { target, reason } => CliError::Unreachable { target, reason },
            RunError::Usage(m) => CliError::Usage(m),
            RunError::MissingPath(path) => CliError::missing_scenarios(path),
            e @ (RunError::Server(_) | RunError::Internal(_)) => CliError::Internal(e.to_string()),
        }
    }
}

impl From<LoadError> for CliError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Unreachable { target, reason } => CliError::Unreachable { target, reason },
            LoadError::Usage(m) => CliError::Usage(m),
            e @ (LoadError::Server(_) | LoadError::Engine(_)) => CliError::Internal(e.to_string()),
        }
    }
}

impl From<TargetError> for CliError {
    fn from(e: TargetError) -> Self {
        CliError::from(RunError::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario task that panics is a bug (70), never a usage error (2).
    #[tokio::test]
    async fn a_panicked_task_is_internal() {
        let joined = tokio::spawn(async { panic!("boom") }).await.unwrap_err();
        let e = CliError::from(RunError::Internal(format!("a scenario task failed: {joined}")));
        assert_eq!(e.exit_code(), exit::INTERNAL);
        assert!(e.render().contains("bug in bpharness"), "{}", e.render());
    }

    #[test]
    fn every_run_error_has_its_code() {
        let cases = [
            (RunError::InvalidScenarios(Vec::new()), exit::INVALID_INPUT),
            (
                RunError::InvalidSchemas(SchemaError::Missing {
                    name: "x".into(),
                    path: "x".into(),
                }),
                exit::INVALID_INPUT,
            ),
            (
                RunError::Unreachable {
                    target: "t".into(),
                    reason: "r".into(),
                },
                exit::UNREACHABLE,
            ),
            (RunError::Usage("u".into()), exit::USAGE),
            (RunError::MissingPath("nope".into()), exit::USAGE),
            (RunError::Server(std::io::Error::other("x")), exit::INTERNAL),
            (RunError::Internal("x".into()), exit::INTERNAL),
        ];
        for (e, code) in cases {
            let shown = e.to_string();
            assert_eq!(CliError::from(e).exit_code(), code, "{shown}");
        }
    }

    #[test]
    fn a_missing_path_says_what_was_looked_for_and_what_to_do() {
        let text = CliError::missing_scenarios("scenarios".into()).render();
        assert!(
            text.starts_with("error: no scenario file or directory at scenarios\nhint: "),
            "{text}"
        );
        assert!(text.contains("scenarios export"), "{text}");
        assert!(!text.contains("extension"), "{text}");
    }

    #[test]
    fn verdicts_have_their_codes() {
        assert_eq!(Verdict::Passed.exit_code(), 0);
        assert_eq!(Verdict::Failed.exit_code(), 1);
        assert_eq!(Verdict::ThresholdBreached.exit_code(), 5);
    }
}
