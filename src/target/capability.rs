//! What a target can do beyond the documentation, and what a run was given: the names a
//! scenario or a step lists under `requires:`.
//!
//! The documentation is the contract. Everything the reference server does that the docs
//! leave open is a *behaviour* here, so a step that relies on it runs only against a target
//! that has it and is skipped, with the reason, everywhere else. *Inputs* are what the run
//! must be handed (ids it cannot make itself).

use std::collections::BTreeMap;
use std::fmt;

/// Whether a requirement is a behaviour of the server or an input of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something the reference server does that the docs leave open.
    Behaviour,
    /// Something the run must be given or must make (a workspace, another bot...).
    Input,
}

/// One requirement name.
#[derive(Debug)]
pub struct Capability {
    pub name: &'static str,
    pub kind: Kind,
    /// What it means, in one line.
    pub summary: &'static str,
    /// How a user grants it when it is missing.
    pub hint: &'static str,
}

/// Every requirement a scenario may name.
pub const CAPABILITIES: &[Capability] = &[
    Capability {
        name: "builtin-actions",
        kind: Kind::Behaviour,
        summary: "callAction knows the reference actions echo, sum and fail, and caches echo",
        hint: "a bot whose code defines them; grant with --capability builtin-actions",
    },
    Capability {
        name: "activity-from-traffic",
        kind: Kind::Behaviour,
        summary: "bot logs, analytics and issues are made from API traffic (a real server's come from bot code)",
        hint: "grant with --capability activity-from-traffic",
    },
    Capability {
        name: "reference-storage",
        kind: Kind::Behaviour,
        summary: "upload and download URLs answer JSON error bodies and carry signature= and expires=",
        hint: "grant with --capability reference-storage",
    },
    Capability {
        name: "reference-limits",
        kind: Kind::Behaviour,
        summary: "the reference server's limits the docs do not state (100 MiB per file, 50 MiB per bot...)",
        hint: "grant with --capability reference-limits",
    },
    Capability {
        name: "ranking",
        kind: Kind::Behaviour,
        summary: "search results come in the reference server's order (BM25 passages, table search score)",
        hint: "grant with --capability ranking",
    },
    Capability {
        name: "page-token-binding",
        kind: Kind::Behaviour,
        summary: "a nextToken replayed with another bot, list or filters is refused (the docs only say to send it back)",
        hint: "grant with --capability page-token-binding",
    },
    Capability {
        name: "table-results",
        kind: Kind::Behaviour,
        summary: "findTableRows' group output field names and the order of missing values are the reference server's",
        hint: "grant with --capability table-results",
    },
    Capability {
        name: "reference-timing",
        kind: Kind::Behaviour,
        summary: "each status is held long enough for a poll every 20 ms to read it (indexing starts when the upload is first read)",
        hint: "grant with --capability reference-timing",
    },
    Capability {
        name: "error-wording",
        kind: Kind::Behaviour,
        summary: "error messages are worded as the reference server words them",
        hint: "grant with --capability error-wording",
    },
    Capability {
        name: "workspace",
        kind: Kind::Input,
        summary: "a workspace id, for the admin API",
        hint: "set BP_WORKSPACE_ID (--workspace-id)",
    },
    Capability {
        name: "other-bot",
        kind: Kind::Input,
        summary: "a second bot the token may use, for isolation",
        hint: "set BP_OTHER_BOT_ID, or give BP_WORKSPACE_ID and no bot id so the run creates both bots",
    },
    Capability {
        name: "other-workspace",
        kind: Kind::Input,
        summary: "a workspace the token may not enter, for isolation",
        hint: "set BP_OTHER_WORKSPACE_ID (--other-workspace-id)",
    },
    Capability {
        name: "other-workspace-bot",
        kind: Kind::Input,
        summary: "a bot of that other workspace, for isolation",
        hint: "set BP_OTHER_WORKSPACE_BOT_ID (--other-workspace-bot-id)",
    },
    Capability {
        name: "bot-definition",
        kind: Kind::Input,
        summary: "the bot declares the tags, states and event types of scenarios/bot-definition.yaml",
        hint: "let the run create its bots (BP_WORKSPACE_ID without BP_BOT_ID), or pass --configure-bot",
    },
];

/// The built-in variables that stand for an input, and the input they need.
pub const INPUT_VARIABLES: &[(&str, &str)] = &[
    ("workspace_id", "workspace"),
    ("other_bot_id", "other-bot"),
    ("other_workspace_id", "other-workspace"),
    ("other_workspace_bot_id", "other-workspace-bot"),
];

/// The catalogue entry of `name`.
#[must_use]
pub fn find(name: &str) -> Option<&'static Capability> {
    CAPABILITIES.iter().find(|c| c.name == name)
}

/// Every name, for did-you-mean hints.
pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    CAPABILITIES.iter().map(|c| c.name)
}

/// What one target has: for each capability, present or missing with the reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capabilities {
    missing: BTreeMap<&'static str, String>,
}

impl Capabilities {
    /// Every capability present (the reference server, embedded or reached remotely).
    #[must_use]
    pub fn all() -> Self {
        Capabilities::default()
    }

    /// Only what the docs promise: every behaviour missing, for `why`.
    #[must_use]
    pub fn documented_only(why: &str) -> Self {
        let missing = CAPABILITIES
            .iter()
            .filter(|c| c.kind == Kind::Behaviour)
            .map(|c| (c.name, why.to_string()))
            .collect();
        Capabilities { missing }
    }

    /// Marks `name` present.
    pub fn grant(&mut self, name: &str) {
        self.missing.retain(|n, _| *n != name);
    }

    /// Marks `name` missing, for `why`.
    pub fn withhold(&mut self, name: &str, why: impl Into<String>) {
        if let Some(c) = find(name) {
            self.missing.insert(c.name, why.into());
        }
    }

    /// Why `name` is missing, or `None` when the target has it.
    #[must_use]
    pub fn lacks(&self, name: &str) -> Option<&str> {
        self.missing.get(name).map(String::as_str)
    }

    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.lacks(name).is_none()
    }

    /// The names present, in catalogue order.
    #[must_use]
    pub fn present(&self) -> Vec<&'static str> {
        names().filter(|n| self.has(n)).collect()
    }

    /// The names missing with their reasons, in catalogue order.
    #[must_use]
    pub fn absent(&self) -> Vec<(&'static str, &str)> {
        names().filter_map(|n| self.lacks(n).map(|why| (n, why))).collect()
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = self.present();
        if present.is_empty() {
            f.write_str("none beyond the docs")
        } else {
            f.write_str(&present.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_only_lacks_every_behaviour_and_no_input() {
        let caps = Capabilities::documented_only("not the reference server");
        for c in CAPABILITIES {
            assert_eq!(caps.has(c.name), c.kind == Kind::Input, "{}", c.name);
        }
        assert_eq!(caps.lacks("ranking"), Some("not the reference server"));
    }

    #[test]
    fn grants_and_withholds_by_name() {
        let mut caps = Capabilities::documented_only("other server");
        caps.grant("ranking");
        caps.withhold("other-bot", "no BP_OTHER_BOT_ID");
        caps.withhold("no-such-thing", "ignored");
        assert!(caps.has("ranking"));
        assert_eq!(caps.lacks("other-bot"), Some("no BP_OTHER_BOT_ID"));
        assert!(!caps.present().contains(&"no-such-thing"));
        assert!(find("ranking").is_some() && find("rank").is_none());
    }

    #[test]
    fn input_variables_name_inputs() {
        for (_, input) in INPUT_VARIABLES {
            assert_eq!(find(input).map(|c| c.kind), Some(Kind::Input), "{input}");
        }
    }
}
