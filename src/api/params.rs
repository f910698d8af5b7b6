//! The parameters of each operation beside its body (ENDPOINTS.md "Query" lines): query
//! parameters with a JSON Schema each, and the path parameters of its template. The
//! OpenAPI export and `fuzz` read this table; the official client encodes these values as
//! `runner::encode_query` does (CLIENT-WIRE.md).

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::catalogue::Operation;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    /// JSON Schema of the value, before encoding.
    pub schema: Value,
}

/// The state types of `/v1/chat/states/{type}/...` (ENDPOINTS.md §5).
pub const STATE_TYPES: [&str; 6] = ["conversation", "user", "bot", "integration", "task", "workflow"];

/// A query parameter: name, required, schema.
type QueryParam = (&'static str, bool, Value);

/// Query parameters per operation, as (name, required, schema). Free-form strings the docs
/// give no bound are plain strings; dates are strings (the docs leave their format open).
fn query_table() -> &'static Vec<(&'static str, Vec<QueryParam>)> {
    static TABLE: OnceLock<Vec<(&'static str, Vec<QueryParam>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let s = || json!({"type": "string"});
        let tags = || json!({"type": "object", "additionalProperties": {"type": "string"}});
        let sort = |fields: &[&str]| json!({"type": "string", "enum": fields});
        let direction = || json!({"type": "string", "enum": ["asc", "desc"]});
        let boolean = || json!({"type": "boolean"});
        vec![
            (
                "listUsers",
                vec![
                    ("nextToken", false, s()),
                    ("conversationId", false, s()),
                    ("tags", false, tags()),
                    ("afterDate", false, s()),
                    ("beforeDate", false, s()),
                    ("rangeField", false, sort(&["updatedAt", "createdAt"])),
                    ("sortField", false, sort(&["updatedAt", "createdAt"])),
                    ("sortDirection", false, direction()),
                ],
            ),
            (
                "listConversations",
                vec![
                    ("nextToken", false, s()),
                    ("sortField", false, sort(&["createdAt", "updatedAt"])),
                    ("sortDirection", false, direction()),
                    ("tags", false, tags()),
                    (
                        "participantIds",
                        false,
                        json!({"type": "array", "items": {"type": "string"}}),
                    ),
                    ("integrationName", false, s()),
                    ("channel", false, s()),
                    ("afterDate", false, s()),
                    ("beforeDate", false, s()),
                ],
            ),
            ("listParticipants", vec![("nextToken", false, s())]),
            (
                "listEvents",
                vec![
                    ("nextToken", false, s()),
                    ("type", false, s()),
                    ("conversationId", false, s()),
                    ("userId", false, s()),
                    ("messageId", false, s()),
                    ("workflowId", false, s()),
                    (
                        "status",
                        false,
                        sort(&["pending", "ignored", "processed", "failed", "scheduled"]),
                    ),
                ],
            ),
            (
                "listMessages",
                vec![
                    ("nextToken", false, s()),
                    ("conversationId", false, s()),
                    ("tags", false, tags()),
                    ("afterDate", false, s()),
                    ("beforeDate", false, s()),
                ],
            ),
            (
                "listBots",
                vec![
                    ("dev", false, boolean()),
                    ("tags", false, tags()),
                    ("nextToken", false, s()),
                    ("sortField", false, sort(&["createdAt", "updatedAt"])),
                    ("sortDirection", false, direction()),
                ],
            ),
            ("getBot", vec![("shouldMergePlugins", false, boolean())]),
            (
                "getBotLogs",
                vec![
                    ("timeStart", true, s()),
                    ("timeEnd", false, s()),
                    ("level", false, s()),
                    ("userId", false, s()),
                    ("workflowId", false, s()),
                    ("conversationId", false, s()),
                    ("messageContains", false, s()),
                    ("nextToken", false, s()),
                ],
            ),
            (
                "getBotAnalytics",
                vec![("startDate", true, s()), ("endDate", true, s())],
            ),
            ("listBotIssues", vec![("nextToken", false, s())]),
            ("listTables", vec![("tags", false, tags())]),
            ("getTableRow", vec![("id", true, json!({"type": "integer"}))]),
            (
                "listFiles",
                vec![
                    ("nextToken", false, s()),
                    (
                        "sortField",
                        false,
                        sort(&["key", "size", "createdAt", "updatedAt", "status"]),
                    ),
                    ("sortDirection", false, direction()),
                    ("tags", false, tags()),
                    (
                        "ids",
                        false,
                        json!({"type": "array", "items": {"type": "string"}, "maxItems": 50}),
                    ),
                    ("indexed", false, boolean()),
                ],
            ),
            (
                "searchFiles",
                vec![
                    ("tags", false, tags()),
                    ("query", true, s()),
                    ("contextDepth", false, json!({"type": "integer"})),
                    ("limit", false, json!({"type": "integer"})),
                    ("consolidate", false, boolean()),
                    ("includeBreadcrumb", false, boolean()),
                    ("withContext", false, boolean()),
                ],
            ),
        ]
    })
}

/// Every parameter of `op`: its path parameters in template order, then its query
/// parameters.
#[must_use]
pub fn params(op: &Operation) -> Vec<Param> {
    let mut out: Vec<Param> = path_params(op.path)
        .into_iter()
        .map(|name| {
            let schema = if name == "type" && op.path.starts_with("/v1/chat/states/") {
                json!({"type": "string", "enum": STATE_TYPES})
            } else {
                json!({"type": "string", "minLength": 1})
            };
            Param {
                name: name.to_string(),
                location: Location::Path,
                required: true,
                schema,
            }
        })
        .collect();
    if let Some((_, query)) = query_table().iter().find(|(id, _)| *id == op.id) {
        out.extend(query.iter().map(|(name, required, schema)| Param {
            name: (*name).to_string(),
            location: Location::Query,
            required: *required,
            schema: schema.clone(),
        }));
    }
    out
}

/// The `{name}` segments of a path template, in order.
#[must_use]
pub fn path_params(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{OPERATIONS, find_operation};

    #[test]
    fn every_table_row_names_an_operation_without_a_body_clash() {
        for (id, query) in query_table() {
            assert!(find_operation(id).is_some(), "{id}");
            let mut names: Vec<_> = query.iter().map(|(n, _, _)| *n).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), query.len(), "{id}");
        }
    }

    #[test]
    fn path_parameters_follow_the_template() {
        let op = find_operation("getParticipant").unwrap();
        let names: Vec<_> = params(op).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["id", "userId"]);
        let states = find_operation("getState").unwrap();
        assert_eq!(params(states)[0].schema["enum"][1], "user");
        assert!(
            OPERATIONS
                .iter()
                .all(|o| params(o).iter().all(|p| p.schema.is_object()))
        );
    }
}
