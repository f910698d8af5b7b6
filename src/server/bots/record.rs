//! The Bot record of the admin API: every documented field with its default, what
//! createBot and updateBot may change, and the deployment status.
//!
//! The status moves `deploying` → `active` once the deployment delay has passed; like
//! scheduled events it is settled on every read, so no background task runs.

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::server::ids::Timestamp;
use crate::server::store::{Tags, merge_tags};

/// Title and description of a declared tag.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TagDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The tag keys declared for users, conversations or messages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TagDefinitions {
    pub tags: BTreeMap<String, TagDefinition>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateDefinition {
    #[serde(rename = "type")]
    pub kind: String,
    pub schema: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventDefinition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schema: Map<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// `{schema}`: the input or output of an action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchemaHolder {
    pub schema: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionDefinition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cacheable: Option<bool>,
    pub input: SchemaHolder,
    pub output: SchemaHolder,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cron {
    pub cron: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringEvent {
    pub schedule: Cron,
    #[serde(rename = "type")]
    pub kind: String,
    pub payload: Map<String, Value>,
    pub failed_attempts: u32,
    pub last_failure_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Configuration {
    pub data: Map<String, Value>,
    pub schema: Map<String, Value>,
}

/// `events: null` means subscribed to every event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Subscriptions {
    pub events: Option<BTreeMap<String, Map<String, Value>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Media {
    pub url: String,
    pub name: String,
}

/// A bot as the admin API shows it, plus what it keeps but never shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotRecord {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub signing_secret: String,
    /// Always empty: the reference server has no integration hub.
    pub integrations: BTreeMap<String, Value>,
    /// Always empty, for the same reason.
    pub plugins: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_execution_time: Option<i64>,
    pub user: TagDefinitions,
    pub conversation: TagDefinitions,
    pub message: TagDefinitions,
    pub states: BTreeMap<String, StateDefinition>,
    pub configuration: Configuration,
    pub events: BTreeMap<String, EventDefinition>,
    pub recurring_events: BTreeMap<String, RecurringEvent>,
    pub subscriptions: Subscriptions,
    pub actions: BTreeMap<String, ActionDefinition>,
    pub tags: Tags,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<Timestamp>,
    pub dev: bool,
    pub always_alive: bool,
    pub status: &'static str,
    pub medias: Vec<Media>,
    #[serde(skip)]
    pub workspace_id: String,
    #[serde(skip)]
    pub code: String,
    #[serde(skip)]
    pub url: Option<String>,
    #[serde(skip)]
    pub blocked: bool,
    #[serde(skip)]
    pub authentication: Option<String>,
    #[serde(skip)]
    pub layers: Vec<String>,
    /// When the deployment under way ends; `None` while deploying means never.
    #[serde(skip)]
    pub deploy_due: Option<Timestamp>,
    #[serde(skip)]
    pub seq: u64,
}

/// A listBots item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotSummary {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<Timestamp>,
    pub tags: Tags,
}

fn signing_secret() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("bpss_{hex}")
}

impl BotRecord {
    /// A bot with every default: no definitions, production, not yet deployed.
    pub fn new(id: &str, workspace_id: &str, now: Timestamp, seq: u64) -> Self {
        let suffix = id.rsplit('_').next().unwrap_or(id);
        let short = &suffix[suffix.len().saturating_sub(8)..];
        BotRecord {
            id: id.to_string(),
            created_at: now,
            updated_at: now,
            signing_secret: signing_secret(),
            integrations: BTreeMap::new(),
            plugins: BTreeMap::new(),
            max_execution_time: None,
            user: TagDefinitions::default(),
            conversation: TagDefinitions::default(),
            message: TagDefinitions::default(),
            states: BTreeMap::new(),
            configuration: Configuration::default(),
            events: BTreeMap::new(),
            recurring_events: BTreeMap::new(),
            subscriptions: Subscriptions::default(),
            actions: BTreeMap::new(),
            tags: Tags::new(),
            name: format!("bot-{}", short.to_ascii_lowercase()),
            description: None,
            deployed_at: None,
            dev: false,
            always_alive: false,
            status: "deploying",
            medias: Vec::new(),
            workspace_id: workspace_id.to_string(),
            code: String::new(),
            url: None,
            blocked: false,
            authentication: None,
            layers: Vec::new(),
            deploy_due: None,
            seq,
        }
    }

    /// A bot that was deployed when it was made (the seeded bots).
    pub fn deployed(id: &str, workspace_id: &str, now: Timestamp, seq: u64) -> Self {
        let mut bot = Self::new(id, workspace_id, now, seq);
        bot.status = "active";
        bot.deployed_at = Some(now);
        bot
    }

    /// Starts a deployment that ends at `due` (`None`: never).
    pub fn deploy(&mut self, due: Option<Timestamp>) {
        self.status = "deploying";
        self.deploy_due = due;
    }

    /// Ends the deployment under way once its time has come. Done on every read.
    pub fn settle(&mut self, now: Timestamp) {
        if self.status == "deploying"
            && let Some(due) = self.deploy_due.filter(|due| *due <= now)
        {
            self.status = "active";
            self.deployed_at = Some(due);
            self.deploy_due = None;
        }
    }

    pub fn summary(&self) -> BotSummary {
        BotSummary {
            id: self.id.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            name: self.name.clone(),
            deployed_at: self.deployed_at,
            tags: self.tags.clone(),
        }
    }

    /// Merges tags as every update does: an empty string removes the key.
    pub fn merge_tags(&mut self, update: &Tags) {
        merge_tags(&mut self.tags, update);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_settles_once_the_deployment_is_due() {
        let now = Timestamp::now();
        let mut bot = BotRecord::new("bot_01ABCDEFGHJKMNPQRSTVWXYZ01", "ws", now, 1);
        assert_eq!(bot.name, "bot-tvwxyz01");
        let due = Timestamp(now.0 + chrono::Duration::milliseconds(50));
        bot.deploy(Some(due));
        bot.settle(now);
        assert_eq!((bot.status, bot.deployed_at), ("deploying", None));
        bot.settle(due);
        assert_eq!((bot.status, bot.deployed_at), ("active", Some(due)));
        bot.deploy(None);
        bot.settle(Timestamp(due.0 + chrono::Duration::days(3650)));
        assert_eq!(bot.status, "deploying");
    }
}
