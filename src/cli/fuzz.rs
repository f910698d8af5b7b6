//! `bpharness fuzz`: flags into a `FuzzPlan`, the reporters of `run`, the closing lines and
//! the exit code (0 no failure, 1 failures, 2 usage, 4 unreachable).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::Args;

use crate::fuzz::{FuzzPlan, FuzzSummary, Phase, fuzz};
use crate::report::{JsonLinesReporter, Reporter, TerminalReporter, write_files};
use crate::target::TargetArgs;

use super::error::{CliError, Outcome, Verdict};
use super::run::Color;

#[derive(Debug, Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only this operation (repeatable; default: all 60).
    #[arg(long = "operation")]
    pub operations: Vec<String>,
    /// Seed of the generator: the same seed sends the same cases.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Cases per operation and phase, at most.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_examples: u32,
    /// No case starts after this long (`60s`, `2m`, `500ms`).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub time_budget: Duration,
    /// Phases to run, comma-separated.
    #[arg(long, default_value = "positive,negative,coverage,stateful", value_delimiter = ',', value_parser = Phase::parse)]
    pub phases: Vec<Phase>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Unknown extra fields in responses fail instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Where report.json, junit.xml, report.html and events.jsonl go.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Where failures are saved, and replayed from first (default: REPORT_DIR/fuzz-corpus).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Colours in terminal output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// `60s`, `2m`, `500ms`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n * scale <= 86_400.0 => Ok(Duration::from_secs_f64(n * scale)),
        _ => Err(format!("expected a duration such as 60s, 2m or 500ms, got {text:?}")),
    }
}

impl FuzzArgs {
    pub fn plan(&self) -> Result<FuzzPlan, String> {
        let mut phases = self.phases.clone();
        phases.sort();
        phases.dedup();
        Ok(FuzzPlan {
            target: self.target.spec()?,
            operations: self.operations.clone(),
            seed: self.seed,
            max_examples: self.max_examples as usize,
            time_budget: self.time_budget,
            phases,
            jobs: usize::from(self.jobs),
            strict: self.strict,
            timeout: Duration::from_secs_f64(self.timeout.clamp(0.001, 3600.0)),
            corpus: Some(
                self.corpus
                    .clone()
                    .unwrap_or_else(|| self.report_dir.join("fuzz-corpus")),
            ),
        })
    }
}

/// The closing lines: failures with their minimal curl, counts per phase, the summary line.
pub fn print_summary(out: &mut impl Write, summary: &FuzzSummary) -> std::io::Result<()> {
    for f in &summary.failures {
        writeln!(
            out,
            "FAIL {} ({}, {}): [{}] {}",
            f.operation,
            f.phase.name(),
            f.meaning,
            f.check,
            f.message
        )?;
        writeln!(out, "  minimal: {}", f.curl)?;
        if let Some(path) = &f.saved {
            writeln!(out, "  saved: {}", path.display())?;
        }
    }
    for (phase, count) in &summary.phases {
        writeln!(
            out,
            "  {:9} {:6} cases, {} failures",
            phase.name(),
            count.cases,
            count.failures
        )?;
    }
    if summary.out_of_time {
        writeln!(out, "note: the time budget ended the run before every case was sent")?;
    }
    writeln!(out, "seed {}", summary.seed)?;
    writeln!(out, "{}", summary.line())
}

pub async fn run(args: FuzzArgs) -> Outcome {
    let plan = args.plan().map_err(CliError::Usage)?;
    std::fs::create_dir_all(&args.report_dir).map_err(|source| CliError::Output {
        path: args.report_dir.clone(),
        source,
    })?;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            use std::io::IsTerminal;
            std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
        }
    };
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(TerminalReporter::new(std::io::stderr(), color))];
    match std::fs::File::create(args.report_dir.join("events.jsonl")) {
        Ok(file) => reporters.push(Box::new(JsonLinesReporter::new(std::io::BufWriter::new(file)))),
        Err(e) => eprintln!("warning: no events.jsonl stream: {e}"),
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    super::run::watch_interrupts(cancelled.clone());
    let (report, summary) = fuzz(&plan, &mut reporters, cancelled).await?;
    drop(reporters);
    let paths = write_files(&args.report_dir, &report).map_err(|source| CliError::Output {
        path: args.report_dir.clone(),
        source,
    })?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    eprintln!("reports: {}", names.join(", "));
    let _ = print_summary(&mut std::io::stderr(), &summary);
    Ok(Verdict::checks(summary.failures.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_issue_writes_them() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
