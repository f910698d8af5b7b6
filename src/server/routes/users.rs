//! Users: create, get, list, get-or-create, update, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::bots::{Tagged, check_tags};
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotData, Tags, User, merge_tags, tags_match};

use super::listing::{Window, respond};
use super::reply::{self, PathIds, nullable};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUser {
    tags: Tags,
    name: Option<String>,
    picture_url: Option<String>,
    #[serde(default)]
    discriminate_by_tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateUser {
    tags: Option<Tags>,
    #[serde(default, deserialize_with = "nullable")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    picture_url: Option<Option<String>>,
}

/// The tags a get-or-create looks up by: the `discriminateByTags` keys if given, else every
/// tag sent. No key at all means nothing can match, so a new record is made.
pub fn lookup_tags(tags: &Tags, discriminate: Option<&[String]>) -> Option<Tags> {
    let key: Tags = match discriminate {
        Some(keys) => keys
            .iter()
            .filter_map(|k| tags.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
        None => tags.clone(),
    };
    (!key.is_empty()).then_some(key)
}

fn insert_user(state: &AppState, data: &mut BotData, body: CreateUser) -> User {
    let now = Timestamp::now();
    let mut tags = Tags::new();
    merge_tags(&mut tags, &body.tags);
    let user = User {
        id: new_id("user"),
        created_at: now,
        updated_at: now,
        tags,
        name: body.name,
        picture_url: body.picture_url,
        seq: state.store().next_seq(),
    };
    data.users.insert(user.id.clone(), user.clone());
    user
}

pub async fn create(State(state): State<AppState>, BotCtx(bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: CreateUser = body.parse("createUser")?;
    check_tags(&bot, Tagged::User, &body.tags)?;
    let mut data = bot.data.write().expect("bot data poisoned");
    let user = insert_user(&state, &mut data, body);
    Ok(reply::one(StatusCode::CREATED, "user", &user))
}

pub async fn get(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let data = bot.data.read().expect("bot data poisoned");
    let user = data
        .users
        .get(ids.get(0))
        .ok_or_else(|| ApiError::not_found("user", ids.get(0)))?;
    Ok(reply::one(StatusCode::OK, "user", user))
}

pub async fn list(State(state): State<AppState>, BotCtx(bot): BotCtx, q: QueryParams) -> ApiResult<Response> {
    let window = Window::read(&q, true, true, true)?;
    let tags = q.map("tags")?;
    let conversation = q.get("conversationId");
    let data = bot.data.read().expect("bot data poisoned");
    let members = conversation.map(|c| data.conversations.get(c).map(|c| &c.participants));
    let items = data
        .users
        .values()
        .filter(|u| tags_match(&u.tags, &tags))
        .filter(|u| window.admits(u.created_at, u.updated_at))
        .filter(|u| match &members {
            None => true,
            Some(None) => false,
            Some(Some(members)) => members.contains_key(&u.id),
        })
        .map(|u| (window.key(u.created_at, u.updated_at, u.seq), u))
        .collect();
    respond(&state, &bot.id, "listUsers", &q, window.direction, "users", items)
}

pub async fn get_or_create(State(state): State<AppState>, BotCtx(bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: CreateUser = body.parse("getOrCreateUser")?;
    check_tags(&bot, Tagged::User, &body.tags)?;
    let mut data = bot.data.write().expect("bot data poisoned");
    if let Some(key) = lookup_tags(&body.tags, body.discriminate_by_tags.as_deref()) {
        let found = data
            .users
            .values()
            .filter(|u| tags_match(&u.tags, &key))
            .min_by_key(|u| u.seq);
        if let Some(user) = found {
            return Ok(reply::one(StatusCode::OK, "user", user));
        }
    }
    let user = insert_user(&state, &mut data, body);
    Ok(reply::one(StatusCode::OK, "user", &user))
}

pub async fn update(BotCtx(bot): BotCtx, ids: PathIds, body: RawBody) -> ApiResult<Response> {
    let body: UpdateUser = body.parse("updateUser")?;
    if let Some(tags) = &body.tags {
        check_tags(&bot, Tagged::User, tags)?;
    }
    let mut data = bot.data.write().expect("bot data poisoned");
    let user = data
        .users
        .get_mut(ids.get(0))
        .ok_or_else(|| ApiError::not_found("user", ids.get(0)))?;
    if let Some(tags) = &body.tags {
        merge_tags(&mut user.tags, tags);
    }
    if let Some(name) = body.name {
        user.name = name;
    }
    if let Some(picture_url) = body.picture_url {
        user.picture_url = picture_url;
    }
    user.updated_at = Timestamp::after(user.updated_at);
    Ok(reply::one(StatusCode::OK, "user", user))
}

pub async fn delete(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    let id = ids.get(0);
    data.users.remove(id).ok_or_else(|| ApiError::not_found("user", id))?;
    for conversation in data.conversations.values_mut() {
        conversation.participants.remove(id);
    }
    data.states
        .retain(|(kind, owner, _), _| !(kind == "user" && owner == id));
    Ok(reply::empty())
}
