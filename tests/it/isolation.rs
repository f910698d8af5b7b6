//! The namespace rule (RESTler's), generated from the catalogue: whatever bot A owns, no
//! other caller can see or touch. For every bot-scoped operation the server routes, the
//! resources it needs are made as bot A, its path is filled with A's ids and its body built
//! from its request schema, then it is called
//! - as bot B (same token, same workspace): A's ids are not found (404 `ResourceNotFound`),
//!   a body that refers to them is refused, nothing answered names one of them;
//! - with the other workspace's token and A's bot id: 403 `Forbidden`;
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
use bpharness::server::{AppState, ServerConfig, router};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::util::{Reply, assert_error};

/// Who calls.
#[derive(Debug, Clone, Copy)]
enum Caller<'a> {
    As { token: &'a str, bot: &'a str },
    NoToken { bot: &'a str },
}

async fn send(app: &Router, caller: Caller<'_>, method: &str, uri: &str, body: Option<&Value>) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    let bot = match caller {
        Caller::As { token, bot } => {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
            bot
        }
        Caller::NoToken { bot } => bot,
    };
    builder = builder.header("x-bot-id", bot);
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
}

const STATE_NAME: &str = "isolation";
const TAGS: &str = "isolation";

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
                format!("/v1/chat/states/{kind}/{owner}/{STATE_NAME}"),
                json!({ "payload": { "owner": "a" } }),
            )
            .await;
        }
        Owned {
            user,
            conversation,
            message,
            event,
            bot: bot.to_owned(),
        }
    }

    fn ids(&self) -> [&str; 4] {
        [&self.user, &self.conversation, &self.message, &self.event]
    }

    /// The value of a path parameter, from the segment before it.
    fn id_for(&self, before: &str, param: &str) -> String {
        match (before, param) {
            ("users", _) | ("participants", _) => self.user.clone(),
            ("conversations", _) => self.conversation.clone(),
            ("messages", _) => self.message.clone(),
            ("events", _) => self.event.clone(),
            ("states", "type") => "user".into(),
            (_, "name") => STATE_NAME.into(),
            // `/states/{type}/{id}`: the owner, of the type above.
            ("{type}", "id") => self.user.clone(),
            _ => panic!("no id of bot A for `{{{param}}}` after `{before}`: teach Owned::id_for"),
        }
    }

    fn fill(&self, template: &str) -> String {
        let segments: Vec<&str> = template.split('/').collect();
        let mut out = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => out.push(self.id_for(segments[i - 1], param)),
                None => out.push((*segment).to_owned()),
            }
        }
        out.join("/")
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
        Some(Value::Object(body))
    }

    /// Everything A can read of its own data, to compare before and after.
    async fn snapshot(&self, app: &Router, a: Caller<'_>) -> Vec<(String, Value)> {
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
        ];
        for (kind, owner) in [
            ("user", &self.user),
            ("conversation", &self.conversation),
            ("bot", &self.bot),
        ] {
            reads.push(format!("/v1/chat/states/{kind}/{owner}/{STATE_NAME}"));
        }
        let mut out = Vec::new();
        for uri in reads {
            let r = send(app, a, "GET", &uri, None).await;
            assert_eq!(r.status, 200, "A reads {uri}: {:#}", r.body);
            out.push((uri, r.body));
        }
        out
    }
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

#[tokio::test]
async fn no_operation_crosses_bots_or_workspaces() {
    let state = AppState::new(ServerConfig::default());
    let seeds = state.seeds().clone();
    let app = router(state);
    let token = seeds.tokens[0].as_str();
    let a = Caller::As {
        token,
        bot: &seeds.bot_id,
    };
    let b = Caller::As {
        token,
        bot: &seeds.other_bot_id,
    };
    let stranger = Caller::As {
        token: &seeds.other_workspace_token,
        bot: &seeds.bot_id,
    };
    let anonymous = Caller::NoToken { bot: &seeds.bot_id };

    let owned = Owned::make(&app, a, &seeds.bot_id).await;
    let before = owned.snapshot(&app, a).await;
    let ids = owned.ids();
    let mut calls = 0;
    let mut covered = Vec::new();
    // The runtime routes; tables, files and bots have isolation tests of their own
    // (server_tables, server_files, server_bots) until `Owned` learns their ids.
    for operation in OPERATIONS
        .iter()
        .filter(|o| o.scope == Scope::Bot && o.path.starts_with("/v1/chat/"))
    {
        let probe = operation.path.replace(['{', '}'], "");
        if !is_routed(&app, a, operation, &probe).await {
            continue;
        }
        covered.push(operation.id);
        let uri = owned.fill(operation.path);
        let body = owned.body(operation);
        let names_a = ids.iter().any(|id| uri.contains(id));
        let refers_to_a = body.as_ref().and_then(|b| mentions(b, &ids)).is_some();
        let context = format!("{} {} {uri}", operation.id, operation.method);

        // (a) Bot B, same token.
        let mut uris = vec![uri.clone()];
        if operation.paging != Paging::None && !names_a {
            uris.push(format!(
                "{uri}?conversationId={}&userId={}",
                owned.conversation, owned.user
            ));
        }
        for uri in &uris {
            let r = send(&app, b, operation.method, uri, body.as_ref()).await;
            calls += 1;
            if names_a {
                assert_error(&r, 404, "ResourceNotFound");
            } else if refers_to_a {
                assert!(
                    r.status.is_client_error(),
                    "{context} as bot B with A's ids in the body: {} {:#}",
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
                && let Some(id) = mentions(&r.body, &ids)
            {
                panic!("{context} as bot B answered with A's {id}: {:#}", r.body);
            }
        }

        // (b) Another workspace's token, A's bot.
        let r = send(&app, stranger, operation.method, &uri, body.as_ref()).await;
        calls += 1;
        assert_error(&r, 403, "Forbidden");

        // (c) No token.
        let r = send(&app, anonymous, operation.method, &uri, body.as_ref()).await;
        calls += 1;
        assert_error(&r, 401, "Unauthorized");
    }
    // Every runtime operation is served on this branch: the test must not shrink silently.
    for operation in OPERATIONS.iter().filter(|o| o.path.starts_with("/v1/chat/")) {
        assert!(covered.contains(&operation.id), "{} was not covered", operation.id);
    }
    let after = owned.snapshot(&app, a).await;
    for ((uri, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "A's {uri} changed");
    }
    eprintln!("isolation: {calls} calls generated for {} operations", covered.len());
}
