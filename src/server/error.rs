//! `ApiError`: every failure the reference server answers, in the wire format of ERRORS.md.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::ErrorType;

use super::ids::new_error_id;

/// A documented error: its type decides the status, the message says what happened here.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub ty: ErrorType,
    pub message: String,
    /// Seconds a client should wait, sent as `Retry-After` (rate limiting).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(ty: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            ty,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(ErrorType::ResourceNotFound, format!("{kind} {id:?} not found"))
    }

    pub fn invalid_payload(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidPayload, message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidQuery, message)
    }

    pub fn reference_not_found(kind: &str, field: &str, id: &str) -> Self {
        Self::new(
            ErrorType::ReferenceNotFound,
            format!("{field} refers to {kind} {id:?}, which does not exist"),
        )
    }

    /// The body as sent on the wire.
    pub fn body(&self) -> Value {
        json!({
            "id": new_error_id(),
            "code": self.ty.status(),
            "type": self.ty.name(),
            "message": self.message,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.ty.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
