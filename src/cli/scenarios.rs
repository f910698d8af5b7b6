//! `bpharness scenarios export`: the suite built into the binary, written out.

use std::path::PathBuf;

use clap::Subcommand;

use super::error::{CliError, Outcome, Verdict};
use super::examples;

#[derive(Debug, Subcommand)]
pub enum ScenariosCommand {
    /// Write the built-in suite (scenario files, load profiles, bot definition) into DIR.
    #[command(after_help = examples::SCENARIOS_EXPORT)]
    Export {
        /// The directory to write into (created if needed).
        dir: PathBuf,
        /// Overwrite files that exist.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(command: ScenariosCommand) -> Outcome {
    match command {
        ScenariosCommand::Export { dir, force } => {
            let written = crate::suite::export(&dir, force).map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => CliError::Usage(source.to_string()),
                _ => CliError::Output {
                    path: dir.clone(),
                    source,
                },
            })?;
            eprintln!(
                "wrote {} files into {}; run them with `bpharness run {}`, profiles with `bpharness load --profile {}`",
                written.len(),
                dir.display(),
                dir.display(),
                dir.join(crate::suite::PROFILE_DIR)
                    .join(format!("{}.yaml", crate::suite::DEFAULT_PROFILE))
                    .display()
            );
            Ok(Verdict::Passed)
        }
    }
}
