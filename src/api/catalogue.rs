//! The 60 operations in scope (endpoints.tsv), with what the harness needs to know of each.

use std::sync::LazyLock;

/// The part of the API an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    Users,
    Conversations,
    Events,
    Messages,
    States,
    Actions,
    Bots,
    Tables,
    TableRows,
    Files,
}

/// Which scoping header an operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Runtime, tables and files: `x-bot-id`.
    Bot,
    /// Admin (bots): `x-workspace-id`.
    Workspace,
}

/// How a list operation pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Not a list.
    None,
    /// `meta.nextToken`, absent on the last page.
    MetaNextToken,
    /// Top-level `nextToken` (getBotLogs).
    NextToken,
    /// `offset`/`limit`/`hasMore` (findTableRows).
    Offset,
    /// A list returned whole.
    Unpaged,
}

/// One documented operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub id: &'static str,
    pub area: Area,
    pub method: &'static str,
    /// Path template with `{param}` segments.
    pub path: &'static str,
    pub success_status: u16,
    pub scope: Scope,
    pub list_key: Option<&'static str>,
    pub paging: Paging,
}

#[expect(clippy::too_many_arguments, reason = "a table row, read positionally")]
const fn op(
    id: &'static str,
    area: Area,
    method: &'static str,
    path: &'static str,
    success_status: u16,
    scope: Scope,
    list_key: Option<&'static str>,
    paging: Paging,
) -> Operation {
    Operation {
        id,
        area,
        method,
        path,
        success_status,
        scope,
        list_key,
        paging,
    }
}

/// Every operation in scope, in the order of endpoints.tsv.
pub const OPERATIONS: [Operation; 60] = [
    op(
        "createUser",
        Area::Users,
        "POST",
        "/v1/chat/users",
        201,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getUser",
        Area::Users,
        "GET",
        "/v1/chat/users/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "listUsers",
        Area::Users,
        "GET",
        "/v1/chat/users",
        200,
        Scope::Bot,
        Some("users"),
        Paging::MetaNextToken,
    ),
    op(
        "getOrCreateUser",
        Area::Users,
        "POST",
        "/v1/chat/users/get-or-create",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "updateUser",
        Area::Users,
        "PUT",
        "/v1/chat/users/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "deleteUser",
        Area::Users,
        "DELETE",
        "/v1/chat/users/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "createConversation",
        Area::Conversations,
        "POST",
        "/v1/chat/conversations",
        201,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getConversation",
        Area::Conversations,
        "GET",
        "/v1/chat/conversations/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "listConversations",
        Area::Conversations,
        "GET",
        "/v1/chat/conversations",
        200,
        Scope::Bot,
        Some("conversations"),
        Paging::MetaNextToken,
    ),
    op(
        "getOrCreateConversation",
        Area::Conversations,
        "POST",
        "/v1/chat/conversations/get-or-create",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "updateConversation",
        Area::Conversations,
        "PUT",
        "/v1/chat/conversations/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "deleteConversation",
        Area::Conversations,
        "DELETE",
        "/v1/chat/conversations/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "listParticipants",
        Area::Conversations,
        "GET",
        "/v1/chat/conversations/{id}/participants",
        200,
        Scope::Bot,
        Some("participants"),
        Paging::MetaNextToken,
    ),
    op(
        "addParticipant",
        Area::Conversations,
        "POST",
        "/v1/chat/conversations/{id}/participants",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getParticipant",
        Area::Conversations,
        "GET",
        "/v1/chat/conversations/{id}/participants/{userId}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "removeParticipant",
        Area::Conversations,
        "DELETE",
        "/v1/chat/conversations/{id}/participants/{userId}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "createEvent",
        Area::Events,
        "POST",
        "/v1/chat/events",
        201,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getEvent",
        Area::Events,
        "GET",
        "/v1/chat/events/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "listEvents",
        Area::Events,
        "GET",
        "/v1/chat/events",
        200,
        Scope::Bot,
        Some("events"),
        Paging::MetaNextToken,
    ),
    op(
        "createMessage",
        Area::Messages,
        "POST",
        "/v1/chat/messages",
        201,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getOrCreateMessage",
        Area::Messages,
        "POST",
        "/v1/chat/messages/get-or-create",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getMessage",
        Area::Messages,
        "GET",
        "/v1/chat/messages/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "updateMessage",
        Area::Messages,
        "PUT",
        "/v1/chat/messages/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "listMessages",
        Area::Messages,
        "GET",
        "/v1/chat/messages",
        200,
        Scope::Bot,
        Some("messages"),
        Paging::MetaNextToken,
    ),
    op(
        "deleteMessage",
        Area::Messages,
        "DELETE",
        "/v1/chat/messages/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getState",
        Area::States,
        "GET",
        "/v1/chat/states/{type}/{id}/{name}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "setState",
        Area::States,
        "POST",
        "/v1/chat/states/{type}/{id}/{name}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getOrSetState",
        Area::States,
        "POST",
        "/v1/chat/states/{type}/{id}/{name}/get-or-set",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "patchState",
        Area::States,
        "PATCH",
        "/v1/chat/states/{type}/{id}/{name}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "callAction",
        Area::Actions,
        "POST",
        "/v1/chat/actions",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "createBot",
        Area::Bots,
        "POST",
        "/v1/admin/bots",
        200,
        Scope::Workspace,
        None,
        Paging::None,
    ),
    op(
        "updateBot",
        Area::Bots,
        "PUT",
        "/v1/admin/bots/{id}",
        200,
        Scope::Workspace,
        None,
        Paging::None,
    ),
    op(
        "listBots",
        Area::Bots,
        "GET",
        "/v1/admin/bots",
        200,
        Scope::Workspace,
        Some("bots"),
        Paging::MetaNextToken,
    ),
    op(
        "getBot",
        Area::Bots,
        "GET",
        "/v1/admin/bots/{id}",
        200,
        Scope::Workspace,
        None,
        Paging::None,
    ),
    op(
        "deleteBot",
        Area::Bots,
        "DELETE",
        "/v1/admin/bots/{id}",
        200,
        Scope::Workspace,
        None,
        Paging::None,
    ),
    op(
        "getBotLogs",
        Area::Bots,
        "GET",
        "/v1/admin/bots/{id}/logs",
        200,
        Scope::Workspace,
        Some("logs"),
        Paging::NextToken,
    ),
    op(
        "getBotAnalytics",
        Area::Bots,
        "GET",
        "/v1/admin/bots/{id}/analytics",
        200,
        Scope::Workspace,
        Some("records"),
        Paging::Unpaged,
    ),
    op(
        "listBotIssues",
        Area::Bots,
        "GET",
        "/v1/admin/bots/{id}/issues",
        200,
        Scope::Workspace,
        Some("issues"),
        Paging::MetaNextToken,
    ),
    op(
        "deleteBotIssue",
        Area::Bots,
        "DELETE",
        "/v1/admin/bots/{id}/issues/{issueId}",
        200,
        Scope::Workspace,
        None,
        Paging::None,
    ),
    op(
        "listBotIssueEvents",
        Area::Bots,
        "GET",
        "/v1/admin/bots/{id}/issues/{issueId}/events",
        200,
        Scope::Workspace,
        Some("issueEvents"),
        Paging::Unpaged,
    ),
    op(
        "listTables",
        Area::Tables,
        "GET",
        "/v1/tables",
        200,
        Scope::Bot,
        Some("tables"),
        Paging::Unpaged,
    ),
    op(
        "getTable",
        Area::Tables,
        "GET",
        "/v1/tables/{table}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getOrCreateTable",
        Area::Tables,
        "POST",
        "/v1/tables/{table}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "createTable",
        Area::Tables,
        "POST",
        "/v1/tables",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "duplicateTable",
        Area::Tables,
        "POST",
        "/v1/tables/{sourceTableId}/duplicate",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "updateTable",
        Area::Tables,
        "PUT",
        "/v1/tables/{table}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "renameTableColumn",
        Area::Tables,
        "PUT",
        "/v1/tables/{table}/column",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "deleteTable",
        Area::Tables,
        "DELETE",
        "/v1/tables/{table}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "getTableRow",
        Area::TableRows,
        "GET",
        "/v1/tables/{table}/row",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "findTableRows",
        Area::TableRows,
        "POST",
        "/v1/tables/{table}/rows/find",
        200,
        Scope::Bot,
        Some("rows"),
        Paging::Offset,
    ),
    op(
        "createTableRows",
        Area::TableRows,
        "POST",
        "/v1/tables/{table}/rows",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "deleteTableRows",
        Area::TableRows,
        "POST",
        "/v1/tables/{table}/rows/delete",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "updateTableRows",
        Area::TableRows,
        "PUT",
        "/v1/tables/{table}/rows",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "upsertTableRows",
        Area::TableRows,
        "POST",
        "/v1/tables/{table}/rows/upsert",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "upsertFile",
        Area::Files,
        "PUT",
        "/v1/files",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "deleteFile",
        Area::Files,
        "DELETE",
        "/v1/files/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "listFiles",
        Area::Files,
        "GET",
        "/v1/files",
        200,
        Scope::Bot,
        Some("files"),
        Paging::MetaNextToken,
    ),
    op(
        "getFile",
        Area::Files,
        "GET",
        "/v1/files/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "updateFileMetadata",
        Area::Files,
        "PUT",
        "/v1/files/{id}",
        200,
        Scope::Bot,
        None,
        Paging::None,
    ),
    op(
        "searchFiles",
        Area::Files,
        "GET",
        "/v1/files/search",
        200,
        Scope::Bot,
        Some("passages"),
        Paging::Unpaged,
    ),
];

/// The operation with this id.
pub fn find_operation(id: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.id == id)
}

/// The operation a concrete request addresses: method and path (no query string). Where
/// a literal segment and a parameter both match (`/v1/files/search` vs `/v1/files/{id}`),
/// the template with more literal segments wins, as the server routes it.
pub fn match_operation(method: &str, path: &str) -> Option<&'static Operation> {
    // On every request of the reference server (journal, fault layer): the path is split
    // once, onto the stack, and compared only with the templates of as many segments,
    // split once per process.
    const MAX_SEGMENTS: usize = 16;
    type Templates = Vec<Vec<(Vec<&'static str>, &'static Operation)>>;
    static BY_LENGTH: LazyLock<Templates> = LazyLock::new(|| {
        let mut by_length: Templates = vec![Vec::new(); MAX_SEGMENTS + 1];
        for o in OPERATIONS.iter() {
            let template: Vec<&str> = o.path.split('/').collect();
            by_length[template.len()].push((template, o));
        }
        by_length
    });
    let mut segments = [""; MAX_SEGMENTS];
    let mut count = 0;
    for segment in path.trim_end_matches('/').split('/') {
        // Longer than every template: no operation.
        *segments.get_mut(count)? = segment;
        count += 1;
    }
    let segments = &segments[..count];
    BY_LENGTH[count]
        .iter()
        .filter(|(_, o)| o.method.eq_ignore_ascii_case(method))
        .filter_map(|(template, o)| literal_matches(template, segments).map(|literals| (literals, *o)))
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, o)| o)
}

/// How many literal segments of `template` the path's `segments` match, when they match
/// all of it (a `{parameter}` matches any non-empty segment).
fn literal_matches(template: &[&str], segments: &[&str]) -> Option<usize> {
    let mut literals = 0;
    for (t, s) in template.iter().zip(segments) {
        if t.starts_with('{') {
            if s.is_empty() {
                return None;
            }
        } else if t == s {
            literals += 1;
        } else {
            return None;
        }
    }
    Some(literals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("GET", "/v1/chat/users", "listUsers")]
    #[case("GET", "/v1/chat/users/user_01", "getUser")]
    #[case("POST", "/v1/chat/users/get-or-create", "getOrCreateUser")]
    #[case("GET", "/v1/files/search", "searchFiles")]
    #[case("GET", "/v1/files/file_1", "getFile")]
    #[case("GET", "/v1/tables/t1/row", "getTableRow")]
    #[case("POST", "/v1/chat/states/user/u1/prefs/get-or-set", "getOrSetState")]
    #[case("DELETE", "/v1/admin/bots/b1/issues/i1", "deleteBotIssue")]
    fn matches_concrete_paths(#[case] method: &str, #[case] path: &str, #[case] id: &str) {
        assert_eq!(match_operation(method, path).map(|o| o.id), Some(id));
    }

    #[test]
    fn unknown_paths_match_nothing() {
        assert!(match_operation("GET", "/v1/chat/nope").is_none());
        assert!(match_operation("PATCH", "/v1/chat/users/x").is_none());
    }

    #[test]
    fn exactly_four_operations_answer_201() {
        let created: Vec<_> = OPERATIONS
            .iter()
            .filter(|o| o.success_status == 201)
            .map(|o| o.id)
            .collect();
        assert_eq!(
            created,
            ["createUser", "createConversation", "createEvent", "createMessage"]
        );
    }

    #[test]
    fn ids_are_unique() {
        let ids: std::collections::HashSet<_> = OPERATIONS.iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), OPERATIONS.len());
    }
}
