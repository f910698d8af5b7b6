//! Which server this is: the reference server, which says so in a header on every answer,
//! or the "other server", a second personality that tests use to prove the suite passes
//! on a conformant server that is not ours.
//!
//! The other server differs from the reference server only where the docs leave freedom:
//! - no identity header ([`IDENTITY_HEADER`]);
//! - other error wording: every error `message` is `request rejected (<type>)`, naming no
//!   field; status, `type`, `id` and `code` are unchanged;
//! - a `429 RateLimited` with `Retry-After: 1` now and then: every [`REFUSE_EVERY`]th request
//!   of a token, answered before any handler runs (so nothing changes), and never twice in
//!   a row for the same request;
//! - storage on another origin: a second listener (started by `spawn`) serves only file
//!   content, at S3-like URLs (`files::UrlStyle::S3`: `X-Amz-Signature`, `X-Amz-Date`,
//!   `X-Amz-Expires`, `versionId`, no `signature=` or `expires=`), still verified, and
//!   refuses in S3's XML error format, not the API's JSON;
//! - no built-in actions: callAction answers [`no_such_action`] for any action;
//! - no activity made from API traffic: no log lines, no issues, analytics all zero (a
//!   real server's logs come from bot code);
//! - slower state machines (`ServerConfig::other_server`): deployments 1.2 s, events,
//!   uploads and indexing 1 s.
//!
//! Tags, states and events follow the bot's definition on both, and faults apply on top of
//! either.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ErrorType;

use super::auth::BotCtx;
use super::body::RawBody;
use super::error::{ApiError, ApiResult};
use super::files::signing::{S3_FILES, S3_PUBLIC, s3_expires};
use super::files::{Grant, Purpose};
use super::ids::new_error_id;
use super::query::QueryParams;
use super::routes::storage;
use super::state::AppState;

/// The header every answer of the reference server carries, so a runner pointed at a
/// remote `bpharness serve` knows it has every reference capability.
pub const IDENTITY_HEADER: &str = "x-bpharness-server";
/// Its value.
pub const IDENTITY_VALUE: &str = "reference";

/// The other server refuses every this many requests of a token with 429.
pub const REFUSE_EVERY: u64 = 50;

/// Which server this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Variant {
    /// The reference server.
    #[default]
    Reference,
    /// The "other server": conformant, but not ours.
    Other,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Reference => "reference",
            Variant::Other => "other",
        }
    }

    /// Whether API traffic becomes bot activity (logs, issues, analytics).
    pub fn records_activity(self) -> bool {
        self == Variant::Reference
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reference" => Ok(Variant::Reference),
            "other" => Ok(Variant::Other),
            _ => Err(format!("unknown variant {s:?}; known variants: reference, other")),
        }
    }
}

/// The outermost layer: the reference server names itself on every answer (faults' and
/// storage's included); the other server does not.
pub fn identify(app: Router, variant: Variant) -> Router {
    match variant {
        Variant::Reference => app.layer(axum::middleware::map_response(|mut response: Response| async move {
            response
                .headers_mut()
                .insert(IDENTITY_HEADER, HeaderValue::from_static(IDENTITY_VALUE));
            response
        })),
        Variant::Other => app,
    }
}

/// The other server's error wording, around the API (inside the fault layer).
pub fn reword(app: Router, variant: Variant) -> Router {
    match variant {
        Variant::Reference => app,
        Variant::Other => app.layer(axum::middleware::map_response(reword_error)),
    }
}

async fn reword_error(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are the server's own and short.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(Value::Object(mut error)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let ty = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Unknown")
        .to_string();
    error.insert("message".into(), json!(format!("request rejected ({ty})")));
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = serde_json::to_vec(&error).unwrap_or_default();
    Response::from_parts(parts, Body::from(bytes))
}

#[derive(Debug, Default)]
struct Count {
    requests: u64,
    /// The request last refused, so its retry is not refused again.
    refused: Option<String>,
}

/// The other server's occasional 429s, counted per token.
#[derive(Debug, Default)]
pub struct Refuser {
    counts: Mutex<HashMap<String, Count>>,
}

impl Refuser {
    /// Whether this request is refused: every [`REFUSE_EVERY`]th of its token, unless it is
    /// the same request (method and URI) as the one refused last.
    fn refuse(&self, token: &str, request: String) -> bool {
        let mut counts = self.counts.lock().expect("refusal counts poisoned");
        let count = counts.entry(token.to_string()).or_default();
        count.requests += 1;
        let again = count.refused.as_deref() == Some(request.as_str());
        if count.requests.is_multiple_of(REFUSE_EVERY) && !again {
            count.refused = Some(request);
            true
        } else {
            if again {
                count.refused = None;
            }
            false
        }
    }
}

/// Middleware (behind the front door, in front of every API route): now and then a 429.
pub async fn refuse_now_and_then(State(refuser): State<Arc<Refuser>>, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if refuser.refuse(&token, format!("{} {}", req.method(), req.uri())) {
        let mut error = ApiError::new(ErrorType::RateLimited, "too many requests");
        error.retry_after = Some(1);
        return error.into_response();
    }
    next.run(req).await
}

#[derive(Deserialize)]
struct CallAction {
    #[serde(rename = "type")]
    kind: String,
}

/// callAction on the other server: it has no built-in actions and runs no bot code, so
/// every action is one the bot does not define. The answer is 400 `InvalidPayload`: the
/// action `type` is a body field checked against the bot's definition, like a value
/// outside an enum (the catalogue keeps `ResourceNotFound` for ids in the path, which the
/// reference server uses here: the docs leave the choice open).
pub async fn call_action(BotCtx(_bot): BotCtx, body: RawBody) -> ApiResult<Response> {
    let body: CallAction = body.parse("callAction")?;
    Err(no_such_action(&body.kind))
}

/// The other server's answer to an action the bot does not define.
pub fn no_such_action(kind: &str) -> ApiError {
    ApiError::invalid_payload(format!("body.type: the bot defines no action {kind:?}"))
}

/// The storage host of the other server: file content only, at S3-like URLs, refusing in
/// S3's XML error format.
pub fn storage_router(state: AppState) -> Router {
    Router::new()
        .route(&format!("{S3_FILES}/{{bot}}/{{file}}"), get(s3_download).put(s3_upload))
        .route(&format!("{S3_PUBLIC}/{{bot}}/{{file}}"), get(s3_public))
        .fallback(|| async { s3_error(&ApiError::new(ErrorType::ResourceNotFound, "")) })
        .method_not_allowed_fallback(|| async { s3_error(&ApiError::new(ErrorType::MethodNotFound, "")) })
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// Checks an S3-like URL's signature for `purpose`: `(generation, expires)`, or `None`
/// when it is missing, malformed or wrong.
fn s3_verify(state: &AppState, q: &QueryParams, purpose: Purpose, bot: &str, file: &str) -> Option<(u64, i64)> {
    let generation = match purpose {
        Purpose::Public => 0,
        _ => q.get("versionId")?.parse().ok()?,
    };
    let expires = match purpose {
        Purpose::Download => s3_expires(q.get("X-Amz-Date")?, q.get("X-Amz-Expires")?)?,
        _ => 0,
    };
    let grant = Grant {
        purpose,
        bot,
        file,
        generation,
        expires,
    };
    state
        .signer()
        .verify(&grant, q.get("X-Amz-Signature")?)
        .then_some((generation, expires))
}

fn access_denied() -> Response {
    s3_error(&ApiError::new(ErrorType::Forbidden, ""))
}

async fn s3_upload(
    State(state): State<AppState>,
    Path((bot, file)): Path<(String, String)>,
    q: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((generation, _)) = s3_verify(&state, &q, Purpose::Upload, &bot, &file) else {
        return access_denied();
    };
    xml_errors(storage::accept_upload(&state, &bot, &file, generation, &headers, body).await)
}

async fn s3_download(
    State(state): State<AppState>,
    Path((bot, file)): Path<(String, String)>,
    q: QueryParams,
) -> Response {
    match s3_verify(&state, &q, Purpose::Download, &bot, &file) {
        Some((generation, expires)) => xml_errors(storage::serve_download(&state, &bot, &file, generation, expires)),
        None => access_denied(),
    }
}

async fn s3_public(
    State(state): State<AppState>,
    Path((bot, file)): Path<(String, String)>,
    q: QueryParams,
) -> Response {
    match s3_verify(&state, &q, Purpose::Public, &bot, &file) {
        Some(_) => xml_errors(storage::serve_public(&state, &bot, &file)),
        None => access_denied(),
    }
}

fn xml_errors(result: ApiResult<Response>) -> Response {
    result.unwrap_or_else(|e| s3_error(&e))
}

/// A refusal as an S3-like storage host words it: the status of the API error, an S3
/// error code, and S3's own generic sentence (nothing of the reference server's wording).
fn s3_error(error: &ApiError) -> Response {
    let (code, message) = match error.ty {
        ErrorType::Forbidden => ("AccessDenied", "Access Denied"),
        ErrorType::ResourceNotFound => ("NoSuchKey", "The specified key does not exist."),
        ErrorType::MethodNotFound => (
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        ),
        ErrorType::AlreadyExists => (
            "OperationAborted",
            "A conflicting operation is currently in progress against this resource.",
        ),
        ErrorType::LimitExceeded => (
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size.",
        ),
        ErrorType::QuotaExceeded => ("QuotaExceeded", "Your storage quota is exceeded."),
        ErrorType::InvalidPayload => (
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
        _ => ("InternalError", "We encountered an internal error. Please try again."),
    };
    let status = StatusCode::from_u16(error.ty.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{}</RequestId></Error>",
        new_error_id()
    );
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    response
}

/// Whether a request is one the API's router should see on this variant: the other server
/// serves file content on its storage host only.
pub fn serves_storage_on_api(variant: Variant) -> bool {
    variant == Variant::Reference
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_come_every_nth_request_and_never_twice_for_the_same_request() {
        let refuser = Refuser::default();
        let refused: Vec<u64> = (1..=3 * REFUSE_EVERY)
            .filter(|n| refuser.refuse("a", format!("GET /{n}")))
            .collect();
        assert_eq!(refused, [REFUSE_EVERY, 2 * REFUSE_EVERY, 3 * REFUSE_EVERY]);
        // Another token counts on its own.
        assert!(!refuser.refuse("b", "GET /x".into()));
        // The retry of a refused request is served, even when its turn comes again.
        let refuser = Refuser::default();
        for n in 1..REFUSE_EVERY {
            assert!(!refuser.refuse("a", format!("GET /{n}")));
        }
        assert!(refuser.refuse("a", "GET /same".into()));
        for _ in 0..REFUSE_EVERY - 1 {
            assert!(!refuser.refuse("a", "GET /other".into()));
        }
        assert!(
            !refuser.refuse("a", "GET /same".into()),
            "a retry is never refused twice in a row"
        );
        assert!(!refuser.refuse("a", "GET /same".into()));
    }

    #[test]
    fn variants_parse_back() {
        for v in [Variant::Reference, Variant::Other] {
            assert_eq!(v.name().parse::<Variant>(), Ok(v));
        }
        assert!("nope".parse::<Variant>().is_err());
    }
}
