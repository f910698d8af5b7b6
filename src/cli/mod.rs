//! The command line: what was typed (clap) and what each command does with it.

mod capture;
mod fuzz;
mod load;
mod report;
mod run;
mod selftest;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use self::capture::{CaptureArgs, DriftArgs, SchemasCommand};
pub use self::fuzz::{FuzzArgs, print_summary as print_fuzz_summary};
pub use self::load::LoadArgs;
pub use self::report::{MergeArgs, ReportArgs, ReportCommand, merge_files};
pub use self::run::RunArgs;
pub use self::selftest::SelftestArgs;
pub use self::serve::ServeArgs;

/// Contract and load testing for the Botpress Cloud API.
#[derive(Debug, Parser)]
#[command(name = "bpharness", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against a target (default: the embedded reference server).
    Run(RunArgs),
    /// Run scenarios and write every exchange as HAR 1.2 (secrets masked).
    Capture(CaptureArgs),
    /// Infer schemas from captured traffic, or compare two schema directories.
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// Capture, infer and compare with schemas/ in one go; non-zero exit on breaking drift.
    Drift(DriftArgs),
    /// Send the steps of a load profile as load, checks on, and measure (default: the embedded server, rate limiter on).
    Load(LoadArgs),
    /// Work with reports: merge the load.json files of segments.
    Report(ReportArgs),
    /// Prove the checks can fail: the suite against the faithful server and against each fault.
    Selftest(SelftestArgs),
    /// Start the embedded reference server.
    Serve(ServeArgs),
    /// Send requests generated from the contract (valid, invalid, boundaries, sequences) and check every answer.
    Fuzz(FuzzArgs),
}

/// Runs a parsed command line to its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Capture(args) => capture::capture(args).await,
        Command::Schemas(command) => capture::schemas(command),
        Command::Drift(args) => capture::drift_command(args).await,
        Command::Load(args) => load::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Selftest(args) => selftest::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Fuzz(args) => fuzz::run(args).await,
    }
}
