//! The router: every runtime route of the API, the 404 and 405 answers, and in front of all
//! of them the auth layer and the bound on requests in flight.

mod actions;
mod conversations;
mod events;
mod listing;
mod messages;
pub(crate) mod reply;
mod states;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::routing::{get, post};

use crate::api::ErrorType;

use super::auth::require_token;
use super::error::ApiError;
use super::limit::bound_in_flight;
use super::state::AppState;

pub use self::actions::BUILT_IN_ACTIONS;

/// The whole API as a router over `state`.
pub fn router(state: AppState) -> Router {
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
        .route("/v1/chat/actions", post(actions::call));

    chat.fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        // Bodies are read and capped by `RawBody`, which answers `PayloadTooLarge` in the
        // API's own error shape; axum's default limit would answer in plain text.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
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
