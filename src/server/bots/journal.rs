//! The journal: the one place where runtime traffic becomes bot activity.
//!
//! The front door calls it for every runtime route. For a request whose `x-bot-id` names
//! an existing bot the token may act for, it appends one log line once the handler has
//! answered (level `info` for a success, `warn` for a client error, `error` for `Runtime`
//! failures and server errors), naming the user, conversation and workflow the request
//! names in its path, query or JSON body. A `callAction` that fails with `Runtime` also opens or bumps the issue of
//! that action. Handlers know nothing of this.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::api::{Operation, match_operation};
use crate::server::error::ApiError;
use crate::server::ids::Timestamp;
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotSpace, Grant, ResolvedBot};

use super::activity::{Datum, Failure, LogLine, LogMessage};

/// Request bodies read for the names they carry; larger ones pass through unread.
const READ_BODY_LIMIT: u64 = 1024 * 1024;
/// Error bodies read for their type and message: the server's own and short, read whole
/// (a cut read would lose them).
const READ_ERROR_LIMIT: usize = usize::MAX;

/// The user, conversation and workflow a request names.
#[derive(Debug, Default, PartialEq)]
struct Names {
    user: Option<String>,
    conversation: Option<String>,
    workflow: Option<String>,
}

impl Names {
    /// From the path parameters: `users/{id}`, `conversations/{id}`, `{userId}`, and the
    /// owner of a user or conversation state.
    fn from_path(template: &str, path: &str) -> Names {
        let mut names = Names::default();
        let mut previous = "";
        let mut state_type = "";
        for (t, s) in template.split('/').zip(path.split('/')) {
            match t {
                "{userId}" => names.user = Some(s.to_string()),
                "{type}" => state_type = s,
                "{id}" => match (previous, state_type) {
                    ("users", _) | (_, "user") => names.user = Some(s.to_string()),
                    ("conversations", _) | (_, "conversation") => names.conversation = Some(s.to_string()),
                    _ => {}
                },
                literal => previous = literal,
            }
        }
        names
    }

    /// Fills what is still unknown from `get` (query parameters or body fields).
    fn fill(&mut self, get: impl Fn(&str) -> Option<String>) {
        self.user = self.user.take().or_else(|| get("userId"));
        self.conversation = self.conversation.take().or_else(|| get("conversationId"));
        self.workflow = self.workflow.take().or_else(|| get("workflowId"));
    }
}

/// The fields of a request body the journal reads; the rest is skipped unparsed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BodyNames {
    user_id: Option<String>,
    conversation_id: Option<String>,
    workflow_id: Option<String>,
    /// The action of a `callAction`.
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The bot a runtime request acts for, when it exists and the token may act for it.
pub fn bot_of(state: &AppState, req: &Request) -> Option<Arc<BotSpace>> {
    let grant = req.extensions().get::<Arc<Grant>>()?;
    let id = req.headers().get("x-bot-id")?.to_str().ok()?.trim();
    state
        .store()
        .bot(id)
        .filter(|bot| grant.workspaces.contains(&bot.workspace_id))
}

/// Reads a small body and puts it back; anything else passes through unread.
async fn read_body(req: Request) -> Result<(Request, Option<Bytes>), Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(length) = declared.filter(|n| (1..=READ_BODY_LIMIT).contains(n)) else {
        return Ok((req, None));
    };
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, length as usize)
        .await
        .map_err(|_| ApiError::invalid_payload("request body does not match its Content-Length").into_response())?;
    Ok((Request::from_parts(parts, Body::from(bytes.clone())), Some(bytes)))
}

/// The `type` and `message` of an error response, and the response put back together.
async fn read_error(response: Response) -> (Response, Option<(String, String)>) {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, READ_ERROR_LIMIT).await else {
        return (Response::from_parts(parts, Body::empty()), None);
    };
    let error = serde_json::from_slice::<Value>(&bytes).ok().map(|v| {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        (text("type"), text("message"))
    });
    (Response::from_parts(parts, Body::from(bytes)), error)
}

/// The runtime operation a request addresses, when the journal records it: not the admin
/// API, not an unknown route or method (their 404 and 405 are not the bot's traffic).
pub fn recorded_operation(req: &Request) -> Option<&'static Operation> {
    match_operation(req.method().as_str(), req.uri().path()).filter(|o| !o.path.starts_with("/v1/admin/"))
}

/// Runs `req` (operation `op`, acting for `bot`) and records it in the bot's activity.
pub async fn record(
    state: &AppState,
    bot: Arc<BotSpace>,
    op: &'static Operation,
    req: Request,
    next: Next,
) -> Response {
    let mut req = req;
    // Handed to the handler's `BotCtx`, so the bot is looked up once per request.
    req.extensions_mut().insert(ResolvedBot(bot.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = QueryParams::parse(req.uri().query().unwrap_or(""));
    let (req, body) = match read_body(req).await {
        Ok(pair) => pair,
        Err(response) => return response,
    };
    let mut names = Names::from_path(op.path, &path);
    names.fill(|k| query.get(k).map(str::to_string));
    let named: BodyNames = body
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    names.fill(|k| match k {
        "userId" => named.user_id.clone(),
        "conversationId" => named.conversation_id.clone(),
        _ => named.workflow_id.clone(),
    });

    let response = next.run(req).await;
    let status = response.status();
    let (response, error) = if status.is_client_error() || status.is_server_error() {
        read_error(response).await
    } else {
        (response, None)
    };
    let op_id = op.id;
    let runtime = error.as_ref().is_some_and(|(ty, _)| ty == "Runtime");
    let level = if runtime || status.is_server_error() {
        "error"
    } else if status.is_client_error() {
        "warn"
    } else {
        "info"
    };
    let message = LogMessage {
        operation: op_id,
        method,
        path,
        status: status.as_u16(),
        error: error.clone(),
    };
    let now = Timestamp::now();
    let store = state.store();
    let mut activity = bot.activity.lock().expect("bot activity poisoned");
    activity.log(LogLine {
        timestamp: now,
        level,
        message,
        workflow_id: names.workflow,
        user_id: names.user,
        conversation_id: names.conversation,
        seq: store.next_seq(),
    });
    if op_id == "callAction"
        && runtime
        && let Some((_, text)) = &error
    {
        let action = named.kind.unwrap_or_default();
        // Read in full only now: failures are rare, bodies are not.
        let input = body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|mut b| b.get_mut("input").map(Value::take))
            .unwrap_or(Value::Null);
        let failure = Failure {
            code: format!("runtime_error:{action}"),
            title: format!("Action {action} failed"),
            description: text.clone(),
            grouped: BTreeMap::from([("action".to_string(), Datum::text(action.clone()))]),
            data: BTreeMap::from([
                ("action".to_string(), Datum::text(action)),
                ("error".to_string(), Datum::text(text.clone())),
                (
                    "input".to_string(),
                    Datum {
                        raw: input.to_string(),
                        pretty: serde_json::to_string_pretty(&input).ok(),
                    },
                ),
            ]),
        };
        activity.fail(failure, now, store.next_seq());
    }
    drop(activity);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_path_parameters() {
        let n = Names::from_path("/v1/chat/users/{id}", "/v1/chat/users/u1");
        assert_eq!(n.user.as_deref(), Some("u1"));
        let n = Names::from_path(
            "/v1/chat/conversations/{id}/participants/{userId}",
            "/v1/chat/conversations/c1/participants/u2",
        );
        assert_eq!((n.conversation.as_deref(), n.user.as_deref()), (Some("c1"), Some("u2")));
        let n = Names::from_path(
            "/v1/chat/states/{type}/{id}/{name}",
            "/v1/chat/states/conversation/c3/x",
        );
        assert_eq!(n.conversation.as_deref(), Some("c3"));
        let mut n = Names::from_path("/v1/chat/messages/{id}", "/v1/chat/messages/m1");
        assert_eq!(n, Names::default());
        n.fill(|k| (k == "workflowId").then(|| "wf".to_string()));
        assert_eq!(n.workflow.as_deref(), Some("wf"));
    }
}
