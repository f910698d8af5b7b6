//! What happened to a bot: its log lines and its issues, written by the journal
//! (`journal.rs`) and read by getBotLogs, listBotIssues and listBotIssueEvents.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use axum::http::Method;
use serde::{Serialize, Serializer};

use crate::server::ids::{Timestamp, new_id};

/// Log lines kept per bot; older ones are dropped first, so a long load run cannot grow a
/// bot's memory without bound.
pub const MAX_LOG_LINES: usize = 10_000;

/// One getBotLogs item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub timestamp: Timestamp,
    pub level: &'static str,
    pub message: LogMessage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip)]
    pub seq: u64,
}

/// A log line's message: `{operation} {method} {path} {status}`, and `: {type}: {message}`
/// after an error. Kept in parts and written only when read: every runtime request makes
/// one, few are ever read.
#[derive(Debug, Clone)]
pub struct LogMessage {
    pub operation: &'static str,
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub error: Option<(String, String)>,
}

impl fmt::Display for LogMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.operation, self.method, self.path, self.status)?;
        match &self.error {
            Some((kind, text)) => write!(f, ": {kind}: {text}"),
            None => Ok(()),
        }
    }
}

impl Serialize for LogMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A value of `groupedData` or of an issue event's `data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Datum {
    pub raw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty: Option<String>,
}

impl Datum {
    pub fn text(raw: impl Into<String>) -> Self {
        Datum {
            raw: raw.into(),
            pretty: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueEvent {
    pub id: String,
    pub created_at: Timestamp,
    pub data: BTreeMap<String, Datum>,
    #[serde(skip)]
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub id: String,
    pub code: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub title: String,
    pub description: String,
    pub grouped_data: BTreeMap<String, Datum>,
    pub events_count: u64,
    pub category: &'static str,
    pub resolution_link: Option<String>,
    #[serde(skip)]
    pub seq: u64,
    #[serde(skip)]
    pub events: Vec<IssueEvent>,
}

/// A failure seen in the bot's code, to be grouped into an issue by `code`.
pub struct Failure {
    pub code: String,
    pub title: String,
    pub description: String,
    pub grouped: BTreeMap<String, Datum>,
    pub data: BTreeMap<String, Datum>,
}

#[derive(Debug, Default)]
pub struct Activity {
    pub logs: VecDeque<LogLine>,
    pub issues: Vec<Issue>,
}

impl Activity {
    pub fn log(&mut self, line: LogLine) {
        if self.logs.len() == MAX_LOG_LINES {
            self.logs.pop_front();
        }
        self.logs.push_back(line);
    }

    /// Opens an issue for `failure.code`, or bumps the open one, and adds an event to it.
    /// `seq` numbers the issue (when new) and the event.
    pub fn fail(&mut self, failure: Failure, now: Timestamp, seq: u64) {
        let event = IssueEvent {
            id: new_id("issevt"),
            created_at: now,
            data: failure.data,
            seq,
        };
        match self.issues.iter_mut().find(|i| i.code == failure.code) {
            Some(issue) => {
                issue.last_seen_at = now;
                issue.events_count += 1;
                issue.description = failure.description;
                issue.events.push(event);
            }
            None => self.issues.push(Issue {
                id: new_id("issue"),
                code: failure.code,
                created_at: now,
                last_seen_at: now,
                title: failure.title,
                description: failure.description,
                grouped_data: failure.grouped,
                events_count: 1,
                category: "user_code",
                resolution_link: None,
                seq,
                events: vec![event],
            }),
        }
    }

    pub fn issue(&self, id: &str) -> Option<&Issue> {
        self.issues.iter().find(|i| i.id == id)
    }

    pub fn remove_issue(&mut self, id: &str) -> bool {
        let before = self.issues.len();
        self.issues.retain(|i| i.id != id);
        self.issues.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str, message: &str) -> Failure {
        Failure {
            code: code.into(),
            title: "t".into(),
            description: message.into(),
            grouped: BTreeMap::new(),
            data: BTreeMap::from([("error".into(), Datum::text(message))]),
        }
    }

    #[test]
    fn failures_group_by_code() {
        let mut a = Activity::default();
        let now = Timestamp::now();
        a.fail(failure("x", "one"), now, 1);
        a.fail(failure("x", "two"), now, 2);
        a.fail(failure("y", "three"), now, 3);
        assert_eq!(a.issues.len(), 2);
        assert_eq!(a.issues[0].events_count, 2);
        assert_eq!(a.issues[0].events.len(), 2);
        assert_eq!(a.issues[0].description, "two");
        let id = a.issues[0].id.clone();
        assert!(a.remove_issue(&id));
        assert!(a.issue(&id).is_none());
        assert!(!a.remove_issue(&id));
    }

    #[test]
    fn log_messages_read_as_one_line() {
        let mut message = LogMessage {
            operation: "callAction",
            method: Method::POST,
            path: "/v1/chat/actions".into(),
            status: 400,
            error: None,
        };
        assert_eq!(message.to_string(), "callAction POST /v1/chat/actions 400");
        message.error = Some(("Runtime".into(), "it broke".into()));
        assert_eq!(
            message.to_string(),
            "callAction POST /v1/chat/actions 400: Runtime: it broke"
        );
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            serde_json::json!(message.to_string())
        );
    }

    #[test]
    fn logs_are_capped() {
        let mut a = Activity::default();
        for seq in 0..(MAX_LOG_LINES as u64 + 5) {
            a.log(LogLine {
                timestamp: Timestamp::now(),
                level: "info",
                message: LogMessage {
                    operation: "getUser",
                    method: Method::GET,
                    path: "/v1/chat/users/u1".into(),
                    status: 200,
                    error: None,
                },
                workflow_id: None,
                user_id: None,
                conversation_id: None,
                seq,
            });
        }
        assert_eq!(a.logs.len(), MAX_LOG_LINES);
        assert_eq!(a.logs.front().map(|l| l.seq), Some(5));
    }
}
