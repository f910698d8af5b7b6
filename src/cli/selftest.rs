//! `bpharness selftest`: the suite against the faithful server, then against each fault.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::error::{CliError, Outcome, Verdict};
use crate::report::{Progress, live_progress, write_files};
use crate::selftest::{FaultVerdict, SelftestReport, selftest};
use crate::server::fault::{Fault, fuzz_faults, suite_faults};

use super::run::RunArgs;

#[derive(Debug, Args)]
pub struct SelftestArgs {
    /// Only these faults (repeatable; default: the whole catalogue).
    #[arg(long = "fault")]
    pub faults: Vec<Fault>,
    #[command(flatten)]
    pub run: RunArgs,
}

fn print_verdict(out: &mut impl Write, v: &FaultVerdict) {
    let caught: Vec<&str> = v.caught_by.iter().map(String::as_str).collect();
    let verdict = if v.caught() {
        format!("caught by {}", caught.join(", "))
    } else if v.caught_by.is_empty() {
        "NOT CAUGHT".into()
    } else {
        format!("NOT CAUGHT by {} (only by {})", v.missed.join(", "), caught.join(", "))
    };
    let _ = writeln!(out, "  {:36} {:26} {verdict}", v.fault, v.family);
}

/// The selftest report as JSON, beside the baseline run's reports.
fn write_selftest_json(dir: &std::path::Path, report: &SelftestReport) -> std::io::Result<PathBuf> {
    let path = dir.join("selftest.json");
    let tmp = dir.join(format!(".selftest.json.{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

pub async fn run(args: SelftestArgs) -> Outcome {
    let plan = args.run.plan().map_err(CliError::Usage)?;
    let (faults, fuzz_only): (Vec<Fault>, Vec<Fault>) = if args.faults.is_empty() {
        (suite_faults(), fuzz_faults())
    } else {
        (
            args.faults.iter().copied().filter(|f| f.caught_by_suite()).collect(),
            args.faults
                .iter()
                .copied()
                .filter(|f| !f.fuzz_expected_checks().is_empty())
                .collect(),
        )
    };
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "selftest: the suite against the faithful server, then once per fault ({}); fuzz likewise ({})",
        faults.len(),
        fuzz_only.len()
    );
    let mut progress = Progress::new("fault runs", live_progress());
    progress.start((faults.len() + fuzz_only.len()) as u64);
    let result = selftest(&plan, &faults, &fuzz_only, |v| {
        progress.suspend(|| print_verdict(&mut std::io::stderr(), v));
        progress.advance(!v.caught());
    })
    .await;
    progress.finish();
    let (baseline, report) = result?;
    for line in &report.false_positives {
        let _ = writeln!(err, "false positive: {line}");
    }
    for line in &report.fuzz_false_positives {
        let _ = writeln!(err, "fuzz false positive: {line}");
    }
    let dir = &args.run.report_dir;
    std::fs::create_dir_all(dir)
        .and_then(|_| write_files(dir, &baseline))
        .and_then(|_| write_selftest_json(dir, &report))
        .map_err(|source| CliError::Output {
            path: dir.clone(),
            source,
        })?;
    let _ = writeln!(
        err,
        "caught {} of {} fault runs, false positives {} (fuzz {}) ({:.1} s)",
        report.caught(),
        report.runs(),
        report.false_positives.len(),
        report.fuzz_false_positives.len(),
        report.duration_ms / 1000.0
    );
    Ok(Verdict::checks(report.passed()))
}
