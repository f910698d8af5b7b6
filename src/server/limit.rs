//! The bound on requests in flight: past `ServerConfig::max_in_flight`, a request is
//! answered at once with 429 `RateLimited` and a `Retry-After`, instead of queueing without
//! end behind the ones being handled.

use tokio::sync::SemaphorePermit;

use crate::api::ErrorType;

use super::error::ApiError;
use super::state::AppState;

/// Seconds a refused client is told to wait.
const RETRY_AFTER_SECONDS: u64 = 1;

/// A permit to handle one request, to hold until it is answered (its body read included);
/// past the bound, the 429 to answer instead.
pub fn admit(state: &AppState) -> Result<SemaphorePermit<'_>, ApiError> {
    state.in_flight().try_acquire().map_err(|_| {
        let mut error = ApiError::new(
            ErrorType::RateLimited,
            format!(
                "more than {} requests in flight; retry later",
                state.config().max_in_flight
            ),
        );
        error.retry_after = Some(RETRY_AFTER_SECONDS);
        error
    })
}
