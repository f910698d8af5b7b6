//! The one layer in front of every route. In order: the bound on requests in flight (a
//! flood is refused before any work), the bearer token (on every route but the file
//! content URLs, which their signature guards instead), the rate limit when one is set,
//! and the journal around the runtime routes; on the way out, the reference server's
//! identity header. One layer rather than one each because every layer costs every
//! request a boxed future and a clone of the service behind it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::authenticate;
use super::bots::{bot_of, record, recorded_operation};
use super::limit::admit;
use super::ratelimit::Limiter;
use super::state::AppState;
use super::variant::{IDENTITY_HEADER, IDENTITY_VALUE, Variant, serves_storage_on_api};

/// What the front door checks, fixed when the router is built.
#[derive(Clone)]
pub struct FrontDoor {
    state: AppState,
    limiter: Option<Arc<Limiter>>,
    journal: bool,
    storage_on_api: bool,
    identify: bool,
}

impl FrontDoor {
    pub fn new(state: AppState) -> FrontDoor {
        let variant = state.variant();
        FrontDoor {
            limiter: state.config().rate_limit.map(Limiter::new),
            journal: variant.records_activity(),
            storage_on_api: serves_storage_on_api(variant),
            identify: variant == Variant::Reference,
            state,
        }
    }
}

/// Middleware over the whole router.
pub async fn front_door(State(front): State<FrontDoor>, req: Request, next: Next) -> Response {
    let mut response = enter(&front, req, next).await;
    if front.identify {
        response
            .headers_mut()
            .insert(IDENTITY_HEADER, HeaderValue::from_static(IDENTITY_VALUE));
    }
    response
}

async fn enter(front: &FrontDoor, mut req: Request, next: Next) -> Response {
    let state = &front.state;
    let _permit = match admit(state) {
        Ok(permit) => permit,
        Err(refused) => return refused.into_response(),
    };
    if front.storage_on_api && is_storage_url(req.uri().path()) {
        return next.run(req).await;
    }
    if let Err(refused) = authenticate(state, &mut req) {
        return refused.into_response();
    }
    if let Some(limiter) = &front.limiter
        && let Err(refused) = limiter.admit(&req)
    {
        return refused.into_response();
    }
    if front.journal
        && let Some(op) = recorded_operation(&req)
        && let Some(bot) = bot_of(state, &req)
    {
        return record(state, bot, op, req, next).await;
    }
    next.run(req).await
}

/// `/_storage/{bot}/{file}/{upload|content|public}`: the routes of `routes::storage`.
fn is_storage_url(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/_storage/") else {
        return false;
    };
    let mut parts = rest.split('/');
    let (Some(bot), Some(file), Some(purpose), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !bot.is_empty() && !file.is_empty() && matches!(purpose, "upload" | "content" | "public")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_urls_are_the_storage_routes_only() {
        assert!(is_storage_url("/_storage/bot_1/file_1/upload"));
        assert!(is_storage_url("/_storage/bot_1/file_1/content"));
        assert!(is_storage_url("/_storage/bot_1/file_1/public"));
        assert!(!is_storage_url("/_storage/bot_1/file_1/other"));
        assert!(!is_storage_url("/_storage/bot_1/file_1/content/more"));
        assert!(!is_storage_url("/_storage//file_1/content"));
        assert!(!is_storage_url("/v1/chat/users"));
    }
}
