//! The router: every runtime, tables, files and bot admin route of the API, the 404 and 405
//! answers, the auth layer in front of all of them and the journal layer around the
//! bot-scoped ones; beside it, outside that layer, the file content URLs (`/_storage/…`),
//! which their signature guards instead of a token. In front of everything, the bound on
//! requests in flight. [`app`] is the whole server: the router behind the other server's
//! hooks (`variant.rs`), the fault layer and the identity header.

mod actions;
mod bot_activity;
mod bots;
mod conversations;
mod events;
mod files;
mod listing;
mod messages;
pub(crate) mod reply;
mod rows;
mod states;
pub(super) mod storage;
mod tables;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::routing::{delete, get, post, put};

use crate::api::ErrorType;

use super::auth::require_token;
use super::bots::journal;
use super::error::ApiError;
use super::limit::bound_in_flight;
use super::ratelimit::{Limiter, limit};
use super::state::AppState;
use super::variant::{self, Refuser, Variant};

pub use self::actions::BUILT_IN_ACTIONS;

/// The whole server as `spawn` serves it: the API, the other server's error wording (on
/// that variant), the faults switched on, and the reference server's identity header on
/// every answer.
pub fn app(state: AppState) -> Router {
    let variant = state.variant();
    let api = variant::reword(router(state.clone()), variant);
    variant::identify(super::fault::wrap(api, state), variant)
}

/// The whole API as a router over `state`.
pub fn router(state: AppState) -> Router {
    let variant = state.variant();
    let call_action = match variant {
        Variant::Reference => post(actions::call),
        Variant::Other => post(variant::call_action),
    };
    let chat = Router::new()
        .route("/v1/chat/users", post(users::create).get(users::list))
        .route("/v1/chat/users/get-or-create", post(users::get_or_create))
        .route(
            "/v1/chat/users/{id}",
            get(users::get).put(users::update).delete(users::delete),
        )
        .route(
            "/v1/chat/conversations",
            post(conversations::create).get(conversations::list),
        )
        .route(
            "/v1/chat/conversations/get-or-create",
            post(conversations::get_or_create),
        )
        .route(
            "/v1/chat/conversations/{id}",
            get(conversations::get)
                .put(conversations::update)
                .delete(conversations::delete),
        )
        .route(
            "/v1/chat/conversations/{id}/participants",
            get(conversations::list_participants).post(conversations::add_participant),
        )
        .route(
            "/v1/chat/conversations/{id}/participants/{user_id}",
            get(conversations::get_participant).delete(conversations::remove_participant),
        )
        .route("/v1/chat/events", post(events::create).get(events::list))
        .route("/v1/chat/events/{id}", get(events::get))
        .route("/v1/chat/messages", post(messages::create).get(messages::list))
        .route("/v1/chat/messages/get-or-create", post(messages::get_or_create))
        .route(
            "/v1/chat/messages/{id}",
            get(messages::get).put(messages::update).delete(messages::delete),
        )
        .route(
            "/v1/chat/states/{type}/{id}/{name}",
            get(states::get).post(states::set).patch(states::patch),
        )
        .route(
            "/v1/chat/states/{type}/{id}/{name}/get-or-set",
            post(states::get_or_set),
        )
        .route("/v1/chat/actions", call_action);
    let tables = Router::new()
        .route("/v1/tables", get(tables::list).post(tables::create))
        .route(
            "/v1/tables/{table}",
            get(tables::get)
                .post(tables::get_or_create)
                .put(tables::update)
                .delete(tables::delete),
        )
        .route("/v1/tables/{table}/duplicate", post(tables::duplicate))
        .route("/v1/tables/{table}/column", put(tables::rename_column))
        .route("/v1/tables/{table}/row", get(rows::get))
        .route("/v1/tables/{table}/rows", post(rows::create).put(rows::update))
        .route("/v1/tables/{table}/rows/find", post(rows::find_rows))
        .route("/v1/tables/{table}/rows/delete", post(rows::delete))
        .route("/v1/tables/{table}/rows/upsert", post(rows::upsert));
    let files = Router::new()
        .route("/v1/files", put(files::upsert).get(files::list))
        .route("/v1/files/search", get(files::search_files))
        .route(
            "/v1/files/{id}",
            get(files::get).put(files::update).delete(files::delete),
        );

    let mut bot_scoped = chat.merge(tables).merge(files);
    if variant.records_activity() {
        // Inside the auth layer (it needs the grant), around the bot-scoped routes only.
        bot_scoped = bot_scoped.route_layer(middleware::from_fn_with_state(state.clone(), journal));
    }
    let admin = Router::new()
        .route("/v1/admin/bots", post(bots::create).get(bots::list))
        .route(
            "/v1/admin/bots/{id}",
            get(bots::get).put(bots::update).delete(bots::delete),
        )
        .route("/v1/admin/bots/{id}/logs", get(bot_activity::logs))
        .route("/v1/admin/bots/{id}/analytics", get(bot_activity::analytics))
        .route("/v1/admin/bots/{id}/issues", get(bot_activity::list_issues))
        .route(
            "/v1/admin/bots/{id}/issues/{issue_id}",
            delete(bot_activity::delete_issue),
        )
        .route(
            "/v1/admin/bots/{id}/issues/{issue_id}/events",
            get(bot_activity::list_issue_events),
        );

    // Capability URLs: no bearer token (the official client sends none), a signature
    // instead. Merged after the auth layer, so the layer does not wrap them.
    let storage = Router::new()
        .route("/_storage/{bot}/{file}/upload", put(storage::upload))
        .route("/_storage/{bot}/{file}/content", get(storage::download))
        .route("/_storage/{bot}/{file}/public", get(storage::public))
        .method_not_allowed_fallback(wrong_method);

    let mut app = bot_scoped
        .merge(admin)
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        // Bodies are read and capped by `RawBody`, which answers `PayloadTooLarge` in the
        // API's own error shape; axum's default limit would answer in plain text.
        .layer(DefaultBodyLimit::disable());
    // Layers added later run first: auth, then the rate limit, then the routes.
    if let Some(rate) = state.config().rate_limit {
        app = app.layer(middleware::from_fn_with_state(Limiter::new(rate), limit));
    }
    if variant == Variant::Other {
        app = app.layer(middleware::from_fn_with_state(
            std::sync::Arc::new(Refuser::default()),
            variant::refuse_now_and_then,
        ));
    }
    let mut app = app.layer(middleware::from_fn_with_state(state.clone(), require_token));
    if variant::serves_storage_on_api(variant) {
        app = app.merge(storage.layer(DefaultBodyLimit::disable()));
    }
    app
        // Outermost: a flood is refused before any work, authentication included.
        .layer(middleware::from_fn_with_state(state.clone(), bound_in_flight))
        .with_state(state)
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorType::ResourceNotFound,
        format!("no route for {method} {}", uri.path()),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorType::MethodNotFound,
        format!("{method} is not a method of {}", uri.path()),
    )
}
