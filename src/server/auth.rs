//! Authentication on every route, the `x-bot-id` scope of runtime routes and the
//! `x-workspace-id` scope of admin routes.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;

use crate::api::ErrorType;

use super::error::ApiError;
use super::state::AppState;
use super::store::{BotSpace, Grant, ResolvedBot};

/// Puts the grant of the request's bearer token in its extensions; without a known token,
/// the 401 to answer instead, whatever the route, so no route can forget the check.
pub fn authenticate(state: &AppState, req: &mut Request) -> Result<(), ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ApiError::new(
            ErrorType::Unauthorized,
            "missing bearer token in the Authorization header",
        ));
    };
    let Some(grant) = state.store().grant(token) else {
        return Err(ApiError::new(ErrorType::Unauthorized, "the bearer token is not valid"));
    };
    req.extensions_mut().insert(grant);
    Ok(())
}

/// The bot a runtime request acts for: named by `x-bot-id`, existing, and in a workspace
/// the token may enter.
pub struct BotCtx(pub Arc<BotSpace>);

impl FromRequestParts<AppState> for BotCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(ResolvedBot(bot)) = parts.extensions.remove::<ResolvedBot>() {
            return Ok(BotCtx(bot));
        }
        let grant = parts
            .extensions
            .get::<Arc<Grant>>()
            .ok_or_else(|| ApiError::new(ErrorType::Unauthorized, "missing bearer token"))?;
        let bot_id = parts
            .headers
            .get("x-bot-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::invalid_payload("missing required header x-bot-id"))?;
        let bot = state
            .store()
            .bot(bot_id)
            .ok_or_else(|| ApiError::not_found("bot", bot_id))?;
        if !grant.workspaces.contains(&bot.workspace_id) {
            return Err(ApiError::new(
                ErrorType::Forbidden,
                format!("the token may not act for bot {bot_id:?}"),
            ));
        }
        Ok(BotCtx(bot))
    }
}

/// The workspace an admin request acts in: named by `x-workspace-id`, and one the token
/// may enter. Bots of other workspaces are then simply not found.
pub struct WorkspaceCtx(pub String);

impl FromRequestParts<AppState> for WorkspaceCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let grant = parts
            .extensions
            .get::<Arc<Grant>>()
            .ok_or_else(|| ApiError::new(ErrorType::Unauthorized, "missing bearer token"))?;
        let workspace = parts
            .headers
            .get("x-workspace-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::invalid_payload("missing required header x-workspace-id"))?;
        if !grant.workspaces.contains(workspace) {
            return Err(ApiError::new(
                ErrorType::Forbidden,
                format!("the token may not enter workspace {workspace:?}"),
            ));
        }
        Ok(WorkspaceCtx(workspace.to_string()))
    }
}
