//! Helpers shared by the integration tests.

use bpharness::contract::{SchemaSet, violations};
use bpharness::server::{ServerConfig, ServerHandle, spawn_local};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A reference server on 127.0.0.1:0 and a client bound to its primary token and bot.
pub struct Api {
    pub server: ServerHandle,
    pub http: reqwest::Client,
    pub token: String,
    pub bot: String,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Api {
    pub async fn start() -> Api {
        Self::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> Api {
        let server = spawn_local(config).await.expect("server starts on loopback");
        let token = server.token().to_string();
        let bot = server.seeds().bot_id.clone();
        Api {
            server,
            http: reqwest::Client::new(),
            token,
            bot,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    /// A request with the default token and bot; `body` is sent as JSON when given.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.token, &self.bot, method, path, body).await
    }

    pub async fn call_as(&self, token: &str, bot: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("x-bot-id", bot);
        if let Some(body) = body {
            req = req.json(&body);
        }
        into_reply(req.send().await.expect("request reaches the server")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, Some(serde_json::json!({}))).await
    }

    /// Adds `definition` (an updateBot fragment: `user`, `conversation`, `message` tags,
    /// `states`, `events`) to the primary bot. The server takes only the tag keys and state
    /// names a bot declares; the seeded bots declare the suite's (`scenarios/bot-definition.yaml`),
    /// and a test that uses others declares them here.
    pub async fn declare(&self, definition: Value) {
        let path = format!("/v1/admin/bots/{}", self.bot);
        let r = self.admin(Method::PUT, &path, Some(definition)).await;
        assert_eq!(r.status, 200, "the definition is accepted: {:#}", r.body);
    }

    /// The primary workspace, where the default token and bot live.
    pub fn workspace(&self) -> String {
        self.server.seeds().workspace_id.clone()
    }

    /// An admin request with the default token in the primary workspace.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let workspace = self.workspace();
        self.admin_as(&self.token, Some(&workspace), method, path, body).await
    }

    /// An admin request with `token`, sending `x-workspace-id` when `workspace` is given.
    pub async fn admin_as(
        &self,
        token: &str,
        workspace: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(workspace) = workspace {
            req = req.header("x-workspace-id", workspace);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        into_reply(req.send().await.expect("request reaches the server")).await
    }
}

/// Declared tag keys, as a bot definition writes them: `{"k": {}, …}`.
pub fn tag_keys(keys: &[&str]) -> Value {
    Value::Object(keys.iter().map(|k| (k.to_string(), serde_json::json!({}))).collect())
}

/// Declared states of one type with open schemas, as a bot definition writes them.
pub fn state_names(kind: &str, names: &[&str]) -> Value {
    Value::Object(
        names
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    serde_json::json!({ "type": kind, "schema": { "type": "object" } }),
                )
            })
            .collect(),
    )
}

pub async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = response.bytes().await.expect("body is readable");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        body,
    }
}

/// Asserts `body` is valid against `schemas/<rel>`, printing every violation otherwise.
pub fn assert_schema(rel: &str, body: &Value) {
    let validator = SchemaSet::embedded().validator(rel).expect("schema compiles");
    let found = violations(&validator, body, 20);
    assert!(found.is_empty(), "{rel}: {body:#}\nviolations: {found:#?}");
}

/// Asserts the reply is the documented error of `ty`.
pub fn assert_error(reply: &Reply, status: u16, ty: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:#}", reply.body);
    assert_eq!(reply.body["type"], ty, "{:#}", reply.body);
    assert_eq!(reply.body["code"], status);
    assert!(reply.content_type.starts_with("application/json"));
    assert_schema("error.json", &reply.body);
}
