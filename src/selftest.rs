//! `selftest`: the harness measures its own power to catch contract violations. The suite
//! runs once against the faithful embedded server (every failure there is a false
//! positive), then once per fault of the catalogue (each must turn at least one check red).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use crate::fuzz::{FuzzPlan, fuzz};
use crate::report::{CheckOutcome, RunReport};
use crate::runner::{RunError, RunPlan, run};
use crate::server::fault::Fault;

/// What one fault's run showed.
#[derive(Debug, Clone, Serialize)]
pub struct FaultVerdict {
    pub fault: String,
    pub family: String,
    pub description: String,
    /// The ids of the checks that failed with the fault on.
    pub caught_by: BTreeSet<String>,
    /// The checks the catalogue says must fail with this fault on, which did not.
    pub missed: Vec<String>,
    /// How many checks failed.
    pub failed_checks: u64,
}

impl FaultVerdict {
    /// Caught: some check failed, and every check the catalogue expects among them.
    pub fn caught(&self) -> bool {
        !self.caught_by.is_empty() && self.missed.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SelftestReport {
    /// `scenario / step: [check] message` for each check that failed on the faithful server.
    pub false_positives: Vec<String>,
    pub verdicts: Vec<FaultVerdict>,
    /// `operation / case: [check] message` for each check `fuzz` failed on the faithful server.
    pub fuzz_false_positives: Vec<String>,
    /// `fuzz` against each fault it is asked to catch (`Fault::fuzz_expected_checks`).
    pub fuzz_verdicts: Vec<FaultVerdict>,
    pub duration_ms: f64,
}

impl SelftestReport {
    pub fn caught(&self) -> usize {
        self.verdicts
            .iter()
            .chain(&self.fuzz_verdicts)
            .filter(|v| v.caught())
            .count()
    }

    pub fn runs(&self) -> usize {
        self.verdicts.len() + self.fuzz_verdicts.len()
    }

    pub fn passed(&self) -> bool {
        self.false_positives.is_empty() && self.fuzz_false_positives.is_empty() && self.caught() == self.runs()
    }
}

/// Every failed check of a report, as `scenario / step: [check] message`.
pub fn failed_checks(report: &RunReport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in &report.scenarios {
        for step in &s.steps {
            for c in step.checks.iter().filter(|c| c.outcome == CheckOutcome::Fail) {
                out.push((
                    c.check.clone(),
                    format!("{} / {}: [{}] {}", s.name, step.name, c.check, c.message),
                ));
            }
        }
    }
    out
}

/// The verdict on one fault run: the checks that failed, and those of `expected` that did
/// not (a fault counts as caught only when every expected check failed).
fn judge(fault: Fault, family: String, expected: &[&str], report: &RunReport) -> FaultVerdict {
    let failed = failed_checks(report);
    let caught_by: BTreeSet<String> = failed.iter().map(|(check, _)| check.clone()).collect();
    let missed = expected
        .iter()
        .filter(|c| !caught_by.contains(**c))
        .map(|c| (*c).to_string())
        .collect();
    FaultVerdict {
        fault: fault.name().into(),
        family,
        description: fault.description().into(),
        caught_by,
        missed,
        failed_checks: failed.len() as u64,
    }
}

/// Poll deadlines under selftest, as a share of the suite's (see `selftest`).
pub const SELFTEST_TIME_SCALE: f64 = 0.2;

/// Fault runs at once: each is a whole suite against its own server.
const FAULT_RUNS_AT_ONCE: usize = 4;

/// Runs the baseline and one run per fault in `faults`, both with `--strict`, then `fuzz`
/// against the faithful server and against each of `fuzz_faults`. `plan.target` must be
/// `None`: the faults live in the embedded server.
pub async fn selftest(
    plan: &RunPlan,
    faults: &[Fault],
    fuzz_faults: &[Fault],
    mut on_verdict: impl FnMut(&FaultVerdict),
) -> Result<(RunReport, SelftestReport), RunError> {
    if plan.target.url.is_some() {
        return Err(RunError::Usage(
            "selftest runs against the embedded server; drop --target".into(),
        ));
    }
    // The harness at its strictest: unknown extra fields fail, so faults that add fields
    // are caught, and the faithful server must still be all green.
    // The embedded server's states move within 50 ms to 1 s: the deadlines made for real
    // servers are cut to a fifth, so a fault that leaves a status stuck costs seconds, not
    // half a minute per poll.
    let plan = &RunPlan {
        strict: true,
        time_scale: plan.time_scale * SELFTEST_TIME_SCALE,
        ..plan.clone()
    };
    let started = Instant::now();
    let baseline = run(plan, &mut [], Arc::new(AtomicBool::new(false))).await?;
    let false_positives = failed_checks(&baseline).into_iter().map(|(_, line)| line).collect();
    // Fault runs are independent (each has its own embedded server): a few at a time.
    let mut pending = faults.iter().copied().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let mut verdicts: Vec<(usize, FaultVerdict)> = Vec::new();
    loop {
        while running.len() < FAULT_RUNS_AT_ONCE {
            let Some((index, fault)) = pending.next() else { break };
            let mut faulty = plan.clone();
            faulty.target.server.faults = BTreeSet::from([fault]);
            running.spawn(async move {
                (
                    index,
                    fault,
                    run(&faulty, &mut [], Arc::new(AtomicBool::new(false))).await,
                )
            });
        }
        let Some(joined) = running.join_next().await else { break };
        let (index, fault, result) = joined.map_err(|e| RunError::Internal(format!("a selftest run failed: {e}")))?;
        let verdict = judge(fault, fault.family().name().into(), fault.expected_checks(), &result?);
        on_verdict(&verdict);
        verdicts.push((index, verdict));
    }
    verdicts.sort_by_key(|(index, _)| *index);
    let verdicts: Vec<FaultVerdict> = verdicts.into_iter().map(|(_, v)| v).collect();
    let (fuzz_false_positives, fuzz_verdicts) = fuzz_selftest(plan, fuzz_faults, &mut on_verdict).await?;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok((
        baseline,
        SelftestReport {
            false_positives,
            verdicts,
            fuzz_false_positives,
            fuzz_verdicts,
            duration_ms,
        },
    ))
}

/// `fuzz` with its default settings against the faithful server (every failure is a false
/// positive), then against each fault (each must fail the checks `fuzz_expected_checks`
/// names), a few at a time.
async fn fuzz_selftest(
    plan: &RunPlan,
    faults: &[Fault],
    on_verdict: &mut impl FnMut(&FaultVerdict),
) -> Result<(Vec<String>, Vec<FaultVerdict>), RunError> {
    if faults.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let base = FuzzPlan {
        target: plan.target.clone(),
        ..FuzzPlan::default()
    };
    let (baseline, _) = fuzz(&base, &mut [], Arc::new(AtomicBool::new(false))).await?;
    let false_positives = failed_checks(&baseline).into_iter().map(|(_, line)| line).collect();
    let mut pending = faults.iter().copied().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let mut verdicts: Vec<(usize, FaultVerdict)> = Vec::new();
    loop {
        while running.len() < FAULT_RUNS_AT_ONCE {
            let Some((index, fault)) = pending.next() else { break };
            let mut faulty = base.clone();
            faulty.target.server.faults = BTreeSet::from([fault]);
            running.spawn(async move {
                let result = fuzz(&faulty, &mut [], Arc::new(AtomicBool::new(false))).await;
                (index, fault, result.map(|(report, _)| report))
            });
        }
        let Some(joined) = running.join_next().await else { break };
        let (index, fault, result) = joined.map_err(|e| RunError::Usage(format!("a fuzz selftest run failed: {e}")))?;
        let verdict = judge(
            fault,
            format!("fuzz: {}", fault.family().name()),
            fault.fuzz_expected_checks(),
            &result?,
        );
        on_verdict(&verdict);
        verdicts.push((index, verdict));
    }
    verdicts.sort_by_key(|(index, _)| *index);
    Ok((false_positives, verdicts.into_iter().map(|(_, v)| v).collect()))
}

/// Checks no server fault can break, proven against the hostile test double instead
/// (`tests/it/checks.rs`).
pub const PROVEN_BY_DOUBLE: &[&str] = &[
    "transport",
    "no-redirect",
    "poll-initial",
    "poll-transition",
    "poll-terminal",
    "poll-timeout",
    "rate-limit",
];

/// The README section "What bpharness checks": every check, what it verifies, and what
/// proves that it can fail: the faults whose catalogue entry expects it (which `selftest`
/// proves) and the hostile double. Built from the catalogue, so it is the same on every
/// machine however the run is timed.
#[must_use]
pub fn checks_table() -> String {
    let mut out = String::from("| check | verifies | proven by |\n|---|---|---|\n");
    for (id, what) in crate::runner::CHECKS {
        let mut proofs: Vec<String> = crate::server::fault::suite_faults()
            .into_iter()
            .filter(|f| f.expected_checks().contains(id))
            .map(|f| format!("`{}`", f.name()))
            .collect();
        proofs.extend(
            crate::server::fault::fuzz_faults()
                .into_iter()
                .filter(|f| f.fuzz_expected_checks().contains(id))
                .map(|f| format!("`{}` (fuzz)", f.name())),
        );
        if PROVEN_BY_DOUBLE.contains(id) {
            proofs.push("hostile double (tests/it/checks.rs)".into());
        }
        let proven = if proofs.is_empty() {
            "—".to_string()
        } else {
            proofs.join(", ")
        };
        out.push_str(&format!("| `{id}` | {what} | {proven} |\n"));
    }
    out
}
