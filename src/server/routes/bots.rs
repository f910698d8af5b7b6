//! Bots (admin API): create, update, list, get, delete. Every route acts inside the
//! workspace of `x-workspace-id`; a bot of another workspace is not found.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::server::auth::WorkspaceCtx;
use crate::server::body::RawBody;
use crate::server::bots::{BotChanges, BotRecord};
use crate::server::error::{ApiError, ApiResult};
use crate::server::ids::{Timestamp, new_id};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::{BotSpace, tags_match};

use super::listing::{Window, respond};
use super::reply::{self, PathIds};

/// The bot `id` of `workspace`, or 404: another workspace's bot is not even acknowledged.
pub fn bot_in(state: &AppState, workspace: &str, id: &str) -> ApiResult<Arc<BotSpace>> {
    state
        .store()
        .bot(id)
        .filter(|b| b.workspace_id == workspace)
        .ok_or_else(|| ApiError::not_found("bot", id))
}

pub async fn create(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    body: RawBody,
) -> ApiResult<Response> {
    let changes: BotChanges = body.parse("createBot")?;
    let now = Timestamp::now();
    let mut record = BotRecord::new(&new_id("bot"), &ws, now, state.store().next_seq());
    changes.apply(&mut record)?;
    record.deploy(state.deploy_due(now));
    record.settle(now);
    let bot = state.store().add_bot(record);
    let record = bot.record.read().expect("bot record poisoned");
    Ok(reply::one(StatusCode::OK, "bot", &*record))
}

pub async fn update(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
    body: RawBody,
) -> ApiResult<Response> {
    let changes: BotChanges = body.parse("updateBot")?;
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let mut record = bot.record.write().expect("bot record poisoned");
    let now = Timestamp::now();
    record.settle(now);
    if changes.apply(&mut record)? {
        record.deploy(state.deploy_due(now));
    }
    record.updated_at = Timestamp::after(record.updated_at);
    record.settle(now);
    Ok(reply::one(StatusCode::OK, "bot", &*record))
}

pub async fn list(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    q: QueryParams,
) -> ApiResult<Response> {
    let window = Window::read(&q, true, false, false)?;
    let dev = match q.get("dev") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid_query(format!(
                "dev must be true or false, got {other:?}"
            )));
        }
    };
    let tags = q.map("tags")?;
    let now = Timestamp::now();
    let items = state
        .store()
        .bots_of(&ws)
        .iter()
        .filter_map(|bot| {
            let mut r = bot.record.write().expect("bot record poisoned");
            r.settle(now);
            (r.dev == dev && tags_match(&r.tags, &tags))
                .then(|| (window.key(r.created_at, r.updated_at, r.seq), r.summary()))
        })
        .collect();
    respond(&state, &ws, "listBots", &q, window.direction, "bots", items)
}

pub async fn get(State(state): State<AppState>, WorkspaceCtx(ws): WorkspaceCtx, ids: PathIds) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    let mut record = bot.record.write().expect("bot record poisoned");
    record.settle(Timestamp::now());
    Ok(reply::one(StatusCode::OK, "bot", &*record))
}

/// The bot is gone at once, with its runtime data, logs and issues: there is no visible
/// `deleting` phase.
pub async fn delete(
    State(state): State<AppState>,
    WorkspaceCtx(ws): WorkspaceCtx,
    ids: PathIds,
) -> ApiResult<Response> {
    let bot = bot_in(&state, &ws, ids.get(0))?;
    state.store().remove_bot(&bot.id);
    Ok(reply::empty())
}
