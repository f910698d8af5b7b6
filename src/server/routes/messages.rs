//! Messages: create, get-or-create, get, update, list, delete.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::bots::{Tagged, check_tags};
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::index::Narrow;
use crate::server::paging::Direction;
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotData, Message, Tags, merge_tags, tags_match};

use super::listing::{Window, respond_walk};
use super::reply::{self, PathIds};
use super::users::lookup_tags;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateMessage {
    payload: Value,
    user_id: String,
    conversation_id: String,
    #[serde(rename = "type")]
    kind: String,
    tags: Tags,
    origin: Option<String>,
    discriminate_by_tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateMessage {
    tags: Tags,
    payload: Option<Value>,
}

/// A message written by the bot goes out to the user; one written by an integration (it
/// sends `x-integration-id`) comes in from the user.
fn direction(headers: &HeaderMap) -> &'static str {
    if headers.contains_key("x-integration-id") {
        "incoming"
    } else {
        "outgoing"
    }
}

fn check_references(data: &BotData, body: &CreateMessage) -> ApiResult<()> {
    if !data.conversations.contains_key(&body.conversation_id) {
        return Err(ApiError::reference_not_found(
            "conversation",
            "conversationId",
            &body.conversation_id,
        ));
    }
    if !data.users.contains_key(&body.user_id) {
        return Err(ApiError::reference_not_found("user", "userId", &body.user_id));
    }
    Ok(())
}

fn insert(state: &AppState, data: &mut BotData, body: CreateMessage, direction: &str) -> Message {
    let now = Timestamp::now();
    let mut tags = Tags::new();
    merge_tags(&mut tags, &body.tags);
    let message = Message {
        id: new_id("msg"),
        created_at: now,
        updated_at: now,
        kind: body.kind,
        payload: body.payload,
        direction: direction.to_string(),
        user_id: body.user_id,
        conversation_id: body.conversation_id,
        tags,
        origin: body.origin,
        seq: state.store().next_seq(),
    };
    data.messages.insert(message.clone(), state.config().max_records);
    message
}

pub async fn create(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let body: CreateMessage = body.parse("createMessage")?;
    check_tags(&bot, Tagged::Message, &body.tags)?;
    let mut data = bot.data.write().expect("bot data poisoned");
    check_references(&data, &body)?;
    let message = insert(&state, &mut data, body, direction(&headers));
    Ok(reply::one(StatusCode::CREATED, "message", &message))
}

pub async fn get_or_create(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let body: CreateMessage = body.parse("getOrCreateMessage")?;
    check_tags(&bot, Tagged::Message, &body.tags)?;
    let mut data = bot.data.write().expect("bot data poisoned");
    check_references(&data, &body)?;
    // Looked up within its conversation.
    if let Some(key) = lookup_tags(&body.tags, body.discriminate_by_tags.as_deref()) {
        // The oldest match: the first in creation order.
        let narrow = Narrow {
            tags: Some(&key),
            fields: vec![("conversationId", &body.conversation_id)],
        };
        let found = data
            .messages
            .scan(&narrow, Direction::Asc, None)
            .find(|m| m.conversation_id == body.conversation_id && tags_match(&m.tags, &key));
        if let Some(m) = found {
            return Ok(reply::one(StatusCode::OK, "message", m));
        }
    }
    let message = insert(&state, &mut data, body, direction(&headers));
    Ok(reply::one(StatusCode::OK, "message", &message))
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let data = bot.data.read().expect("bot data poisoned");
    let m = data
        .messages
        .get(ids.get(0))
        .ok_or_else(|| ApiError::not_found("message", ids.get(0)))?;
    Ok(reply::one(StatusCode::OK, "message", m))
}

pub async fn update(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: UpdateMessage = body.parse("updateMessage")?;
    check_tags(&bot, Tagged::Message, &body.tags)?;
    let mut data = bot.data.write().expect("bot data poisoned");
    data.messages
        .update(ids.get(0), |m| {
            merge_tags(&mut m.tags, &body.tags);
            if let Some(payload) = body.payload {
                m.payload = payload;
            }
            m.updated_at = Timestamp::after(m.updated_at);
            reply::one(StatusCode::OK, "message", m)
        })
        .ok_or_else(|| ApiError::not_found("message", ids.get(0)))
}

pub async fn list(State(state): State<AppState>, BotCtx(bot): BotCtx, q: QueryParams) -> ApiResult<Response> {
    let window = Window::read(&q, false, false, true)?;
    let tags = q.map("tags")?;
    let conversation = q.get("conversationId");
    let data = bot.data.read().expect("bot data poisoned");
    let mut narrow = Narrow {
        tags: Some(&tags),
        fields: Vec::new(),
    };
    if let Some(c) = conversation {
        narrow.fields.push(("conversationId", c));
    }
    respond_walk(&state, &bot.id, "listMessages", &q, "messages", |after| {
        Box::new(
            data.messages
                .scan(&narrow, Direction::Desc, after)
                .filter(move |m| conversation.is_none_or(|c| m.conversation_id == c))
                .filter(|m| tags_match(&m.tags, &tags))
                .filter(|m| window.admits(m.created_at, m.updated_at))
                .map(|m| ((m.created_at.millis(), m.seq), m)),
        )
    })
}

pub async fn delete(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    data.messages
        .remove(ids.get(0))
        .ok_or_else(|| ApiError::not_found("message", ids.get(0)))?;
    Ok(reply::empty())
}
