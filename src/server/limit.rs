//! The bound on requests in flight: past `ServerConfig::max_in_flight`, a request is
//! answered at once with 429 `RateLimited` and a `Retry-After`, instead of queueing without
//! end behind the ones being handled.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ErrorType;

use super::error::ApiError;
use super::state::AppState;

/// Seconds a refused client is told to wait.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Middleware: holds one permit while the request is handled (its body read included).
pub async fn bound_in_flight(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Ok(_permit) = state.in_flight().clone().try_acquire_owned() else {
        let mut error = ApiError::new(
            ErrorType::RateLimited,
            format!(
                "more than {} requests in flight; retry later",
                state.config().max_in_flight
            ),
        );
        error.retry_after = Some(RETRY_AFTER_SECONDS);
        return error.into_response();
    };
    next.run(req).await
}
