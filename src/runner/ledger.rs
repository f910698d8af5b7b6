//! The cleanup ledger: every resource a scenario creates is recorded with the request that
//! deletes it, and deleted in reverse order when the scenario ends, whatever happened.

use serde_json::Value;

/// How to delete what an operation created: the delete path with `{id}` taken from the
/// response at `pointer`.
struct Rule {
    operation: &'static str,
    pointer: &'static str,
    delete: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        operation: "createUser",
        pointer: "/user/id",
        delete: "/v1/chat/users/{id}",
    },
    Rule {
        operation: "getOrCreateUser",
        pointer: "/user/id",
        delete: "/v1/chat/users/{id}",
    },
    Rule {
        operation: "createConversation",
        pointer: "/conversation/id",
        delete: "/v1/chat/conversations/{id}",
    },
    Rule {
        operation: "getOrCreateConversation",
        pointer: "/conversation/id",
        delete: "/v1/chat/conversations/{id}",
    },
    Rule {
        operation: "createMessage",
        pointer: "/message/id",
        delete: "/v1/chat/messages/{id}",
    },
    Rule {
        operation: "getOrCreateMessage",
        pointer: "/message/id",
        delete: "/v1/chat/messages/{id}",
    },
    Rule {
        operation: "createBot",
        pointer: "/bot/id",
        delete: "/v1/admin/bots/{id}",
    },
    Rule {
        operation: "createTable",
        pointer: "/table/id",
        delete: "/v1/tables/{id}",
    },
    Rule {
        operation: "getOrCreateTable",
        pointer: "/table/id",
        delete: "/v1/tables/{id}",
    },
    Rule {
        operation: "duplicateTable",
        pointer: "/table/id",
        delete: "/v1/tables/{id}",
    },
    Rule {
        operation: "upsertFile",
        pointer: "/file/id",
        delete: "/v1/files/{id}",
    },
];

/// Where the id of what `operation` created is in its answer (`/user/id`), when it
/// creates something.
pub fn created_id_pointer(operation: &str) -> Option<&'static str> {
    RULES.iter().find(|r| r.operation == operation).map(|r| r.pointer)
}

/// One resource to delete at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    /// The headers the creating request carried (scope: bot or workspace).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
}

impl Ledger {
    /// Records what a successful response of `operation` created, if anything.
    pub fn record(&mut self, operation: &str, body: &Value, headers: &[(String, String)]) {
        let Some(rule) = RULES.iter().find(|r| r.operation == operation) else {
            return;
        };
        let Some(id) = body.pointer(rule.pointer).and_then(Value::as_str) else {
            return;
        };
        let path = rule.delete.replace("{id}", &super::http::encode_component(id));
        let entry = Entry {
            path,
            headers: headers.to_vec(),
        };
        if !self.entries.contains(&entry) {
            self.entries.push(entry);
        }
    }

    /// Everything recorded, newest first: the order to delete in.
    pub fn drain_reverse(&mut self) -> Vec<Entry> {
        let mut entries = std::mem::take(&mut self.entries);
        entries.reverse();
        entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_creations_once_and_deletes_newest_first() {
        let mut ledger = Ledger::default();
        ledger.record("createUser", &json!({ "user": { "id": "u1" } }), &[]);
        ledger.record("getOrCreateUser", &json!({ "user": { "id": "u1" } }), &[]);
        ledger.record("createConversation", &json!({ "conversation": { "id": "c1" } }), &[]);
        ledger.record("getUser", &json!({ "user": { "id": "u2" } }), &[]);
        let paths: Vec<_> = ledger.drain_reverse().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/v1/chat/conversations/c1", "/v1/chat/users/u1"]);
    }
}
