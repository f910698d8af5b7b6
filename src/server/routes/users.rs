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
use crate::server::index::Narrow;
use crate::server::paging::{Direction, SortKey};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotData, Tags, User, merge_tags, tags_match};

use super::listing::{SortField, Window, respond, respond_walk};
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
    data.users.insert(user.clone(), state.config().max_records);
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
    let admits = |u: &&User| {
        tags_match(&u.tags, &tags)
            && window.admits(u.created_at, u.updated_at)
            && match &members {
                None => true,
                Some(None) => false,
                Some(Some(members)) => members.contains_key(&u.id),
            }
    };
    if window.sort == SortField::CreatedAt {
        let narrow = Narrow {
            tags: Some(&tags),
            fields: Vec::new(),
        };
        let direction = window.direction;
        return respond_walk(&state, &bot.id, "listUsers", &q, "users", |after| {
            if let Some(None) = &members {
                // No such conversation: no members.
                return Box::new(std::iter::empty());
            }
            // A conversation's members are few: walk them instead of the users.
            if let Some(Some(members)) = &members
                && members.len() < data.users.len()
            {
                let mut found: Vec<(SortKey, &User)> = members
                    .keys()
                    .filter_map(|id| data.users.get(id))
                    .filter(admits)
                    .map(|u| ((u.created_at.millis(), u.seq), u))
                    .filter(|(k, _)| match (after, direction) {
                        (None, _) => true,
                        (Some(a), Direction::Desc) => *k < a,
                        (Some(a), Direction::Asc) => *k > a,
                    })
                    .collect();
                match direction {
                    Direction::Desc => found.sort_unstable_by_key(|a| std::cmp::Reverse(a.0)),
                    Direction::Asc => found.sort_unstable_by_key(|a| a.0),
                }
                return Box::new(found.into_iter());
            }
            Box::new(
                data.users
                    .scan(&narrow, direction, after)
                    .filter(admits)
                    .map(|u| ((u.created_at.millis(), u.seq), u)),
            )
        });
    }
    // Sorted on updatedAt, which has no index: every user is looked at.
    let items = data
        .users
        .values()
        .filter(admits)
        .map(|u| (window.key(u.created_at, u.updated_at, u.seq), u))
        .collect();
    respond(&state, &bot.id, "listUsers", &q, window.direction, "users", items)
}

pub async fn get_or_create(State(state): State<AppState>, BotCtx(bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: CreateUser = body.parse("getOrCreateUser")?;
    check_tags(&bot, Tagged::User, &body.tags)?;
    let mut data = bot.data.write().expect("bot data poisoned");
    if let Some(key) = lookup_tags(&body.tags, body.discriminate_by_tags.as_deref()) {
        // The oldest match: the first in creation order.
        let narrow = Narrow {
            tags: Some(&key),
            fields: Vec::new(),
        };
        let found = data
            .users
            .scan(&narrow, Direction::Asc, None)
            .find(|u| tags_match(&u.tags, &key));
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
    data.users
        .update(ids.get(0), |user| {
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
            reply::one(StatusCode::OK, "user", user)
        })
        .ok_or_else(|| ApiError::not_found("user", ids.get(0)))
}

pub async fn delete(BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let mut data = bot.data.write().expect("bot data poisoned");
    let id = ids.get(0);
    data.users.remove(id).ok_or_else(|| ApiError::not_found("user", id))?;
    let member_of: Vec<String> = data
        .conversations
        .values()
        .filter(|c| c.participants.contains_key(id))
        .map(|c| c.id.clone())
        .collect();
    for conversation in member_of {
        data.conversations.update(&conversation, |c| c.participants.remove(id));
    }
    data.states
        .retain(|(kind, owner, _), _| !(kind == "user" && owner == id));
    Ok(reply::empty())
}
