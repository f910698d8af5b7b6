//! `bpharness report merge`: load.json files of segments (or runs) into one report.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::error::{CliError, Outcome, Verdict};
use crate::load::{LoadReport, evaluate, merge, parse_threshold, write_load_files, write_summary};

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Combine load.json files exactly: counts summed, histograms added, series aligned by second.
    #[command(after_help = super::examples::REPORT_MERGE)]
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
pub fn merge_files(files: &[PathBuf]) -> Result<LoadReport, CliError> {
    let mut reports = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CliError::MissingPath {
                what: "load report",
                path: file.clone(),
                hint: "give the load.json files that `bpharness load --report-dir DIR` wrote".into(),
            },
            _ => CliError::InvalidInput(format!("cannot read {}: {e}", file.display())),
        })?;
        let report: LoadReport = serde_json::from_str(&text)
            .map_err(|e| CliError::InvalidInput(format!("{} is not a load report: {e}", file.display())))?;
        reports.push(report);
    }
    let mut merged = merge(&reports).map_err(CliError::InvalidInput)?;
    let thresholds = merged
        .thresholds
        .iter()
        .map(|t| parse_threshold(&t.threshold))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::InvalidInput)?;
    merged.thresholds = evaluate(&thresholds, &merged);
    merged.outcome = if merged.passed() { "passed" } else { "failed" }.into();
    Ok(merged)
}

pub async fn run(args: ReportArgs) -> Outcome {
    match args.command {
        ReportCommand::Merge(args) => {
            let merged = merge_files(&args.files)?;
            let _ = write_summary(&mut std::io::stderr(), &merged);
            let paths = write_load_files(&args.out, &merged).map_err(|source| CliError::Output {
                path: args.out.clone(),
                source,
            })?;
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            eprintln!("reports: {}", names.join(", "));
            Ok(if merged.passed() {
                Verdict::Passed
            } else {
                Verdict::ThresholdBreached
            })
        }
    }
}
