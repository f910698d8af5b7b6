//! Request bodies: content type, size limit, JSON syntax, then the operation's request
//! schema (`schemas/requests/<operationId>.json`), so every bad body gets the documented
//! error and a message that names the field.

use axum::body::{Bytes, to_bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::ErrorType;
use crate::contract::{SchemaSet, violations};

use super::error::{ApiError, ApiResult};
use super::state::AppState;

/// The raw body of a request, already checked for size and content type.
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config().max_body_bytes;
        let too_large = || {
            ApiError::new(
                ErrorType::PayloadTooLarge,
                format!("request body is larger than {limit} bytes"),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("?").to_string());
        let bytes = to_bytes(req.into_body(), limit).await.map_err(|_| too_large())?;
        if !bytes.is_empty() {
            let is_json = content_type.as_deref().is_some_and(|ct| {
                let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
            });
            if !is_json {
                return Err(ApiError::new(
                    ErrorType::UnsupportedMediaType,
                    format!(
                        "request body must be application/json, got {}",
                        content_type.as_deref().unwrap_or("no content type")
                    ),
                ));
            }
        }
        Ok(RawBody(bytes))
    }
}

impl RawBody {
    /// Parses the body as JSON, validates it against the operation's request schema and
    /// deserializes it. An empty body stands for `{}`.
    pub fn parse<T: DeserializeOwned>(&self, operation: &str) -> ApiResult<T> {
        let value = self.json()?;
        validate_request(SchemaSet::embedded(), operation, &value)?;
        serde_json::from_value(value).map_err(|e| ApiError::invalid_payload(format!("body: {e}")))
    }

    /// The body as JSON without schema validation (an empty body is `{}`).
    pub fn json(&self) -> ApiResult<Value> {
        if self.0.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.0).map_err(|e| ApiError::invalid_payload(format!("body is not valid JSON: {e}")))
    }
}

/// Checks `value` against `requests/<operation>.json`; the first violations become one
/// `InvalidPayload` whose message names each offending field.
pub fn validate_request(schemas: &SchemaSet, operation: &str, value: &Value) -> ApiResult<()> {
    let path = format!("requests/{operation}.json");
    let validator = schemas
        .validator(&path)
        .map_err(|e| ApiError::new(ErrorType::Internal, format!("request schema unavailable: {e}")))?;
    if validator.is_valid(value) {
        return Ok(());
    }
    let found = violations(&validator, value, 3);
    let detail: Vec<String> = found
        .iter()
        .map(|v| {
            let field = v.instance_path.trim_start_matches('/').replace('/', ".");
            if field.is_empty() {
                format!("body: {}", short(&v.message))
            } else {
                format!("body.{field}: {}", short(&v.message))
            }
        })
        .collect();
    Err(ApiError::invalid_payload(detail.join("; ")))
}

/// The validator quotes the offending value: an error message stays short whatever was sent.
fn short(message: &str) -> String {
    if message.chars().count() > 300 {
        format!("{}…", message.chars().take(300).collect::<String>())
    } else {
        message.to_string()
    }
}
