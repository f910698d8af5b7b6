//! From a `TargetSpec` to a ready `Target`: the embedded reference server started, or a
//! remote server reached; what it can do beyond the docs; the ids the run uses, with the
//! bots it needs created (and deleted again by `release`).

use serde_json::Value;

use crate::report::Leak;
use crate::runner::{Http, Outgoing, RetryBudget, TransportError};
use crate::server::{IDENTITY_HEADER, IDENTITY_VALUE, ServerConfig, ServerHandle, spawn_local};

use super::capability::{Capabilities, Kind, find};
use super::definition::{missing, suite_definition, update_body};
use super::provision::Admin;

/// What was asked for, validated: flags and `BP_*` variables, before anything is started.
/// The default is the embedded reference server as `serve` starts it.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Base URL; `None` starts the embedded reference server.
    pub url: Option<String>,
    pub token: Option<String>,
    pub bot_id: Option<String>,
    pub workspace_id: Option<String>,
    pub other_bot_id: Option<String>,
    pub other_workspace_id: Option<String>,
    pub other_workspace_bot_id: Option<String>,
    /// Capabilities granted beyond the docs (`--capability`, a target profile).
    pub grants: Vec<String>,
    /// Add the suite's bot definition to a bot given by id (`--configure-bot`).
    pub configure_bot: bool,
    /// Create the bots a run needs when given a workspace but no bot id.
    pub provision: bool,
    /// The embedded server's settings, when it is the target.
    pub server: ServerConfig,
}

impl Default for TargetSpec {
    fn default() -> Self {
        TargetSpec {
            url: None,
            token: None,
            bot_id: None,
            workspace_id: None,
            other_bot_id: None,
            other_workspace_id: None,
            other_workspace_bot_id: None,
            grants: Vec::new(),
            configure_bot: false,
            provision: true,
            server: ServerConfig::default(),
        }
    }
}

impl TargetSpec {
    /// A remote target reached with `token`.
    #[must_use]
    pub fn remote(url: impl Into<String>, token: impl Into<String>) -> Self {
        TargetSpec {
            url: Some(url.into()),
            token: Some(token.into()),
            ..TargetSpec::default()
        }
    }

    /// The embedded reference server with `config`.
    #[must_use]
    pub fn embedded(config: ServerConfig) -> Self {
        TargetSpec {
            server: config,
            ..TargetSpec::default()
        }
    }
}

/// What kind of server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Started in this process.
    Embedded,
    /// A `bpharness serve` reached over the network (it said so in `x-bpharness-server`).
    RemoteReference,
    /// Any other server: documented behaviour only, plus what was granted.
    Other,
}

/// Why a target could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach the target {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("cannot start the embedded reference server: {0}")]
    Server(std::io::Error),
}

/// A target ready for requests. The embedded server lives as long as this value.
pub struct Target {
    pub url: String,
    pub token: String,
    pub kind: TargetKind,
    /// The ids the built-in variables `bot_id`, `workspace_id`, `other_bot_id`,
    /// `other_workspace_id` and `other_workspace_bot_id` hold, each known or not.
    pub ids: Vec<(&'static str, Option<String>)>,
    pub capabilities: Capabilities,
    /// What the run should tell its reader about the target (bots made, checks skipped).
    pub notices: Vec<String>,
    /// What the bot given by id lacks of the suite's definition (`user tag "suite"`...).
    pub undeclared: Vec<String>,
    /// Bots made for this run, deleted by `release`: (workspace, ids).
    provisioned: Option<(String, Vec<String>)>,
    server: Option<ServerHandle>,
}

impl Target {
    /// Starts or reaches the target of `spec`, reads what it can do and makes the bots the
    /// run needs. `run_id` names them.
    pub async fn resolve(
        spec: &TargetSpec,
        http: &Http,
        retry: &RetryBudget,
        run_id: &str,
    ) -> Result<Target, TargetError> {
        let mut target = match &spec.url {
            None => Self::start_embedded(spec).await?,
            Some(url) => Self::reach(spec, url, http).await?,
        };
        for grant in &spec.grants {
            target.capabilities.grant(grant);
        }
        if target.kind != TargetKind::Embedded {
            target.provision(spec, http, retry, run_id).await?;
        }
        target.withhold_missing_inputs();
        Ok(target)
    }

    async fn start_embedded(spec: &TargetSpec) -> Result<Target, TargetError> {
        // A token given without a target is one the embedded server accepts.
        let mut config = spec.server.clone();
        if let Some(token) = &spec.token
            && !config.tokens.contains(token)
        {
            config.tokens.insert(0, token.clone());
        }
        let server = spawn_local(config).await.map_err(TargetError::Server)?;
        let seeds = server.seeds().clone();
        Ok(Target {
            url: server.url.clone(),
            token: seeds.tokens[0].clone(),
            kind: TargetKind::Embedded,
            ids: vec![
                ("bot_id", Some(seeds.bot_id)),
                ("workspace_id", Some(seeds.workspace_id)),
                ("other_bot_id", Some(seeds.other_bot_id)),
                ("other_workspace_id", Some(seeds.other_workspace_id)),
                ("other_workspace_bot_id", Some(seeds.other_workspace_bot_id)),
            ],
            capabilities: Capabilities::all(),
            notices: Vec::new(),
            undeclared: Vec::new(),
            provisioned: None,
            server: Some(server),
        })
    }

    async fn reach(spec: &TargetSpec, url: &str, http: &Http) -> Result<Target, TargetError> {
        let token = spec
            .token
            .clone()
            .ok_or_else(|| TargetError::Usage("a token is needed with --target (--token or BP_TOKEN)".into()))?;
        let url = url.trim_end_matches('/').to_string();
        let identity = probe(http, &url, &token).await?;
        let reference = identity.as_deref() == Some(IDENTITY_VALUE);
        let mut notices = Vec::new();
        let capabilities = if reference {
            notices.push("the target is a bpharness reference server: every capability".into());
            Capabilities::all()
        } else {
            Capabilities::documented_only("not the reference server (grant with --capability)")
        };
        Ok(Target {
            url,
            token,
            kind: if reference {
                TargetKind::RemoteReference
            } else {
                TargetKind::Other
            },
            ids: vec![
                ("bot_id", spec.bot_id.clone()),
                ("workspace_id", spec.workspace_id.clone()),
                ("other_bot_id", spec.other_bot_id.clone()),
                ("other_workspace_id", spec.other_workspace_id.clone()),
                ("other_workspace_bot_id", spec.other_workspace_bot_id.clone()),
            ],
            capabilities,
            notices,
            undeclared: Vec::new(),
            provisioned: None,
            server: None,
        })
    }

    /// The id held by a built-in variable.
    #[must_use]
    pub fn id(&self, name: &str) -> Option<&str> {
        self.ids
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn set_id(&mut self, name: &str, value: String) {
        if let Some((_, slot)) = self.ids.iter_mut().find(|(n, _)| *n == name) {
            *slot = Some(value);
        }
    }

    /// The reference server's own bots already declare the suite's definition.
    fn withhold_missing_inputs(&mut self) {
        for (variable, input) in super::capability::INPUT_VARIABLES {
            if self.id(variable).is_none() {
                let hint = find(input).map_or("", |c| c.hint);
                self.capabilities.withhold(input, format!("no {variable}: {hint}"));
            }
        }
    }

    /// Against a server that is not ours: create the bots the run needs (with the suite's
    /// definition), or read the bot given by id and say what its definition lacks.
    async fn provision(
        &mut self,
        spec: &TargetSpec,
        http: &Http,
        retry: &RetryBudget,
        run_id: &str,
    ) -> Result<(), TargetError> {
        let Some(workspace) = spec.workspace_id.clone() else {
            if self.id("bot_id").is_some() {
                self.notices.push(
                    "no workspace id: the bot's definition cannot be read; steps assume it declares scenarios/bot-definition.yaml"
                        .into(),
                );
            } else {
                self.notices
                    .push("neither a bot id nor a workspace id: bot-scoped requests go without x-bot-id".into());
                self.capabilities.withhold(
                    "bot-definition",
                    "no bot: set BP_BOT_ID, or BP_WORKSPACE_ID so the run creates one",
                );
            }
            return Ok(());
        };
        let admin = Admin {
            http,
            retry,
            url: &self.url,
            token: &self.token,
            workspace: &workspace,
        };
        let definition = suite_definition();
        match self.id("bot_id").map(str::to_string) {
            None if spec.provision => {
                let count = if self.id("other_bot_id").is_some() { 1 } else { 2 };
                let made = admin.create_bots(run_id, count, definition).await.map_err(|e| {
                    TargetError::Usage(format!(
                        "no bot id was given and no bot could be created in workspace {workspace}: {e}"
                    ))
                })?;
                let roles = ["bot_id", "other_bot_id"];
                let named: Vec<String> = made
                    .ids
                    .iter()
                    .zip(roles)
                    .map(|(id, role)| format!("{id} ({role})"))
                    .collect();
                self.notices.push(format!(
                    "no bot id given: created {} in workspace {workspace} with the suite's bot definition; deleted when the run ends",
                    named.join(" and ")
                ));
                for id in &made.inactive {
                    self.notices
                        .push(format!("bot {id} was still not active after waiting; running anyway"));
                }
                for (id, role) in made.ids.iter().zip(roles) {
                    self.set_id(role, id.clone());
                }
                self.provisioned = Some((workspace, made.ids));
            }
            None => {}
            Some(bot) => {
                let lacking = match admin.get_bot(&bot).await {
                    Ok(found) => missing(definition, &found),
                    Err(e) => {
                        self.notices.push(format!(
                            "cannot read bot {bot}'s definition ({e}); steps assume it declares the suite's"
                        ));
                        return Ok(());
                    }
                };
                if lacking.is_empty() {
                    return Ok(());
                }
                if spec.configure_bot {
                    admin.update_bot(&bot, &update_body(definition)).await.map_err(|e| {
                        TargetError::Usage(format!(
                            "--configure-bot: cannot add the suite's definition to bot {bot}: {e}"
                        ))
                    })?;
                    self.notices
                        .push(format!("--configure-bot: added to bot {bot}: {}", lacking.join(", ")));
                } else {
                    self.notices.push(format!(
                        "bot {bot} does not declare {}; steps using them are skipped (pass --configure-bot to add them)",
                        lacking.join(", ")
                    ));
                    self.capabilities.withhold(
                        "bot-definition",
                        format!("bot {bot} lacks {} declarations (pass --configure-bot)", lacking.len()),
                    );
                    self.undeclared = lacking;
                }
            }
        }
        Ok(())
    }

    /// How reports name the target.
    #[must_use]
    pub fn label(&self) -> String {
        match self.kind {
            TargetKind::Embedded => "embedded reference server".into(),
            _ => self.url.clone(),
        }
    }

    #[must_use]
    pub fn is_embedded(&self) -> bool {
        self.kind == TargetKind::Embedded
    }

    /// What the target lacks, as lines for the start of a run.
    #[must_use]
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "target {} ({}); capabilities: {}",
            self.label(),
            match self.kind {
                TargetKind::Embedded => "embedded reference server",
                TargetKind::RemoteReference => "a bpharness reference server",
                TargetKind::Other => "documented behaviour only, plus what was granted",
            },
            self.capabilities
        )];
        for (name, why) in self.capabilities.absent() {
            let kind = find(name).map(|c| c.kind);
            let what = if kind == Some(Kind::Input) {
                "input"
            } else {
                "behaviour"
            };
            lines.push(format!("steps requiring {name} ({what}) will be skipped: {why}"));
        }
        lines
    }

    /// Deletes the bots made for the run and stops the embedded server.
    pub async fn release(self, http: &Http, retry: &RetryBudget) -> (Vec<String>, Vec<Leak>) {
        let mut notices = Vec::new();
        let mut leaks = Vec::new();
        if let Some((workspace, ids)) = &self.provisioned {
            let admin = Admin {
                http,
                retry,
                url: &self.url,
                token: &self.token,
                workspace,
            };
            leaks = admin.delete_bots(ids).await;
            notices.push(if leaks.is_empty() {
                format!("deleted the bots created for this run: {}", ids.join(", "))
            } else {
                format!("{} of the bots created for this run could not be deleted", leaks.len())
            });
        }
        if let Some(server) = self.server {
            server.stop().await;
        }
        (notices, leaks)
    }
}

/// One request before anything else: a target that does not answer at all is a different
/// verdict (exit 4) from one that answers wrongly. Returns the identity header's value.
async fn probe(http: &Http, url: &str, token: &str) -> Result<Option<String>, TargetError> {
    let out = Outgoing {
        method: "GET".into(),
        url: format!("{url}/v1/chat/users"),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        body: None,
    };
    match http.send(&out).await {
        Ok(got) => Ok(got.header(IDENTITY_HEADER).map(str::to_string)),
        Err(e @ (TransportError::Connect(_) | TransportError::Timeout(_))) => Err(TargetError::Unreachable {
            target: url.to_string(),
            reason: e.to_string(),
        }),
        Err(_) => Ok(None),
    }
}

/// Reads `value` as a JSON object's `bot`, for getBot answers.
pub(crate) fn bot_of(body: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(body).ok()?.get("bot").cloned()
}
