//! The command line: what was typed (clap) and what each command does with it.

mod capture;
mod error;
mod examples;
mod fuzz;
mod load;
mod report;
mod run;
mod scenarios;
mod selftest;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use self::capture::{CaptureArgs, DriftArgs, SchemasCommand};
pub use self::error::{CliError, Outcome, Verdict};
pub use self::fuzz::{FuzzArgs, print_summary as print_fuzz_summary};
pub use self::load::LoadArgs;
pub use self::report::{MergeArgs, ReportArgs, ReportCommand, merge_files};
pub use self::run::RunArgs;
pub use self::scenarios::ScenariosCommand;
pub use self::selftest::SelftestArgs;
pub use self::serve::ServeArgs;

/// Contract and load testing for the Botpress Cloud API.
#[derive(Debug, Parser)]
#[command(name = "bpharness", version, about, after_help = examples::BPHARNESS)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against a target (default: the built-in suite against the embedded reference server).
    #[command(after_help = examples::RUN)]
    Run(RunArgs),
    /// Run scenarios and write every exchange as HAR 1.2 (secrets masked).
    #[command(after_help = examples::CAPTURE)]
    Capture(CaptureArgs),
    /// Infer schemas from captured traffic, or compare two schema directories.
    #[command(subcommand, after_help = examples::SCHEMAS)]
    Schemas(SchemasCommand),
    /// Capture, infer and compare with the contract's schemas in one go; exit 1 on breaking drift.
    #[command(after_help = examples::DRIFT)]
    Drift(DriftArgs),
    /// Send the steps of a load profile as load, checks on, and measure (default: the embedded server, rate limiter on).
    #[command(after_help = examples::LOAD)]
    Load(LoadArgs),
    /// Work with reports: merge the load.json files of segments.
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// The suite built into bpharness: write it out to read, copy and extend.
    #[command(subcommand, after_help = examples::SCENARIOS)]
    Scenarios(ScenariosCommand),
    /// Prove the checks can fail: the suite against the faithful server and against each fault.
    #[command(after_help = examples::SELFTEST)]
    Selftest(SelftestArgs),
    /// Start the embedded reference server.
    #[command(after_help = examples::SERVE)]
    Serve(ServeArgs),
    /// Send requests generated from the contract (valid, invalid, boundaries, sequences) and check every answer.
    #[command(after_help = examples::FUZZ)]
    Fuzz(FuzzArgs),
}

/// Runs a parsed command line to its exit code: the verdict's, or the error's after it is
/// printed.
pub async fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Capture(args) => capture::capture(args).await,
        Command::Schemas(command) => capture::schemas(command),
        Command::Drift(args) => capture::drift_command(args).await,
        Command::Load(args) => load::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Scenarios(command) => scenarios::run(command),
        Command::Selftest(args) => selftest::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Fuzz(args) => fuzz::run(args).await,
    };
    match outcome {
        Ok(verdict) => ExitCode::from(verdict.exit_code()),
        Err(e) => {
            eprintln!("{}", e.render());
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every command and subcommand, by its full name (`bpharness schemas diff`).
    fn every_command() -> Vec<(String, clap::Command)> {
        fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            let name = format!("{prefix}{}", cmd.get_name());
            out.push((name.clone(), cmd.clone()));
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(&format!("{name} "), sub, out);
            }
        }
        let mut out = Vec::new();
        walk("", &Cli::command(), &mut out);
        out
    }

    #[test]
    fn every_help_ends_with_two_or_three_examples() {
        let commands = every_command();
        assert!(commands.len() >= 13, "{}", commands.len());
        for (name, mut cmd) in commands {
            let help = cmd.render_long_help().to_string();
            let tail = help
                .rsplit_once("Examples:\n")
                .unwrap_or_else(|| panic!("{name}: no examples in\n{help}"))
                .1;
            let lines: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
            assert!((2..=3).contains(&lines.len()), "{name}: {lines:?}");
            for line in lines {
                assert!(line.starts_with(&format!("  {name}")), "{name}: {line}");
            }
        }
    }
}
