//! `capture`, `schemas infer`, `schemas diff` and `drift`: from a server's real answers to
//! schemas, and from schemas to a verdict on drift.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, Subcommand, ValueEnum};

use crate::capture::{CaptureSink, Har, read_har, to_har, write_har};
use crate::contract::SchemaSet;
use crate::drift::{DriftReport, documents_from, documents_of, drift, render_markdown, render_text};
use crate::infer::{infer, write_dir};
use crate::runner::{RunPlan, run};

use super::error::{CliError, Outcome, Verdict};
use super::run::RunArgs;

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Where to write the HAR file.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Infer one JSON Schema per operation (and per error type) from captured traffic.
    #[command(after_help = super::examples::SCHEMAS_INFER)]
    Infer {
        /// HAR files.
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        /// Output directory (responses/<op>.json, errors/<Type>.json).
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare two schema directories: OLD is the contract, NEW what a server does now.
    #[command(after_help = super::examples::SCHEMAS_DIFF)]
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
    },
    /// Write the contract (catalogue, schemas, error body, bearer auth) as an OpenAPI 3.1 document.
    #[command(after_help = super::examples::SCHEMAS_OPENAPI)]
    Openapi {
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

/// Runs `args` capturing every exchange; the run's own verdict is not the point here.
async fn capture_run(args: &RunArgs) -> Result<Har, CliError> {
    let sink = CaptureSink::default();
    let plan = RunPlan {
        capture: Some(sink.clone()),
        ..args.plan().map_err(CliError::Usage)?
    };
    run(&plan, &mut [], Arc::new(AtomicBool::new(false))).await?;
    Ok(to_har(&sink.take()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let written = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
    .and_then(|()| std::fs::write(path, bytes));
    written.map_err(|source| CliError::Output {
        path: path.to_path_buf(),
        source,
    })
}

pub async fn capture(args: CaptureArgs) -> Outcome {
    let har = capture_run(&args.run).await?;
    let mut bytes = Vec::new();
    write_har(&mut bytes, &har).map_err(|source| CliError::Output {
        path: args.out.clone(),
        source,
    })?;
    write_file(&args.out, &bytes)?;
    eprintln!("captured {} exchanges to {}", har.log.entries.len(), args.out.display());
    Ok(Verdict::Passed)
}

fn load_dir(dir: &Path) -> Result<crate::drift::Documents, CliError> {
    if !dir.is_dir() {
        return Err(CliError::MissingPath {
            what: "schema directory",
            path: dir.to_path_buf(),
            hint: "give a directory of JSON Schemas, such as one `schemas infer` wrote".into(),
        });
    }
    SchemaSet::load_dir(dir)
        .map(|set| documents_of(&set))
        .map_err(CliError::InvalidSchemas)
}

fn print_report(report: &DriftReport, format: DriftFormat) {
    match format {
        DriftFormat::Text => print!("{}", render_text(report)),
        DriftFormat::Markdown => print!("{}", render_markdown(report)),
        DriftFormat::Json => println!("{}", serde_json::to_string_pretty(report).unwrap_or_default()),
    }
}

fn verdict(report: &DriftReport) -> Verdict {
    Verdict::checks(report.breaking() == 0)
}

pub fn schemas(command: SchemasCommand) -> Outcome {
    match command {
        SchemasCommand::Infer { captures, out } => {
            let mut hars = Vec::new();
            for path in &captures {
                let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => CliError::MissingPath {
                        what: "capture",
                        path: path.clone(),
                        hint: "give HAR files written by `bpharness capture --out FILE` or `run --capture FILE`".into(),
                    },
                    _ => CliError::InvalidInput(format!("cannot read {}: {e}", path.display())),
                })?;
                let har = read_har(&text).map_err(|e| {
                    CliError::InvalidInput(format!(
                        "{}:{}:{}: not a HAR file: {e}",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                })?;
                hars.push(har);
            }
            let inferred = infer(&hars);
            write_dir(&out, &inferred).map_err(|source| CliError::Output {
                path: out.clone(),
                source,
            })?;
            eprintln!("inferred {} schemas into {}", inferred.len(), out.display());
            Ok(Verdict::Passed)
        }
        SchemasCommand::Diff { old, new, format } => {
            let contract = load_dir(&old)?;
            let observed = load_dir(&new)?;
            let report = drift(&contract, &observed);
            print_report(&report, format);
            Ok(verdict(&report))
        }
        SchemasCommand::Openapi { out } => {
            let doc = crate::contract::openapi(SchemaSet::embedded());
            let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            text.push('\n');
            match out {
                None => {
                    use std::io::Write as _;
                    // A closed pipe (`| head`) is a clean end, not an error.
                    let _ = std::io::stdout().write_all(text.as_bytes());
                }
                Some(path) => {
                    write_file(&path, text.as_bytes())?;
                    eprintln!("wrote the OpenAPI 3.1 document to {}", path.display());
                }
            }
            Ok(Verdict::Passed)
        }
    }
}

pub async fn drift_command(args: DriftArgs) -> Outcome {
    // The contract first: a broken schema directory is named before anything is sent.
    let contract = match &args.run.schemas {
        Some(dir) => load_dir(dir)?,
        None => documents_of(SchemaSet::embedded()),
    };
    let har = capture_run(&args.run).await?;
    let inferred = infer(&[har]);
    let report = drift(&contract, &documents_from(&inferred));
    print_report(&report, DriftFormat::Text);
    let dir = &args.run.report_dir;
    let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
    write_file(&dir.join("drift.json"), &json)?;
    write_file(&dir.join("drift.md"), render_markdown(&report).as_bytes())?;
    eprintln!(
        "reports: {}, {}",
        dir.join("drift.json").display(),
        dir.join("drift.md").display()
    );
    Ok(verdict(&report))
}
