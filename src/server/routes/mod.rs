//! The router: every runtime, tables, files and bot admin route of the API, the 404 and 405
//! answers, and beside them the file content URLs (`/_storage/…`), which their signature
//! guards instead of a token; in front of all of them, one layer (`front.rs`): the bound on
//! requests in flight, auth, the rate limit, the journal and the identity header. [`app`]
//! is the whole server: the router behind the other server's hooks (`variant.rs`) and the
//! fault layer.

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

use super::error::ApiError;
use super::front::{FrontDoor, front_door};
use super::state::AppState;
use super::variant::{self, Refuser, Variant};

pub use self::actions::BUILT_IN_ACTIONS;

/// The whole server as `spawn` serves it: the API, the other server's error wording (on
/// that variant), the faults switched on, and the reference server's identity header on
/// every answer.
pub fn app(state: AppState) -> Router {
    let variant = state.variant();
    let faulty = !state.faults().is_empty();
    let api = variant::reword(router(state.clone()), variant);
    let api = super::fault::wrap(api, state);
    // The front door names the router's answers; the fault layer's own need this layer,
    // which only a server with faults on pays for.
    if faulty { variant::identify(api, variant) } else { api }
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

    let bot_scoped = chat.merge(tables).merge(files);
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
    // instead; the front door lets them through unauthenticated.
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
    // Layers added later run first: the front door (bound in flight, auth, rate limit,
    // journal), then the other server's refusals, then the routes.
    if variant == Variant::Other {
        app = app.layer(middleware::from_fn_with_state(
            std::sync::Arc::new(Refuser::default()),
            variant::refuse_now_and_then,
        ));
    }
    if variant::serves_storage_on_api(variant) {
        // Merged after the refusals, so that they do not apply to them.
        app = app.merge(storage.layer(DefaultBodyLimit::disable()));
    }
    app.layer(middleware::from_fn_with_state(
        FrontDoor::new(state.clone()),
        front_door,
    ))
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
