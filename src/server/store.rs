//! The in-memory store: workspaces, bots, and each bot's runtime data behind its own lock,
//! so bots never contend with each other and one bot's data is reachable only through its id.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use serde_json::Value;

use super::bots::{Activity, BotRecord};
use super::files::FileStore;
use super::ids::Timestamp;
use super::index::{Collection, Record};
use super::paging::SortKey;
use super::tables::Tables;

/// Tags: string to string, sorted so responses are stable.
pub type Tags = BTreeMap<String, String>;

/// Merges `update` into `tags`: a key sent with an empty string is removed.
pub fn merge_tags(tags: &mut Tags, update: &Tags) {
    for (k, v) in update {
        if v.is_empty() {
            tags.remove(k);
        } else {
            tags.insert(k.clone(), v.clone());
        }
    }
}

/// Every pair of `wanted` is in `tags` (list filters: AND semantics).
pub fn tags_match(tags: &Tags, wanted: &Tags) -> bool {
    wanted.iter().all(|(k, v)| tags.get(k) == Some(v))
}

/// The bot of a runtime request, already found by `x-bot-id` and checked against the
/// token's grant (by the journal, in the front door), left in the request's extensions for `BotCtx`.
#[derive(Clone)]
pub struct ResolvedBot(pub Arc<BotSpace>);

/// What a token may reach.
#[derive(Debug, Clone)]
pub struct Grant {
    pub workspaces: HashSet<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub tags: Tags,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_task_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_workflow_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub channel: String,
    pub integration: String,
    pub tags: Tags,
    #[serde(skip)]
    pub seq: u64,
    /// Participants (user id → when added, for ordering).
    #[serde(skip)]
    pub participants: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub created_at: Timestamp,
    #[serde(rename = "type")]
    pub kind: String,
    pub payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub status: String,
    pub failure_reason: Option<String>,
    #[serde(skip)]
    pub workflow_id: Option<String>,
    /// When a `scheduled` event becomes `pending`.
    #[serde(skip)]
    pub due: Option<Timestamp>,
    /// When a `pending` event is done; `None`: never (the `event-stuck-pending` fault).
    #[serde(skip)]
    pub done_at: Option<Timestamp>,
    /// The status it ends with: `processed`, or `ignored` when the bot does not declare
    /// its type (nothing can handle it).
    #[serde(skip)]
    pub outcome: &'static str,
    #[serde(skip)]
    pub seq: u64,
}

impl Event {
    /// Moves the event on, `scheduled` → `pending` → `processed` (or `ignored`), as far as
    /// its times have come. Done on every read, so the status a client sees is always the
    /// one for now and no background task runs.
    pub fn settle(&mut self, now: Timestamp) {
        if self.status == "scheduled" && self.due.is_some_and(|due| due <= now) {
            self.status = "pending".into();
        }
        if self.status == "pending" && self.done_at.is_some_and(|at| at <= now) {
            self.status = self.outcome.into();
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(rename = "type")]
    pub kind: String,
    pub payload: Value,
    pub direction: String,
    pub user_id: String,
    pub conversation_id: String,
    pub tags: Tags,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub bot_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub payload: Value,
    /// Idle expiry in milliseconds, counted from the last write.
    #[serde(skip)]
    pub expiry_ms: Option<u64>,
}

impl State {
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expiry_ms
            .is_some_and(|ms| now.millis() - self.updated_at.millis() >= ms as i64)
    }
}

impl Record for User {
    fn id(&self) -> &str {
        &self.id
    }
    fn sort_key(&self) -> SortKey {
        (self.created_at.millis(), self.seq)
    }
    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }
}

impl Record for Conversation {
    fn id(&self) -> &str {
        &self.id
    }
    fn sort_key(&self) -> SortKey {
        (self.created_at.millis(), self.seq)
    }
    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("channel", &self.channel), ("integration", &self.integration)]
    }
}

impl Record for Message {
    fn id(&self) -> &str {
        &self.id
    }
    fn sort_key(&self) -> SortKey {
        (self.created_at.millis(), self.seq)
    }
    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }
    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![("conversationId", &self.conversation_id)]
    }
}

impl Record for Event {
    fn id(&self) -> &str {
        &self.id
    }
    fn sort_key(&self) -> SortKey {
        (self.created_at.millis(), self.seq)
    }
    fn fields(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![("type", self.kind.as_str())];
        for (name, value) in [
            ("conversationId", &self.conversation_id),
            ("userId", &self.user_id),
            ("messageId", &self.message_id),
            ("workflowId", &self.workflow_id),
        ] {
            if let Some(v) = value {
                out.push((name, v.as_str()));
            }
        }
        out
    }
}

/// Key of a state: owner type, owner id, name.
pub type StateKey = (String, String, String);

/// Everything the runtime API keeps for one bot.
#[derive(Debug, Default)]
pub struct BotData {
    pub users: Collection<User>,
    pub conversations: Collection<Conversation>,
    pub events: Collection<Event>,
    pub messages: Collection<Message>,
    /// Events not yet in a final status: the only ones a read has to move on.
    pub unsettled: std::collections::BTreeSet<String>,
    pub states: HashMap<StateKey, State>,
    /// Action results by (type, input), for `meta.cached`.
    pub action_cache: HashMap<(String, String), Value>,
    /// Tables and their rows.
    pub tables: Tables,
    pub files: FileStore,
}

/// One bot: its workspace, its record in the admin API, its runtime data and what
/// happened to it (logs, issues), each behind its own lock.
#[derive(Debug)]
pub struct BotSpace {
    pub id: String,
    pub workspace_id: String,
    pub record: RwLock<BotRecord>,
    pub data: RwLock<BotData>,
    pub activity: Mutex<Activity>,
}

/// Records held, summed over the bots.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StoreSizes {
    pub bots: usize,
    pub users: usize,
    pub conversations: usize,
    pub messages: usize,
    pub events: usize,
    pub states: usize,
    pub log_lines: usize,
}

impl std::fmt::Display for StoreSizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bots={} users={} conversations={} messages={} events={} states={} log_lines={}",
            self.bots, self.users, self.conversations, self.messages, self.events, self.states, self.log_lines
        )
    }
}

/// The whole server's data.
#[derive(Debug, Default)]
pub struct Store {
    pub tokens: RwLock<HashMap<String, Arc<Grant>>>,
    pub bots: RwLock<HashMap<String, Arc<BotSpace>>>,
    seq: AtomicU64,
}

impl Store {
    /// A fresh sequence number: creation order across the whole server.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn grant(&self, token: &str) -> Option<Arc<Grant>> {
        self.tokens.read().expect("token table poisoned").get(token).cloned()
    }

    pub fn bot(&self, id: &str) -> Option<Arc<BotSpace>> {
        self.bots.read().expect("bot table poisoned").get(id).cloned()
    }

    pub fn add_token(&self, token: &str, workspace: &str) {
        let mut tokens = self.tokens.write().expect("token table poisoned");
        let grant = tokens.entry(token.to_string()).or_insert_with(|| {
            Arc::new(Grant {
                workspaces: HashSet::new(),
            })
        });
        Arc::make_mut(grant).workspaces.insert(workspace.to_string());
    }

    /// Registers a bot: from now on its id works on every route.
    pub fn add_bot(&self, record: BotRecord) -> Arc<BotSpace> {
        let space = Arc::new(BotSpace {
            id: record.id.clone(),
            workspace_id: record.workspace_id.clone(),
            record: RwLock::new(record),
            data: RwLock::new(BotData::default()),
            activity: Mutex::new(Activity::default()),
        });
        self.bots
            .write()
            .expect("bot table poisoned")
            .insert(space.id.clone(), space.clone());
        space
    }

    /// Forgets a bot and, with it, its runtime data and activity.
    pub fn remove_bot(&self, id: &str) -> Option<Arc<BotSpace>> {
        self.bots.write().expect("bot table poisoned").remove(id)
    }

    /// What the store holds now, summed over the bots (`serve --stats-every`).
    pub fn sizes(&self) -> StoreSizes {
        let bots: Vec<Arc<BotSpace>> = self
            .bots
            .read()
            .expect("bot table poisoned")
            .values()
            .cloned()
            .collect();
        let mut sizes = StoreSizes {
            bots: bots.len(),
            ..StoreSizes::default()
        };
        for bot in bots {
            {
                let data = bot.data.read().expect("bot data poisoned");
                sizes.users += data.users.len();
                sizes.conversations += data.conversations.len();
                sizes.messages += data.messages.len();
                sizes.events += data.events.len();
                sizes.states += data.states.len();
            }
            sizes.log_lines += bot.activity.lock().expect("bot activity poisoned").logs.len();
        }
        sizes
    }

    /// The bots of one workspace.
    pub fn bots_of(&self, workspace: &str) -> Vec<Arc<BotSpace>> {
        self.bots
            .read()
            .expect("bot table poisoned")
            .values()
            .filter(|b| b.workspace_id == workspace)
            .cloned()
            .collect()
    }
}
