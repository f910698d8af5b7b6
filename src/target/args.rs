//! The target flags, declared once and flattened into every command that talks to a
//! server, each with the `BP_*` variable the official client reads.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

use super::capability::{CAPABILITIES, find, names};
use super::resolve::TargetSpec;

#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// Base URL of the server under test; without it, the embedded reference server is started.
    #[arg(long, env = "BP_API_URL")]
    pub target: Option<String>,
    /// Bearer token for the target.
    #[arg(long, env = "BP_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Bot id sent as x-bot-id; without it (and with a workspace id) the run creates its bots.
    #[arg(long, env = "BP_BOT_ID")]
    pub bot_id: Option<String>,
    /// Workspace id sent as x-workspace-id.
    #[arg(long, env = "BP_WORKSPACE_ID")]
    pub workspace_id: Option<String>,
    /// A second bot the token may use, for isolation scenarios.
    #[arg(long, env = "BP_OTHER_BOT_ID")]
    pub other_bot_id: Option<String>,
    /// A workspace the token may not enter, for isolation scenarios.
    #[arg(long, env = "BP_OTHER_WORKSPACE_ID")]
    pub other_workspace_id: Option<String>,
    /// A bot of that other workspace, for isolation scenarios.
    #[arg(long, env = "BP_OTHER_WORKSPACE_BOT_ID")]
    pub other_workspace_bot_id: Option<String>,
    /// Grant a capability beyond the docs to the target (repeatable, or comma-separated; `all`).
    #[arg(long = "capability", value_delimiter = ',')]
    pub capabilities: Vec<String>,
    /// A YAML file naming the target's capabilities: `capabilities: [ranking, error-wording]`.
    #[arg(long)]
    pub target_profile: Option<PathBuf>,
    /// Add the suite's bot definition (tags, states, event types) to the bot given by id.
    #[arg(long)]
    pub configure_bot: bool,
}

/// A target profile file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    #[serde(default)]
    capabilities: Vec<String>,
}

impl TargetArgs {
    /// The validated spec: capability names known, the profile file read.
    pub fn spec(&self) -> Result<TargetSpec, String> {
        let mut grants = Vec::new();
        let mut asked = self.capabilities.clone();
        if let Some(path) = &self.target_profile {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the target profile {}: {e}", path.display()))?;
            let profile: Profile =
                serde_saphyr::from_str(&text).map_err(|e| format!("invalid target profile {}: {e}", path.display()))?;
            asked.extend(profile.capabilities);
        }
        for name in asked.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if name == "all" {
                grants.extend(CAPABILITIES.iter().map(|c| c.name.to_string()));
            } else if find(name).is_some() {
                grants.push(name.to_string());
            } else {
                let hint = crate::scenario::did_you_mean(name, names())
                    .unwrap_or_else(|| format!("known: {}", names().collect::<Vec<_>>().join(", ")));
                return Err(format!("unknown capability `{name}`; {hint}"));
            }
        }
        Ok(TargetSpec {
            url: self.target.clone(),
            token: self.token.clone(),
            bot_id: self.bot_id.clone(),
            workspace_id: self.workspace_id.clone(),
            other_bot_id: self.other_bot_id.clone(),
            other_workspace_id: self.other_workspace_id.clone(),
            other_workspace_bot_id: self.other_workspace_bot_id.clone(),
            grants,
            configure_bot: self.configure_bot,
            ..TargetSpec::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_checked_by_name() {
        let args = TargetArgs {
            capabilities: vec!["ranking".into(), "error-wording".into()],
            ..TargetArgs::default()
        };
        assert_eq!(args.spec().unwrap().grants, ["ranking", "error-wording"]);
        let args = TargetArgs {
            capabilities: vec!["rankng".into()],
            ..TargetArgs::default()
        };
        let err = args.spec().unwrap_err();
        assert!(
            err.contains("unknown capability `rankng`") && err.contains("ranking"),
            "{err}"
        );
    }
}
