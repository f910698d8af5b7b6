//! What generated cases point at: the resources a fuzz run makes first (a user, a
//! conversation, a message, an event, a table with a row, a file, a scratch bot), and what
//! the bot declares (tag keys, states, event types), so a valid case uses ids that exist and
//! keys the bot declares. `overlay` puts these into a body generated from the schema, field
//! by field; the schema alone cannot know them.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::{Map, Value, json};

use crate::api::Operation;

/// Columns of the tables a fuzz run makes.
pub fn table_schema() -> Value {
    json!({"n": {"type": "number"}, "s": {"type": "string"}})
}

/// Ids and declarations of the run.
#[derive(Debug, Default)]
pub struct World {
    pub user: String,
    /// A second user, for the participant operations (so the first stays a participant).
    pub user2: String,
    pub conversation: String,
    pub message: String,
    pub event: String,
    pub table: String,
    pub row: u64,
    pub file: String,
    pub bot: String,
    /// A bot made for updateBot, so the run's own bot keeps its definition.
    pub scratch_bot: Option<String>,
    pub issue: Option<String>,
    /// Declared tag keys of users, conversations, messages.
    pub user_tags: Vec<String>,
    pub conversation_tags: Vec<String>,
    pub message_tags: Vec<String>,
    /// Declared states: (name, type).
    pub states: Vec<(String, String)>,
    pub event_types: Vec<String>,
    /// Names made unique within the run.
    pub prefix: String,
    pub counter: AtomicU64,
}

/// An id no resource has (but shaped like one).
pub const UNKNOWN_ID: &str = "fuzz_unknown_0000000000000000000";

impl World {
    /// The declarations of `definition` (a createBot-shaped bot definition).
    pub fn declare(&mut self, definition: &Value) {
        let keys = |pointer: &str| -> Vec<String> {
            definition
                .pointer(pointer)
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        self.user_tags = keys("/user/tags");
        self.conversation_tags = keys("/conversation/tags");
        self.message_tags = keys("/message/tags");
        self.event_types = keys("/events");
        self.states = definition
            .get("states")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.get("type")?.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
    }

    /// A name no other case of the run uses: `fz<prefix><n>`.
    pub fn unique(&self, stem: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("fz{}{n}{stem}", self.prefix)
    }

    /// Tags with declared keys only (`kind`: user, conversation, message), or free keys.
    pub fn tags(&self, kind: Option<&str>, rng: &mut StdRng, generated: Option<&Value>) -> Value {
        let keys = match kind {
            Some("user") => &self.user_tags,
            Some("conversation") => &self.conversation_tags,
            Some("message") => &self.message_tags,
            _ => return generated.cloned().unwrap_or(json!({})),
        };
        let mut out = Map::new();
        let values: Vec<Value> = generated
            .and_then(Value::as_object)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        for (i, value) in values.into_iter().enumerate() {
            if let Some(key) = keys.get((i * 7 + rng.random_range(0..keys.len().max(1))) % keys.len().max(1)) {
                out.insert(key.clone(), value);
            }
        }
        Value::Object(out)
    }

    /// The tag kind of an operation's `tags`: the ones the bot's definition restricts.
    #[must_use]
    pub fn tag_kind(op: &Operation) -> Option<&'static str> {
        match op.area {
            crate::api::Area::Users => Some("user"),
            crate::api::Area::Conversations => Some("conversation"),
            crate::api::Area::Messages => Some("message"),
            _ => None,
        }
    }

    /// Whether `body` carries a tag key the bot does not declare for `op`'s resource.
    #[must_use]
    pub fn undeclared_tags(&self, op: &Operation, body: &Value) -> bool {
        let declared = match Self::tag_kind(op) {
            Some("user") => &self.user_tags,
            Some("conversation") => &self.conversation_tags,
            Some("message") => &self.message_tags,
            _ => return false,
        };
        body.get("tags")
            .and_then(Value::as_object)
            .is_some_and(|tags| tags.keys().any(|k| !declared.contains(k)))
    }

    /// Values for the path parameters of a valid case of `op`.
    pub fn path_params(&self, op: &Operation, rng: &mut StdRng) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let state = self.states.choose(rng).cloned();
        for name in crate::api::path_params(op.path) {
            let value = match (op.id, name) {
                // Positive deletes aim at no resource: the stateful phase deletes real ones,
                // so the resources the other cases use stay.
                (id, _) if id.starts_with("delete") && id != "deleteBotIssue" => UNKNOWN_ID.to_string(),
                ("removeParticipant", "userId") | ("getParticipant", "userId") => self.user2.clone(),
                ("deleteBotIssue" | "listBotIssueEvents", "issueId") => {
                    self.issue.clone().unwrap_or_else(|| UNKNOWN_ID.into())
                }
                ("updateBot", "id") => self.scratch_bot.clone().unwrap_or_else(|| UNKNOWN_ID.into()),
                (_, "type") => state.as_ref().map_or("user".into(), |(_, t)| t.clone()),
                (_, "name") => state.as_ref().map_or("profile".into(), |(n, _)| n.clone()),
                (id, "id") if id.contains("State") => match state.as_ref().map(|(_, t)| t.as_str()) {
                    Some("conversation") => self.conversation.clone(),
                    _ => self.user.clone(),
                },
                (_, "table" | "sourceTableId") => self.table.clone(),
                (_, "id") => match op.area {
                    crate::api::Area::Users => self.user.clone(),
                    crate::api::Area::Conversations => self.conversation.clone(),
                    crate::api::Area::Events => self.event.clone(),
                    crate::api::Area::Messages => self.message.clone(),
                    crate::api::Area::Bots => self.bot.clone(),
                    crate::api::Area::Files => self.file.clone(),
                    _ => UNKNOWN_ID.into(),
                },
                _ => UNKNOWN_ID.into(),
            };
            out.push((name.to_string(), value));
        }
        out
    }

    /// Puts the run's ids and declarations into a body generated from `op`'s schema.
    pub fn overlay(&self, op: &Operation, body: &mut Value, rng: &mut StdRng) {
        let Some(map) = body.as_object_mut() else { return };
        if map.contains_key("tags") {
            let tags = self.tags(Self::tag_kind(op), rng, map.get("tags"));
            map.insert("tags".into(), tags);
        }
        for (field, value) in [
            ("userId", &self.user),
            ("conversationId", &self.conversation),
            ("messageId", &self.message),
        ] {
            if map.contains_key(field) {
                map.insert(field.into(), json!(value));
            }
        }
        // Fields whose meaning the schema does not carry: ids to look up, names with rules,
        // free-form objects the server reads (table schemas, filters).
        map.remove("workflowId");
        map.remove("discriminateByTags");
        match op.id {
            "addParticipant" => {
                map.insert("userId".into(), json!(self.user2));
            }
            "createEvent" => {
                if let Some(t) = self.event_types.choose(rng) {
                    map.insert("type".into(), json!(t));
                }
                map.remove("schedule");
            }
            "createMessage" | "getOrCreateMessage" => {
                map.remove("schedule");
            }
            "updateConversation" => {
                map.remove("currentTaskId");
            }
            "callAction" => {
                map.insert("type".into(), json!("echo"));
            }
            "createBot" | "updateBot" => {
                let keep = [
                    "tags",
                    "name",
                    "description",
                    "dev",
                    "user",
                    "conversation",
                    "message",
                    "states",
                    "events",
                ];
                map.retain(|k, _| keep.contains(&k.as_str()));
                map.remove("states");
                map.remove("events");
            }
            "createTable" => {
                map.insert("name".into(), json!(self.unique("Table")));
                map.insert("schema".into(), table_schema());
                map.remove("keyColumn");
            }
            "getOrCreateTable" | "updateTable" => {
                map.insert("schema".into(), table_schema());
                map.remove("keyColumn");
                map.remove("name");
            }
            "duplicateTable" => {
                map.insert("tableName".into(), json!(self.unique("Table")));
            }
            "renameTableColumn" => {
                // A column that does not exist: the table keeps its columns for the other
                // cases, and the answer is a documented refusal (checks.rs).
                map.insert("name".into(), json!("zz"));
                map.insert("newName".into(), json!("zy"));
            }
            "createTableRows" | "upsertTableRows" | "updateTableRows" => {
                let n = rng.random_range(1..4);
                let rows: Vec<Value> = (0..n)
                    .map(|_| {
                        let mut row =
                            json!({"n": rng.random_range(-1000..1000), "s": super::generate::string_of(5, rng, true)});
                        if op.id == "updateTableRows" {
                            row["id"] = json!(self.row);
                        }
                        row
                    })
                    .collect();
                map.insert("rows".into(), Value::Array(rows));
                map.remove("keyColumn");
            }
            "deleteTableRows" => {
                map.clear();
                map.insert("ids".into(), json!([999_999_999]));
            }
            "findTableRows" => {
                map.remove("group");
                map.insert("filter".into(), json!({"n": {"$gt": rng.random_range(-10..10)}}));
                map.insert("select".into(), json!(["n", "s"]));
                map.insert("orderBy".into(), json!("id"));
            }
            "upsertFile" => {
                map.insert("key".into(), json!(format!("{}.txt", self.unique("file"))));
                map.insert("size".into(), json!(rng.random_range(1..2048)));
                map.remove("expiresAt");
                map.remove("indexing");
                map.remove("publicContentImmediatelyAccessible");
            }
            "updateFileMetadata" => {
                map.remove("expiresAt");
            }
            _ => {}
        }
    }

    /// Values for a valid query of `op`: ids that exist, declared tag keys, dates that parse.
    pub fn query(&self, op: &Operation, rng: &mut StdRng, generated: Vec<(String, Value)>) -> Vec<(String, Value)> {
        let hour_ago =
            (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let today = chrono::Utc::now().date_naive();
        let mut out = Vec::new();
        for (name, value) in generated {
            let value = match name.as_str() {
                // Tokens come from pages; a made-up one is a coverage case of its own.
                "nextToken" => continue,
                "conversationId" => json!(self.conversation),
                "userId" => json!(self.user),
                "messageId" => json!(self.message),
                "participantIds" => json!([self.user]),
                "ids" => json!([self.file]),
                "workflowId" => continue,
                "afterDate" | "beforeDate" | "timeEnd" => continue,
                "timeStart" => json!(hour_ago),
                "startDate" => json!((today - chrono::Duration::days(2)).to_string()),
                "endDate" => json!((today + chrono::Duration::days(1)).to_string()),
                "tags" => self.tags(Self::tag_kind(op), rng, Some(&value)),
                "type" if op.id == "listEvents" => json!(self.event_types.choose(rng).cloned().unwrap_or_default()),
                "id" if op.id == "getTableRow" => json!(self.row),
                "query" => json!(super::generate::string_of(6, rng, true)),
                "limit" => json!(rng.random_range(1..20)),
                "contextDepth" => json!(rng.random_range(0..3)),
                _ => value,
            };
            out.push((name, value));
        }
        out
    }
}
