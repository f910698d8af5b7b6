//! `bpharness report merge`: load.json files of segments (or runs) into one report.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::exit;
use crate::load::{LoadReport, evaluate, merge, parse_threshold, write_load_files, write_summary};

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Combine load.json files exactly: counts summed, histograms added, series aligned by second.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// load.json files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where the merged load.json and load.html go.
    #[arg(long)]
    pub out: PathBuf,
}

/// Reads and merges `files`; the thresholds of the first are judged again on the sum.
pub fn merge_files(files: &[PathBuf]) -> Result<LoadReport, String> {
    let mut reports = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let report: LoadReport =
            serde_json::from_str(&text).map_err(|e| format!("{} is not a load report: {e}", file.display()))?;
        reports.push(report);
    }
    let mut merged = merge(&reports)?;
    let thresholds = merged
        .thresholds
        .iter()
        .map(|t| parse_threshold(&t.threshold))
        .collect::<Result<Vec<_>, _>>()?;
    merged.thresholds = evaluate(&thresholds, &merged);
    merged.outcome = if merged.passed() { "passed" } else { "failed" }.into();
    Ok(merged)
}

pub async fn run(args: ReportArgs) -> ExitCode {
    match args.command {
        ReportCommand::Merge(args) => {
            let merged = match merge_files(&args.files) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(exit::INVALID_INPUT);
                }
            };
            let _ = write_summary(&mut std::io::stderr(), &merged);
            match write_load_files(&args.out, &merged) {
                Ok(paths) => {
                    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                    eprintln!("reports: {}", names.join(", "));
                }
                Err(e) => {
                    eprintln!("error: cannot write the reports: {e}");
                    return ExitCode::from(exit::INTERNAL);
                }
            }
            if merged.passed() {
                ExitCode::from(exit::OK)
            } else {
                ExitCode::from(exit::THRESHOLD_BREACHED)
            }
        }
    }
}
