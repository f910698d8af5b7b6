//! The command line: what was typed (clap) and what each command does with it.

mod run;
mod selftest;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Prove the checks can fail: the suite against the faithful server and against each fault.
    Selftest(SelftestArgs),
    /// Start the embedded reference server.
    Serve(ServeArgs),
}

/// Runs a parsed command line to its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Selftest(args) => selftest::run(args).await,
        Command::Serve(args) => serve::run(args).await,
    }
}
