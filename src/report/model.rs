//! `RunReport`: the one serializable result of a run. Every file writer (JSON, JUnit, HTML)
//! reads this and nothing else, so the formats cannot disagree.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version of the JSON report format (`schemas/report.schema.json`).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run; a step says why in its `skip`.
    Skipped,
}

/// Why a step did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub kind: SkipKind,
    /// One line: the requirement and why the target lacks it, or the variable and the step
    /// that should have captured it.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// The step requires a capability or an input the target lacks.
    Requirement,
    /// The step uses a variable that a failed or skipped step should have captured.
    Blocked,
    /// The run was interrupted (Ctrl-C, `--fail-fast`) before the step.
    Interrupted,
}

impl Skip {
    /// The reason as a report groups it: `requires ranking`, `blocked`, `interrupted`.
    #[must_use]
    pub fn group(&self) -> String {
        match self.kind {
            SkipKind::Requirement => self.reason.split(':').next().unwrap_or(&self.reason).trim().to_string(),
            SkipKind::Blocked => "blocked by an earlier step".into(),
            SkipKind::Interrupted => "interrupted".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Pass,
    Fail,
    /// Reported but not failing: unknown extra fields unless `--strict`.
    Warn,
}

/// One difference between what was expected and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffEntry {
    /// JSON Pointer into the response body (or a description such as `header content-type`).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    pub message: String,
}

/// One check applied to one response (or to a sequence: pages, poll trace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's family id, e.g. `status`, `schema`, `page-unique`, `poll-transition`.
    pub check: String,
    pub outcome: CheckOutcome,
    /// What was checked, or on failure what went wrong, in one line.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffEntry>,
}

/// The request half of an exchange, secrets already masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The response half, its body cut to a readable length and secrets masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body was longer than what is kept here.
    pub truncated: bool,
    pub elapsed_ms: f64,
}

/// One HTTP exchange as the report keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// A transport failure (timeout, reset, unreadable body) instead of a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A curl command that reproduces the request, token masked.
    pub curl: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Setup,
    Steps,
    Teardown,
    Cleanup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Request,
    Paginate,
    Poll,
    Cleanup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub name: String,
    pub section: Section,
    pub kind: StepKind,
    /// Where the step is written (1-based), 0 when it has no place in a file (cleanup).
    pub line: usize,
    pub column: usize,
    /// The operationId the step exercised, when it matched the catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub outcome: Outcome,
    pub duration_ms: f64,
    pub checks: Vec<CheckResult>,
    /// The exchanges worth showing (all for failures, a bounded number otherwise).
    pub exchanges: Vec<Exchange>,
    /// How many requests the step sent in all.
    pub requests: u64,
    /// Values a `poll` step observed, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
    /// Why the step did not run, when `outcome` is `skipped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub file: String,
    pub tags: Vec<String>,
    pub outcome: Outcome,
    pub duration_ms: f64,
    pub steps: Vec<StepResult>,
}

/// Which documented operations a run exercised, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageRow {
    pub operation: String,
    pub area: String,
    pub method: String,
    pub path: String,
    pub requests: u64,
    pub statuses: BTreeSet<u16>,
    pub error_types: BTreeSet<String>,
}

/// A resource the cleanup ledger could not delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    pub scenario: String,
    pub method: String,
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenarios: u64,
    pub scenarios_passed: u64,
    pub scenarios_failed: u64,
    pub scenarios_skipped: u64,
    pub steps: u64,
    pub steps_failed: u64,
    /// Steps not run for a requirement the target lacks.
    #[serde(default)]
    pub steps_skipped: u64,
    /// Steps not run because an earlier step failed to give them a variable.
    #[serde(default)]
    pub steps_blocked: u64,
    /// Skipped and blocked steps by reason (`requires ranking`, `blocked by an earlier step`).
    #[serde(default)]
    pub skipped_by_reason: std::collections::BTreeMap<String, u64>,
    /// 429 answers waited out and sent again, and the time spent waiting.
    #[serde(default)]
    pub rate_limit_retries: u64,
    #[serde(default)]
    pub rate_limit_wait_ms: f64,
    pub checks: u64,
    pub checks_failed: u64,
    pub warnings: u64,
    pub requests: u64,
    pub operations_covered: u64,
    pub operations_total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub format_version: u32,
    /// `bpharness <version>`.
    pub tool: String,
    pub target: String,
    /// The target was the embedded reference server.
    pub embedded: bool,
    /// What the target can do beyond the docs (and the inputs the run had).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// What the target lacks, with the reason: steps requiring these were skipped.
    #[serde(default)]
    pub missing_capabilities: std::collections::BTreeMap<String, String>,
    pub strict: bool,
    /// Faults switched on in the embedded server, if any (self-test runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// RFC 3339.
    pub started_at: String,
    pub duration_ms: f64,
    pub outcome: Outcome,
    pub summary: Summary,
    pub scenarios: Vec<ScenarioResult>,
    pub coverage: Vec<CoverageRow>,
    pub leaks: Vec<Leak>,
}
