//! The namespace rule (RESTler's), generated from the catalogue: whatever bot A owns, no
//! other caller can see or touch. The resources every operation needs are made as bot A
//! (users, conversations, messages, events, states, a table with a row, a file); then each
//! operation the server routes gets its path filled with A's ids and its body built from its
//! request schema, and is called
//! - for a bot-scoped operation (runtime, tables, files):
//!   - as bot B (same token, same workspace): A's ids are not found (404
//!     `ResourceNotFound`), a body that refers to them is refused, nothing answered names one;
//!   - with the other workspace's token and A's bot id: 403 `Forbidden`;
//! - for a workspace-scoped operation (the bot admin API):
//!   - as the other workspace, with its own token and id: A's bot is not found (404
//!     `ResourceNotFound`), nothing answered names it;
//!   - with A's token and the other workspace's id: 403 `Forbidden`;
//! - with no token: 401 `Unauthorized`.
//!
//! A's data, read back as A, is the same afterwards. A new route of the catalogue is covered
//! as soon as the server routes it; one whose path needs an id of a kind not made here fails
//! the test until `Owned::id_for` learns it.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, header};
use bpharness::api::{OPERATIONS, Operation, Paging, Scope};
use bpharness::contract::SchemaSet;
use std::collections::BTreeSet;

use bpharness::server::fault::{self, Fault};
use bpharness::server::{AppState, ServerConfig, router};
use rstest::rstest;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::util::{Reply, assert_error};

/// Who calls: a token (or none) and the header that scopes the call.
#[derive(Debug, Clone, Copy)]
struct Caller<'a> {
    token: Option<&'a str>,
    /// `x-bot-id` or `x-workspace-id`.
    scope: (&'static str, &'a str),
}

impl<'a> Caller<'a> {
    fn bot(token: &'a str, bot: &'a str) -> Self {
        Caller {
            token: Some(token),
            scope: ("x-bot-id", bot),
        }
    }

    fn workspace(token: &'a str, workspace: &'a str) -> Self {
        Caller {
            token: Some(token),
            scope: ("x-workspace-id", workspace),
        }
    }

    fn without_token(self) -> Self {
        Caller { token: None, ..self }
    }
}

async fn send(app: &Router, caller: Caller<'_>, method: &str, uri: &str, body: Option<&Value>) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = caller.token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder = builder.header(caller.scope.0, caller.scope.1);
    let body = match body {
        Some(value) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(value.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(builder.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply {
        status,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// What bot A owns.
struct Owned {
    user: String,
    conversation: String,
    message: String,
    event: String,
    bot: String,
    table: String,
    /// The id of the table's one row (row ids count per table, so they are not searched
    /// for in answers).
    row: u64,
    file: String,
}

/// The name of A's user state (a state name is declared with one type).
const STATE_NAME: &str = "isolation";
const TAGS: &str = "isolation";

/// The name of A's state of `kind`.
fn state_name(kind: &str) -> &'static str {
    match kind {
        "user" => STATE_NAME,
        "conversation" => "isolationConv",
        _ => "isolationBot",
    }
}

/// What A and B declare: the tag key, the state names and the event type the test uses (a
/// bot takes only those it declares). B declares them too, so what it is refused is A's
/// data, not an undeclared name.
fn definition() -> Value {
    let tags = json!({ "tags": { TAGS: {} } });
    let state = |kind: &str| json!({ "type": kind, "schema": { "type": "object" } });
    json!({
        "user": tags, "conversation": tags, "message": tags,
        "states": {
            state_name("user"): state("user"),
            state_name("conversation"): state("conversation"),
            state_name("bot"): state("bot"),
        },
        "events": { "isolation": { "schema": {} } },
    })
}

async fn declare(app: &Router, admin: Caller<'_>, bot: &str) {
    let r = send(app, admin, "PUT", &format!("/v1/admin/bots/{bot}"), Some(&definition())).await;
    assert_eq!(r.status, 200, "updateBot {bot}: {:#}", r.body);
}
/// A's table name. Names are per bot: another bot may have a table of the same name, so an
/// answer naming it is no leak (the table's id is).
const TABLE_NAME: &str = "isolationOwnedByATable";
/// A file key only A uses, so an answer to another caller that contains it leaks A's data.
const FILE_KEY: &str = "isolation-owned-by-a.txt";

impl Owned {
    async fn make(app: &Router, a: Caller<'_>, bot: &str) -> Owned {
        let post = |uri: String, body: Value| async move {
            let r = send(app, a, "POST", &uri, Some(&body)).await;
            assert!(r.status.is_success(), "POST {uri}: {:#}", r.body);
            r.body
        };
        let tags = json!({ TAGS: "a" });
        let user = post("/v1/chat/users".into(), json!({ "tags": tags })).await["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let conversation = post(
            "/v1/chat/conversations".into(),
            json!({ "channel": "web", "tags": tags }),
        )
        .await["conversation"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        post(
            format!("/v1/chat/conversations/{conversation}/participants"),
            json!({ "userId": user }),
        )
        .await;
        let message = post(
            "/v1/chat/messages".into(),
            json!({ "payload": { "text": "a" }, "userId": user, "conversationId": conversation, "type": "text", "tags": tags }),
        )
        .await["message"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let event = post(
            "/v1/chat/events".into(),
            json!({ "type": "isolation", "payload": {}, "conversationId": conversation, "userId": user }),
        )
        .await["event"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (kind, owner) in [
            ("user", &user),
            ("conversation", &conversation),
            ("bot", &bot.to_owned()),
        ] {
            post(
                format!("/v1/chat/states/{kind}/{owner}/{}", state_name(kind)),
                json!({ "payload": { "owner": "a" } }),
            )
            .await;
        }
        let table = post(
            "/v1/tables".into(),
            json!({ "name": TABLE_NAME, "schema": { "type": "object", "properties": { "note": { "type": "string" } } } }),
        )
        .await["table"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let row = post(format!("/v1/tables/{table}/rows"), json!({ "rows": [{ "note": "a" }] })).await["rows"][0]["id"]
            .as_u64()
            .unwrap();
        let r = send(
            app,
            a,
            "PUT",
            "/v1/files",
            Some(&json!({ "key": FILE_KEY, "size": 1, "tags": { TAGS: "a" } })),
        )
        .await;
        assert!(r.status.is_success(), "upsertFile: {:#}", r.body);
        let file = r.body["file"]["id"].as_str().unwrap().to_owned();
        Owned {
            user,
            conversation,
            message,
            event,
            bot: bot.to_owned(),
            table,
            row,
            file,
        }
    }

    /// What no other caller may be answered with.
    fn ids(&self) -> [&str; 7] {
        [
            &self.user,
            &self.conversation,
            &self.message,
            &self.event,
            &self.table,
            &self.file,
            FILE_KEY,
        ]
    }

    /// The value of a path parameter, from the segment before it.
    fn id_for(&self, before: &str, param: &str) -> String {
        match (before, param) {
            ("users", _) | ("participants", _) => self.user.clone(),
            ("conversations", _) => self.conversation.clone(),
            ("messages", _) => self.message.clone(),
            ("events", _) => self.event.clone(),
            ("tables", _) => self.table.clone(),
            ("files", _) => self.file.clone(),
            // `/v1/admin/bots/{id}`: A's bot; its issues: none exists, the bot is what is
            // looked up first.
            ("bots", _) => self.bot.clone(),
            ("issues", _) => "issue_isolation".into(),
            ("states", "type") => "user".into(),
            (_, "name") => STATE_NAME.into(),
            // `/states/{type}/{id}`: the owner, of the type above.
            ("{type}", "id") => self.user.clone(),
            _ => panic!("no id of bot A for `{{{param}}}` after `{before}`: teach Owned::id_for"),
        }
    }

    /// The operation's path with A's ids, and the query it cannot do without.
    fn uri(&self, operation: &Operation) -> String {
        let segments: Vec<&str> = operation.path.split('/').collect();
        let mut out = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => out.push(self.id_for(segments[i - 1], param)),
                None => out.push((*segment).to_owned()),
            }
        }
        let path = out.join("/");
        match operation.id {
            // Gets or creates by name, in the caller's own namespace: another bot gets a
            // table of its own.
            "getOrCreateTable" => format!("/v1/tables/{TABLE_NAME}"),
            "getTableRow" => format!("{path}?id={}", self.row),
            "getBotLogs" => format!("{path}?timeStart=2020-01-01T00:00:00Z"),
            "getBotAnalytics" => format!("{path}?startDate=2025-01-01&endDate=2025-01-02"),
            _ => path,
        }
    }

    /// A valid body for `operation`, built from its request schema: every required property,
    /// with A's ids where the property names one.
    fn body(&self, operation: &Operation) -> Option<Value> {
        let schema = SchemaSet::embedded().document(&format!("requests/{}.json", operation.id))?;
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut body = serde_json::Map::new();
        for name in required {
            let property = &schema["properties"][name];
            let value = match name {
                "userId" => json!(self.user),
                "conversationId" => json!(self.conversation),
                "messageId" => json!(self.message),
                "tags" => json!({ TAGS: "a" }),
                "channel" => json!("web"),
                "schema" => json!({ "type": "object", "properties": { "note": { "type": "string" } } }),
                "rows" => json!([{ "id": self.row, "note": "b" }]),
                "ids" => json!([self.row]),
                // callAction: a built-in action.
                "type" if operation.id == "callAction" => json!("echo"),
                _ => match property["enum"].get(0) {
                    Some(first) => first.clone(),
                    None => match property["type"].as_str() {
                        Some("string") => json!("isolation"),
                        Some("number" | "integer") => json!(1),
                        Some("boolean") => json!(false),
                        Some("array") => json!([]),
                        _ => json!({}),
                    },
                },
            };
            body.insert(name.to_owned(), value);
        }
        // Optional alone, but one of them is needed: the rows to delete.
        if operation.id == "deleteTableRows" {
            body.insert("ids".into(), json!([self.row]));
        }
        Some(Value::Object(body))
    }

    /// Everything A can read of its own data, to compare before and after.
    async fn snapshot(&self, app: &Router, a: Caller<'_>, admin: Caller<'_>) -> Vec<(String, Value)> {
        let mut reads = vec![
            format!("/v1/chat/users/{}", self.user),
            format!("/v1/chat/conversations/{}", self.conversation),
            format!("/v1/chat/conversations/{}/participants", self.conversation),
            format!("/v1/chat/messages/{}", self.message),
            format!("/v1/chat/events/{}", self.event),
            "/v1/chat/users".into(),
            "/v1/chat/conversations".into(),
            format!("/v1/chat/messages?conversationId={}", self.conversation),
            "/v1/chat/events".into(),
            format!("/v1/tables/{}", self.table),
            format!("/v1/tables/{}/row?id={}", self.table, self.row),
            "/v1/tables".into(),
            format!("/v1/files/{}", self.file),
            "/v1/files".into(),
        ];
        for (kind, owner) in [
            ("user", &self.user),
            ("conversation", &self.conversation),
            ("bot", &self.bot),
        ] {
            reads.push(format!("/v1/chat/states/{kind}/{owner}/{}", state_name(kind)));
        }
        let mut out = Vec::new();
        for uri in reads {
            let r = send(app, a, "GET", &uri, None).await;
            assert_eq!(r.status, 200, "A reads {uri}: {:#}", r.body);
            out.push((uri, without_signed_urls(r.body)));
        }
        let uri = format!("/v1/admin/bots/{}", self.bot);
        let r = send(app, admin, "GET", &uri, None).await;
        assert_eq!(r.status, 200, "A's workspace reads {uri}: {:#}", r.body);
        out.push((uri, r.body));
        out
    }
}

/// A read with its signed URLs taken out: their expiry moves with the clock.
fn without_signed_urls(mut body: Value) -> Value {
    match &mut body {
        Value::Object(fields) => {
            fields.remove("url");
            fields.remove("uploadUrl");
            for value in fields.values_mut() {
                *value = without_signed_urls(value.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without_signed_urls(item.take());
            }
        }
        _ => {}
    }
    body
}

/// Whether the router has a route for the operation (the fallback names none). The probe's
/// path has the parameter names for ids and no body, so it finds nothing and makes nothing.
async fn is_routed(app: &Router, caller: Caller<'_>, operation: &Operation, uri: &str) -> bool {
    let r = send(app, caller, operation.method, uri, None).await;
    let fallback = r.status == 404
        && r.body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("no route for"));
    !fallback
}

fn mentions(body: &Value, ids: &[&str]) -> Option<String> {
    let text = body.to_string();
    ids.iter().find(|id| text.contains(*id)).map(|id| (*id).to_owned())
}

/// The callers of one run: A, and those who must not reach A's data.
struct Callers<'a> {
    a: Caller<'a>,
    a_admin: Caller<'a>,
    /// Bot B: same token and workspace as A.
    b: Caller<'a>,
    /// The other workspace's token, naming A's bot.
    stranger_in_a: Caller<'a>,
    /// The other workspace, as itself.
    other_workspace: Caller<'a>,
    /// A's token, naming the other workspace.
    a_in_other_workspace: Caller<'a>,
}

#[tokio::test]
async fn no_operation_crosses_bots_or_workspaces() {
    let calls = cross_every_operation(ServerConfig::default()).await;
    eprintln!("isolation: {calls} calls generated for {} operations", OPERATIONS.len());
}

/// The generator is not blind: a server that lets a caller cross is caught, with the status
/// the crossing answered instead of the documented one.
#[rstest]
#[case::another_bot("cross-bot-reads", "right: 404")]
#[case::another_workspace("workspace-not-enforced", "right: 403")]
#[case::no_token("auth-not-enforced", "right: 401")]
#[tokio::test]
async fn a_server_that_lets_a_caller_cross_is_caught(#[case] fault: &str, #[case] expected: &str) {
    let config = ServerConfig {
        faults: BTreeSet::from([fault.parse::<Fault>().unwrap()]),
        ..ServerConfig::default()
    };
    let crossed = tokio::spawn(cross_every_operation(config)).await;
    let panic = crossed.expect_err("the crossing went unnoticed").into_panic();
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(message.contains(expected), "{fault}: {message}");
}

/// Runs the namespace rule over every operation; panics at the first crossing. Returns how
/// many calls it made.
async fn cross_every_operation(config: ServerConfig) -> usize {
    // Events are done at once, so A's event reads the same before and after the crossings.
    let state = AppState::new(ServerConfig {
        event_delay: std::time::Duration::ZERO,
        ..config
    });
    let seeds = state.seeds().clone();
    let app = fault::wrap(router(state.clone()), state);
    let token = seeds.tokens[0].as_str();
    let who = Callers {
        a: Caller::bot(token, &seeds.bot_id),
        a_admin: Caller::workspace(token, &seeds.workspace_id),
        b: Caller::bot(token, &seeds.other_bot_id),
        stranger_in_a: Caller::bot(&seeds.other_workspace_token, &seeds.bot_id),
        other_workspace: Caller::workspace(&seeds.other_workspace_token, &seeds.other_workspace_id),
        a_in_other_workspace: Caller::workspace(token, &seeds.other_workspace_id),
    };

    declare(&app, who.a_admin, &seeds.bot_id).await;
    declare(&app, who.a_admin, &seeds.other_bot_id).await;
    let owned = Owned::make(&app, who.a, &seeds.bot_id).await;
    let before = owned.snapshot(&app, who.a, who.a_admin).await;
    let ids = owned.ids();
    let mut calls = 0;
    let mut covered = Vec::new();
    for operation in OPERATIONS.iter() {
        let (own, intruder, forbidden) = match operation.scope {
            Scope::Bot => (who.a, who.b, who.stranger_in_a),
            Scope::Workspace => (who.a_admin, who.other_workspace, who.a_in_other_workspace),
        };
        let probe = operation.path.replace(['{', '}'], "");
        if !is_routed(&app, own, operation, &probe).await {
            continue;
        }
        covered.push(operation.id);
        let uri = owned.uri(operation);
        let body = owned.body(operation);
        let names_a = ids.iter().any(|id| uri.contains(id)) || uri.contains(&owned.bot);
        let refers_to_a = body.as_ref().and_then(|b| mentions(b, &ids)).is_some();
        let context = format!("{} {} {uri}", operation.id, operation.method);

        // (a) Another tenant: bot B, or the other workspace.
        let mut uris = vec![uri.clone()];
        if operation.scope == Scope::Bot && operation.paging != Paging::None && !names_a {
            uris.push(format!(
                "{uri}?conversationId={}&userId={}",
                owned.conversation, owned.user
            ));
        }
        for uri in &uris {
            let r = send(&app, intruder, operation.method, uri, body.as_ref()).await;
            calls += 1;
            if names_a {
                assert_error(&r, 404, "ResourceNotFound");
            } else if refers_to_a {
                assert!(
                    r.status.is_client_error(),
                    "{context} by another tenant with A's ids in the body: {} {:#}",
                    r.status,
                    r.body
                );
            } else {
                assert!(
                    r.status.is_success() || r.status.is_client_error(),
                    "{context}: {:#}",
                    r.body
                );
            }
            // An error message may echo the id asked for; only an answer with data can leak.
            if r.status.is_success()
                && let Some(id) = mentions(&r.body, &ids).or_else(|| mentions(&r.body, &[&owned.bot]))
            {
                panic!("{context} answered another tenant with A's {id}: {:#}", r.body);
            }
        }

        // (b) A token that may not enter the namespace it names.
        let r = send(&app, forbidden, operation.method, &uri, body.as_ref()).await;
        calls += 1;
        assert_error(&r, 403, "Forbidden");

        // (c) No token.
        let r = send(&app, own.without_token(), operation.method, &uri, body.as_ref()).await;
        calls += 1;
        assert_error(&r, 401, "Unauthorized");
    }
    // Every operation of the catalogue is served: the test must not shrink silently.
    for operation in OPERATIONS {
        assert!(covered.contains(&operation.id), "{} was not covered", operation.id);
    }
    let after = owned.snapshot(&app, who.a, who.a_admin).await;
    for ((uri, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "A's {uri} changed");
    }
    calls
}
