//! `bpharness run`: command-line flags into a `RunPlan`, reporters, exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::error::{CliError, Outcome, Verdict};
use crate::report::{
    JsonLinesReporter, Progress, ProgressReporter, Reporter, TerminalReporter, live_progress, write_files,
};
use crate::runner::{RunPlan, run as run_plan};
use crate::target::TargetArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or directories (default: the suite built into bpharness; `scenarios export` writes it out).
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Run only scenarios with one of these tags (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Where report.json, junit.xml, report.html and events.jsonl go.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Stop starting scenarios after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Unknown extra fields in responses fail instead of warning.
    #[arg(long)]
    pub strict: bool,
    /// Seconds one request may take, all of it.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Read schemas from this directory instead of the ones built in.
    #[arg(long)]
    pub schemas: Option<PathBuf>,
    /// Colours in terminal output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Also write every exchange to this HAR 1.2 file (secrets masked).
    #[arg(long)]
    pub capture: Option<PathBuf>,
    /// Multiply every poll deadline by this, for a server slower than the suite expects.
    #[arg(long, default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Seconds the whole run may wait for rate limits (429 with Retry-After) before a 429 fails its step.
    #[arg(long, default_value_t = 120.0)]
    pub max_retry_wait: f64,
}

fn parse_time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.01..=1000.0).contains(&f) => Ok(f),
        _ => Err(format!("expected a number from 0.01 to 1000, got {text:?}")),
    }
}

impl RunArgs {
    pub fn plan(&self) -> Result<RunPlan, String> {
        Ok(RunPlan {
            paths: self.paths.clone(),
            target: self.target.spec()?,
            tags: self.tags.clone(),
            jobs: usize::from(self.jobs),
            fail_fast: self.fail_fast,
            strict: self.strict,
            timeout: Duration::from_secs_f64(self.timeout.clamp(0.001, 3600.0)),
            schemas_dir: self.schemas.clone(),
            time_scale: self.time_scale,
            max_retry_wait: Duration::from_secs_f64(self.max_retry_wait.clamp(0.0, 86_400.0)),
            ..RunPlan::default()
        })
    }

    fn color(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
        }
    }
}

/// First Ctrl-C: finish the steps under way, run the cleanup ledgers, write the reports.
/// Second: exit at once.
pub(super) fn watch_interrupts(cancelled: Arc<AtomicBool>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancelled.store(true, Ordering::Relaxed);
            eprintln!("\ninterrupted: finishing the steps under way and cleaning up (Ctrl-C again to exit now)");
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
}

pub async fn run(args: RunArgs) -> Outcome {
    let mut plan = args.plan().map_err(CliError::Usage)?;
    let sink = args.capture.as_ref().map(|_| crate::capture::CaptureSink::default());
    plan.capture = sink.clone();
    std::fs::create_dir_all(&args.report_dir).map_err(|source| CliError::Output {
        path: args.report_dir.clone(),
        source,
    })?;
    let terminal = TerminalReporter::new(std::io::stderr(), args.color()).without_marks();
    let progress = Progress::new("scenarios", live_progress());
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(ProgressReporter::new(terminal, progress))];
    match std::fs::File::create(args.report_dir.join("events.jsonl")) {
        Ok(file) => reporters.push(Box::new(JsonLinesReporter::new(std::io::BufWriter::new(file)))),
        Err(e) => eprintln!("warning: no events.jsonl stream: {e}"),
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    watch_interrupts(cancelled.clone());
    let report = run_plan(&plan, &mut reporters, cancelled).await?;
    drop(reporters);
    if let (Some(path), Some(sink)) = (&args.capture, &sink) {
        let har = crate::capture::to_har(&sink.take());
        let mut bytes = Vec::new();
        crate::capture::write_har(&mut bytes, &har)
            .and_then(|_| std::fs::write(path, &bytes))
            .map_err(|source| CliError::Output {
                path: path.clone(),
                source,
            })?;
        eprintln!("captured {} exchanges to {}", har.log.entries.len(), path.display());
    }
    let paths = write_files(&args.report_dir, &report).map_err(|source| CliError::Output {
        path: args.report_dir.clone(),
        source,
    })?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    eprintln!("reports: {}", names.join(", "));
    Ok(Verdict::checks(report.outcome != crate::report::Outcome::Failed))
}
