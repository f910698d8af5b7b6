//! Conversations and their participants.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::bots::{Tagged, check_tags};
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::index::Narrow;
use crate::server::paging::Direction;
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotData, Conversation, Tags, merge_tags, tags_match};

use super::listing::{SortField, Window, respond, respond_walk};
use super::reply::{self, PathIds};
use super::users::lookup_tags;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateConversation {
    channel: String,
    tags: Tags,
    integration_name: Option<String>,
    discriminate_by_tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateConversation {
    current_task_id: Option<String>,
    tags: Option<Tags>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddParticipant {
    user_id: String,
}

/// The integration that owns a conversation: named in the body (deprecated field), else by
/// the calling integration's headers, else the API itself.
fn integration_of(headers: &HeaderMap, named: Option<&str>) -> String {
    named
        .or_else(|| headers.get("x-integration-name").and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get("x-integration-alias").and_then(|v| v.to_str().ok()))
        .unwrap_or("api")
        .to_string()
}

fn insert(state: &AppState, data: &mut BotData, body: CreateConversation, integration: String) -> Conversation {
    let now = Timestamp::now();
    let mut tags = Tags::new();
    merge_tags(&mut tags, &body.tags);
    let conversation = Conversation {
        id: new_id("conv"),
        current_task_id: None,
        current_workflow_id: None,
        created_at: now,
        updated_at: now,
        channel: body.channel,
        integration,
        tags,
        seq: state.store().next_seq(),
        participants: Default::default(),
    };
    data.conversations
        .insert(conversation.clone(), state.config().max_records);
    conversation
}

pub async fn create(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let body: CreateConversation = body.parse("createConversation")?;
    check_tags(&bot, Tagged::Conversation, &body.tags)?;
    let integration = integration_of(&headers, body.integration_name.as_deref());
    let mut data = bot.data.write().expect("bot data poisoned");
    let conversation = insert(&state, &mut data, body, integration);
    Ok(reply::one(StatusCode::CREATED, "conversation", &conversation))
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let data = bot.data.read().expect("bot data poisoned");
    let c = data
        .conversations
        .get(ids.get(0))
        .ok_or_else(|| ApiError::not_found("conversation", ids.get(0)))?;
    Ok(reply::one(StatusCode::OK, "conversation", c))
}

pub async fn list(State(state): State<AppState>, BotCtx(bot): BotCtx, q: QueryParams) -> ApiResult<Response> {
    let window = Window::read(&q, true, false, true)?;
    let tags = q.map("tags")?;
    let participants = q.list("participantIds");
    let integration = q.get("integrationName");
    let channel = q.get("channel");
    let data = bot.data.read().expect("bot data poisoned");
    let admits = |c: &&Conversation| {
        tags_match(&c.tags, &tags)
            && window.admits(c.created_at, c.updated_at)
            && participants.iter().all(|p| c.participants.contains_key(p))
            && integration.is_none_or(|i| c.integration == i)
            && channel.is_none_or(|ch| c.channel == ch)
    };
    if window.sort == SortField::CreatedAt {
        let mut narrow = Narrow {
            tags: Some(&tags),
            fields: Vec::new(),
        };
        if let Some(i) = integration {
            narrow.fields.push(("integration", i));
        }
        if let Some(ch) = channel {
            narrow.fields.push(("channel", ch));
        }
        let direction = window.direction;
        return respond_walk(&state, &bot.id, "listConversations", &q, "conversations", |after| {
            Box::new(
                data.conversations
                    .scan(&narrow, direction, after)
                    .filter(admits)
                    .map(|c| ((c.created_at.millis(), c.seq), c)),
            )
        });
    }
    // Sorted on updatedAt, which has no index: every conversation is looked at.
    let items = data
        .conversations
        .values()
        .filter(admits)
        .map(|c| (window.key(c.created_at, c.updated_at, c.seq), c))
        .collect();
    respond(
        &state,
        &bot.id,
        "listConversations",
        &q,
        window.direction,
        "conversations",
        items,
    )
}

pub async fn get_or_create(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let body: CreateConversation = body.parse("getOrCreateConversation")?;
    check_tags(&bot, Tagged::Conversation, &body.tags)?;
    let integration = integration_of(&headers, body.integration_name.as_deref());
    let mut data = bot.data.write().expect("bot data poisoned");
    // A conversation is looked up within its channel and integration: the same tags in
    // another channel name another conversation.
    if let Some(key) = lookup_tags(&body.tags, body.discriminate_by_tags.as_deref()) {
        // The oldest match: the first in creation order.
        let narrow = Narrow {
            tags: Some(&key),
            fields: vec![("channel", &body.channel), ("integration", &integration)],
        };
        let found = data
            .conversations
            .scan(&narrow, Direction::Asc, None)
            .find(|c| c.channel == body.channel && c.integration == integration && tags_match(&c.tags, &key));
        if let Some(c) = found {
            return Ok(reply::one(StatusCode::OK, "conversation", c));
        }
    }
    let conversation = insert(&state, &mut data, body, integration);
    Ok(reply::one(StatusCode::OK, "conversation", &conversation))
}

pub async fn update(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: UpdateConversation = body.parse("updateConversation")?;
    if let Some(tags) = &body.tags {
        check_tags(&bot, Tagged::Conversation, tags)?;
    }
    let mut data = bot.data.write().expect("bot data poisoned");
    data.conversations
        .update(ids.get(0), |c| {
            if let Some(task) = body.current_task_id {
                c.current_task_id = Some(task);
            }
            if let Some(tags) = &body.tags {
                merge_tags(&mut c.tags, tags);
            }
            c.updated_at = Timestamp::after(c.updated_at);
            reply::one(StatusCode::OK, "conversation", c)
        })
        .ok_or_else(|| ApiError::not_found("conversation", ids.get(0)))
}

pub async fn delete(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let id = ids.get(0);
    let mut data = bot.data.write().expect("bot data poisoned");
    data.conversations
        .remove(id)
        .ok_or_else(|| ApiError::not_found("conversation", id))?;
    // Documented: the conversation's messages go with it, at once.
    let of_it = Narrow {
        tags: None,
        fields: vec![("conversationId", id)],
    };
    data.messages.remove_where(&of_it, |m| m.conversation_id == id);
    data.states
        .retain(|(kind, owner, _), _| !(kind == "conversation" && owner == id));
    Ok(reply::empty())
}

pub async fn list_participants(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    ids: PathIds,
    q: QueryParams,
) -> ApiResult<Response> {
    let data = bot.data.read().expect("bot data poisoned");
    let c = data
        .conversations
        .get(ids.get(0))
        .ok_or_else(|| ApiError::not_found("conversation", ids.get(0)))?;
    let items = c
        .participants
        .iter()
        .filter_map(|(user_id, added)| data.users.get(user_id).map(|u| ((*added as i64, *added), u)))
        .collect();
    // Bound to the conversation too: a token of one conversation's members is no cursor
    // into another's.
    let operation = format!("listParticipants/{}", ids.get(0));
    respond(&state, &bot.id, &operation, &q, Direction::Desc, "participants", items)
}

pub async fn add_participant(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    ids: PathIds,
    body: RawBody,
) -> ApiResult<Response> {
    let body: AddParticipant = body.parse("addParticipant")?;
    let mut data = bot.data.write().expect("bot data poisoned");
    if !data.conversations.contains_key(ids.get(0)) {
        return Err(ApiError::not_found("conversation", ids.get(0)));
    }
    let user = data
        .users
        .get(&body.user_id)
        .cloned()
        .ok_or_else(|| ApiError::reference_not_found("user", "userId", &body.user_id))?;
    let seq = state.store().next_seq();
    // Adding a participant twice keeps the first membership: the call is idempotent.
    data.conversations.update(ids.get(0), |c| {
        c.participants.entry(user.id.clone()).or_insert(seq);
    });
    Ok(reply::one(StatusCode::OK, "participant", &user))
}

pub async fn get_participant(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let data = bot.data.read().expect("bot data poisoned");
    let c = data
        .conversations
        .get(ids.get(0))
        .ok_or_else(|| ApiError::not_found("conversation", ids.get(0)))?;
    let user = c
        .participants
        .contains_key(ids.get(1))
        .then(|| data.users.get(ids.get(1)))
        .flatten()
        .ok_or_else(|| ApiError::not_found("participant", ids.get(1)))?;
    Ok(reply::one(StatusCode::OK, "participant", user))
}

pub async fn remove_participant(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    data.conversations
        .update(ids.get(0), |c| c.participants.remove(ids.get(1)))
        .ok_or_else(|| ApiError::not_found("conversation", ids.get(0)))?
        .ok_or_else(|| ApiError::not_found("participant", ids.get(1)))?;
    Ok(reply::empty())
}
