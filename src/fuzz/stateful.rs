//! Stateful sequences, derived from the operation catalogue rather than written by hand: for
//! each operation that creates a resource (it has a cleanup-ledger rule), the operations on
//! the same collection are found by method and path (`GET`/`PUT`/`DELETE` on
//! `<collection>/{id}`, `GET <collection>` with a list key, `POST <collection>/get-or-create`),
//! and run in order with the ids the creation returned: create → get → get-or-create twice
//! (one resource, the one created) → update → list (contains it) → delete → get (404).

use serde_json::Value;

use crate::api::{OPERATIONS, Operation};

/// One resource's operations.
#[derive(Debug, Clone)]
pub struct Resource {
    pub create: &'static Operation,
    /// Where the created id is in the creation's answer (`/user/id`).
    pub id_pointer: &'static str,
    pub get: Option<&'static Operation>,
    pub update: Option<&'static Operation>,
    pub list: Option<&'static Operation>,
    pub delete: Option<&'static Operation>,
    pub get_or_create: Option<&'static Operation>,
}

/// The resources of the catalogue, each with the operations found for it.
#[must_use]
pub fn resources() -> Vec<Resource> {
    let mut out = Vec::new();
    for create in OPERATIONS
        .iter()
        .filter(|o| o.id.starts_with("create") || o.id.starts_with("upsert"))
    {
        let Some(id_pointer) = crate::runner::created_id_pointer(create.id) else {
            continue;
        };
        let collection = create.path;
        let item = |method: &str| {
            OPERATIONS.iter().find(|o| {
                o.area == create.area
                    && o.method == method
                    && o.path.strip_prefix(collection).is_some_and(|rest| {
                        rest.starts_with("/{") && rest.ends_with('}') && rest.matches('/').count() == 1
                    })
            })
        };
        out.push(Resource {
            create,
            id_pointer,
            get: item("GET"),
            update: item("PUT"),
            delete: item("DELETE"),
            list: OPERATIONS
                .iter()
                .find(|o| o.area == create.area && o.method == "GET" && o.path == collection && o.list_key.is_some()),
            get_or_create: OPERATIONS.iter().find(|o| {
                o.area == create.area && o.method == "POST" && o.path == format!("{collection}/get-or-create")
            }),
        });
    }
    out
}

/// The id of each item of a list answer.
#[must_use]
pub fn listed_ids(op: &Operation, body: &Value) -> Vec<String> {
    op.list_key
        .and_then(|key| body.get(key))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The token of the next page, where the operation pages by token.
#[must_use]
pub fn next_token(op: &Operation, body: &Value) -> Option<String> {
    let at = match op.paging {
        crate::api::Paging::MetaNextToken => "/meta/nextToken",
        crate::api::Paging::NextToken => "/nextToken",
        _ => return None,
    };
    body.pointer(at).and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_derived_for_each_creating_operation() {
        let found = resources();
        let by = |id: &str| found.iter().find(|r| r.create.id == id).unwrap();
        let users = by("createUser");
        assert_eq!(users.get.map(|o| o.id), Some("getUser"));
        assert_eq!(users.update.map(|o| o.id), Some("updateUser"));
        assert_eq!(users.delete.map(|o| o.id), Some("deleteUser"));
        assert_eq!(users.list.map(|o| o.id), Some("listUsers"));
        assert_eq!(users.get_or_create.map(|o| o.id), Some("getOrCreateUser"));
        let tables = by("createTable");
        assert_eq!(tables.get.map(|o| o.id), Some("getTable"));
        assert_eq!(tables.delete.map(|o| o.id), Some("deleteTable"));
        let files = by("upsertFile");
        assert_eq!(files.get.map(|o| o.id), Some("getFile"));
        assert_eq!(files.update.map(|o| o.id), Some("updateFileMetadata"));
        let bots = by("createBot");
        assert_eq!(bots.list.map(|o| o.id), Some("listBots"));
        assert!(found.iter().any(|r| r.create.id == "createMessage"));
    }
}
