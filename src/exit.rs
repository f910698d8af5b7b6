//! Exit codes, in one documented place: the constants, and the table README "Exit codes"
//! shows (a test keeps the two the same, and `tests/it/cli.rs` proves each cell).

/// Every check passed.
pub const OK: u8 = 0;
/// At least one check failed.
pub const CHECK_FAILED: u8 = 1;
/// Usage error: bad flags or arguments (clap's own code).
pub const USAGE: u8 = 2;
/// A scenario or schema file is invalid; nothing was sent.
pub const INVALID_INPUT: u8 = 3;
/// The target could not be reached.
pub const UNREACHABLE: u8 = 4;
/// A load run finished, and at least one of its thresholds was breached.
pub const THRESHOLD_BREACHED: u8 = 5;
/// Internal error: a bug in bpharness.
pub const INTERNAL: u8 = 70;

/// Every command, by the words typed after `bpharness`.
pub const COMMANDS: [&str; 10] = [
    "run",
    "capture",
    "drift",
    "schemas infer",
    "schemas diff",
    "load",
    "report merge",
    "scenarios export",
    "selftest",
    "serve",
];

/// One row of the exit-code table.
#[derive(Debug, Clone, Copy)]
pub struct ExitRow {
    pub code: u8,
    pub meaning: &'static str,
    /// The commands that can end with this code; empty: every command.
    pub commands: &'static [&'static str],
}

/// The exit codes, what each means and which commands can end with it.
pub const TABLE: [ExitRow; 7] = [
    ExitRow {
        code: OK,
        meaning: "every check passed (`serve`: stopped; `scenarios export`, `schemas infer`: written)",
        commands: &[],
    },
    ExitRow {
        code: CHECK_FAILED,
        meaning: "at least one check failed; `drift`, `schemas diff`: a breaking change; `selftest`: a fault not caught or a false positive",
        commands: &["run", "drift", "schemas diff", "selftest"],
    },
    ExitRow {
        code: USAGE,
        meaning: "usage error: bad flags, a path that does not exist (the message says what was looked for), an output that cannot be written, an address `serve` cannot listen on",
        commands: &[],
    },
    ExitRow {
        code: INVALID_INPUT,
        meaning: "a scenario, schema, profile, HAR or load.json file is invalid, shown with its location; nothing was sent",
        commands: &[
            "run",
            "capture",
            "drift",
            "schemas infer",
            "schemas diff",
            "load",
            "report merge",
            "selftest",
        ],
    },
    ExitRow {
        code: UNREACHABLE,
        meaning: "the target could not be reached",
        commands: &["run", "capture", "drift", "load"],
    },
    ExitRow {
        code: THRESHOLD_BREACHED,
        meaning: "a load threshold was breached",
        commands: &["load", "report merge"],
    },
    ExitRow {
        code: INTERNAL,
        meaning: "internal error: a bug in bpharness (a panicked task, say); please report it",
        commands: &[],
    },
];

/// The commands that can end with `code`.
#[must_use]
pub fn commands_of(row: &ExitRow) -> Vec<&'static str> {
    if row.commands.is_empty() {
        COMMANDS.to_vec()
    } else {
        row.commands.to_vec()
    }
}

/// README's "Exit codes" table.
#[must_use]
pub fn readme_table() -> String {
    let mut out = String::from("| code | meaning | commands |\n|---|---|---|\n");
    for row in TABLE {
        let commands = if row.commands.is_empty() {
            "all".to_string()
        } else {
            row.commands
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!("| {} | {} | {commands} |\n", row.code, row.meaning));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_shows_the_table() {
        let readme = include_str!("../README.md");
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README's exit-code table differs; it should read:\n{table}"
        );
    }
}
