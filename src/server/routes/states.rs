//! States: get, set, get-or-set, patch, on `/v1/chat/states/{type}/{id}/{name}`.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::bots::check_state;
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::store::{BotData, BotSpace, State, StateKey};

use super::reply::{self, PathIds};

const STATE_TYPES: [&str; 6] = ["conversation", "user", "bot", "integration", "task", "workflow"];

#[derive(Deserialize)]
struct SetState {
    payload: Option<Value>,
    expiry: Option<f64>,
}

#[derive(Deserialize)]
struct PatchState {
    payload: serde_json::Map<String, Value>,
}

/// Whether a route writes the state, so the bot must declare its name and type
/// (`bots::definition`); getState only reads, and an undeclared state is simply not found.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    Read,
    Write,
}

/// Checks the path, the bot's definition (for a write) and that the owner exists: a user
/// or conversation state needs that user or conversation; a bot state is this bot's own.
fn key(bot: &BotSpace, data: &BotData, ids: &PathIds, access: Access) -> ApiResult<StateKey> {
    let (kind, owner, name) = (ids.get(0), ids.get(1), ids.get(2));
    if !STATE_TYPES.contains(&kind) {
        return Err(ApiError::invalid_payload(format!(
            "state type must be one of {}, got {kind:?}",
            STATE_TYPES.join(", ")
        )));
    }
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_payload("state name must be 1 to 200 characters"));
    }
    if access == Access::Write {
        check_state(bot, kind, name)?;
    }
    let exists = match kind {
        "user" => data.users.contains_key(owner),
        "conversation" => data.conversations.contains_key(owner),
        "bot" => owner == bot.id,
        _ => true,
    };
    if !exists {
        return Err(ApiError::not_found(kind, owner));
    }
    Ok((kind.to_string(), owner.to_string(), name.to_string()))
}

fn live<'a>(data: &'a mut BotData, key: &StateKey) -> Option<&'a mut State> {
    let now = Timestamp::now();
    if data.states.get(key).is_some_and(|s| s.expired(now)) {
        data.states.remove(key);
    }
    data.states.get_mut(key)
}

fn new_state(bot: &BotSpace, key: &StateKey, payload: Value, expiry: Option<f64>) -> State {
    let now = Timestamp::now();
    State {
        id: new_id("state"),
        created_at: now,
        updated_at: now,
        bot_id: bot.id.clone(),
        conversation_id: (key.0 == "conversation").then(|| key.1.clone()),
        user_id: (key.0 == "user").then(|| key.1.clone()),
        name: key.2.clone(),
        kind: key.0.clone(),
        payload,
        expiry_ms: expiry.map(|ms| ms as u64),
    }
}

fn with_meta(state: &State) -> Response {
    reply::ok(&json!({ "state": state, "meta": { "cached": false } }))
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    let key = key(&bot, &data, &ids, Access::Read)?;
    let state = live(&mut data, &key).ok_or_else(|| ApiError::not_found("state", &key.2))?;
    Ok(with_meta(state))
}

pub async fn set(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: SetState = body.parse("setState")?;
    let mut data = bot.data.write().expect("bot data poisoned");
    let key = key(&bot, &data, &ids, Access::Write)?;
    let Some(payload) = body.payload else {
        // A null payload clears the state: it is gone afterwards, and the answer shows it
        // as it was cleared.
        let mut state = live(&mut data, &key)
            .map(|s| s.clone())
            .unwrap_or_else(|| new_state(&bot, &key, json!({}), None));
        data.states.remove(&key);
        state.payload = json!({});
        state.updated_at = Timestamp::after(state.updated_at);
        return Ok(reply::one(StatusCode::OK, "state", &state));
    };
    let state = match live(&mut data, &key) {
        Some(existing) => {
            existing.payload = payload;
            existing.expiry_ms = body.expiry.map(|ms| ms as u64);
            existing.updated_at = Timestamp::after(existing.updated_at);
            existing.clone()
        }
        None => {
            let state = new_state(&bot, &key, payload, body.expiry);
            data.states.insert(key, state.clone());
            state
        }
    };
    Ok(reply::one(StatusCode::OK, "state", &state))
}

pub async fn get_or_set(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: SetState = body.parse("getOrSetState")?;
    let mut data = bot.data.write().expect("bot data poisoned");
    let key = key(&bot, &data, &ids, Access::Write)?;
    if let Some(existing) = live(&mut data, &key) {
        return Ok(with_meta(existing));
    }
    let state = new_state(&bot, &key, body.payload.unwrap_or_else(|| json!({})), body.expiry);
    data.states.insert(key, state.clone());
    Ok(with_meta(&state))
}

pub async fn patch(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: PatchState = body.parse("patchState")?;
    let mut data = bot.data.write().expect("bot data poisoned");
    let key = key(&bot, &data, &ids, Access::Write)?;
    let state = live(&mut data, &key).ok_or_else(|| ApiError::not_found("state", &key.2))?;
    // A top-level merge: the keys sent replace theirs, the others stay.
    match &mut state.payload {
        Value::Object(existing) => existing.extend(body.payload),
        other => *other = Value::Object(body.payload),
    }
    state.updated_at = Timestamp::after(state.updated_at);
    Ok(reply::one(StatusCode::OK, "state", state))
}
