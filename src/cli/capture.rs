//! `capture`, `schemas infer`, `schemas diff` and `drift`: from a server's real answers to
//! schemas, and from schemas to a verdict on drift.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, Subcommand, ValueEnum};

use crate::capture::{CaptureSink, Har, read_har, to_har, write_har};
use crate::contract::SchemaSet;
use crate::drift::{DriftReport, documents_from, documents_of, drift, render_markdown, render_text};
use crate::exit;
use crate::infer::{infer, write_dir};
use crate::runner::{RunPlan, run};

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
    Infer {
        /// HAR files.
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        /// Output directory (responses/<op>.json, errors/<Type>.json).
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare two schema directories: OLD is the contract, NEW what a server does now.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
    },
    /// Write the contract (catalogue, schemas, error body, bearer auth) as an OpenAPI 3.1 document.
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
async fn capture_run(args: &RunArgs) -> Result<Har, ExitCode> {
    let sink = CaptureSink::default();
    let plan = match args.plan() {
        Ok(plan) => RunPlan {
            capture: Some(sink.clone()),
            ..plan
        },
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(exit::USAGE));
        }
    };
    match run(&plan, &mut [], Arc::new(AtomicBool::new(false))).await {
        Ok(_) => Ok(to_har(&sink.take())),
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(match e {
                crate::runner::RunError::InvalidScenarios(_) | crate::runner::RunError::InvalidSchemas(_) => {
                    exit::INVALID_INPUT
                }
                crate::runner::RunError::Unreachable { .. } => exit::UNREACHABLE,
                _ => exit::USAGE,
            }))
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

pub async fn capture(args: CaptureArgs) -> ExitCode {
    let har = match capture_run(&args.run).await {
        Ok(har) => har,
        Err(code) => return code,
    };
    let mut bytes = Vec::new();
    if let Err(e) = write_har(&mut bytes, &har).and_then(|_| write_file(&args.out, &bytes)) {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        return ExitCode::from(exit::USAGE);
    }
    eprintln!("captured {} exchanges to {}", har.log.entries.len(), args.out.display());
    ExitCode::from(exit::OK)
}

fn load_dir(dir: &Path) -> Result<crate::drift::Documents, ExitCode> {
    SchemaSet::load_dir(dir).map(|set| documents_of(&set)).map_err(|e| {
        eprintln!("{}", e.render());
        ExitCode::from(exit::INVALID_INPUT)
    })
}

fn print_report(report: &DriftReport, format: DriftFormat) {
    match format {
        DriftFormat::Text => print!("{}", render_text(report)),
        DriftFormat::Markdown => print!("{}", render_markdown(report)),
        DriftFormat::Json => println!("{}", serde_json::to_string_pretty(report).unwrap_or_default()),
    }
}

fn verdict(report: &DriftReport) -> ExitCode {
    if report.breaking() > 0 {
        ExitCode::from(exit::CHECK_FAILED)
    } else {
        ExitCode::from(exit::OK)
    }
}

pub fn schemas(command: SchemasCommand) -> ExitCode {
    match command {
        SchemasCommand::Infer { captures, out } => {
            let mut hars = Vec::new();
            for path in &captures {
                let text = match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("error: cannot read {}: {e}", path.display());
                        return ExitCode::from(exit::INVALID_INPUT);
                    }
                };
                match read_har(&text) {
                    Ok(har) => hars.push(har),
                    Err(e) => {
                        eprintln!(
                            "error: {}:{}:{}: not a HAR file: {e}",
                            path.display(),
                            e.line(),
                            e.column()
                        );
                        return ExitCode::from(exit::INVALID_INPUT);
                    }
                }
            }
            let inferred = infer(&hars);
            if let Err(e) = write_dir(&out, &inferred) {
                eprintln!("error: cannot write {}: {e}", out.display());
                return ExitCode::from(exit::USAGE);
            }
            eprintln!("inferred {} schemas into {}", inferred.len(), out.display());
            ExitCode::from(exit::OK)
        }
        SchemasCommand::Diff { old, new, format } => {
            let (contract, observed) = match (load_dir(&old), load_dir(&new)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(code), _) | (_, Err(code)) => return code,
            };
            let report = drift(&contract, &observed);
            print_report(&report, format);
            verdict(&report)
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
                    ExitCode::from(exit::OK)
                }
                Some(path) => match write_file(&path, text.as_bytes()) {
                    Ok(()) => {
                        eprintln!("wrote the OpenAPI 3.1 document to {}", path.display());
                        ExitCode::from(exit::OK)
                    }
                    Err(e) => {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        ExitCode::from(exit::USAGE)
                    }
                },
            }
        }
    }
}

pub async fn drift_command(args: DriftArgs) -> ExitCode {
    let har = match capture_run(&args.run).await {
        Ok(har) => har,
        Err(code) => return code,
    };
    let inferred = infer(&[har]);
    let contract = match &args.run.schemas {
        Some(dir) => match load_dir(dir) {
            Ok(docs) => docs,
            Err(code) => return code,
        },
        None => documents_of(SchemaSet::embedded()),
    };
    let report = drift(&contract, &documents_from(&inferred));
    print_report(&report, DriftFormat::Text);
    let dir = &args.run.report_dir;
    let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
    let written = write_file(&dir.join("drift.json"), &json)
        .and_then(|_| write_file(&dir.join("drift.md"), render_markdown(&report).as_bytes()));
    match written {
        Ok(()) => eprintln!(
            "reports: {}, {}",
            dir.join("drift.json").display(),
            dir.join("drift.md").display()
        ),
        Err(e) => eprintln!("error: cannot write the drift reports: {e}"),
    }
    verdict(&report)
}
