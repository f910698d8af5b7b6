//! `bpharness selftest`: the suite against the faithful server, then against each fault.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::exit;
use crate::report::write_files;
use crate::runner::RunError;
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

pub async fn run(args: SelftestArgs) -> ExitCode {
    let plan = match args.run.plan() {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::exit::USAGE);
        }
    };
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
    let result = selftest(&plan, &faults, &fuzz_only, |v| print_verdict(&mut std::io::stderr(), v)).await;
    let (baseline, report) = match result {
        Ok(pair) => pair,
        Err(RunError::InvalidScenarios(errors)) => {
            for e in &errors {
                let _ = writeln!(err, "{e}\n");
            }
            return ExitCode::from(exit::INVALID_INPUT);
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    for line in &report.false_positives {
        let _ = writeln!(err, "false positive: {line}");
    }
    for line in &report.fuzz_false_positives {
        let _ = writeln!(err, "fuzz false positive: {line}");
    }
    if let Err(e) = std::fs::create_dir_all(&args.run.report_dir)
        .and_then(|_| write_files(&args.run.report_dir, &baseline))
        .and_then(|_| write_selftest_json(&args.run.report_dir, &report))
    {
        let _ = writeln!(err, "error: cannot write the reports: {e}");
    }
    let _ = writeln!(
        err,
        "caught {} of {} fault runs, false positives {} (fuzz {}) ({:.1} s)",
        report.caught(),
        report.runs(),
        report.false_positives.len(),
        report.fuzz_false_positives.len(),
        report.duration_ms / 1000.0
    );
    if report.passed() {
        ExitCode::from(exit::OK)
    } else {
        ExitCode::from(exit::CHECK_FAILED)
    }
}
