//! Response envelopes: `{key: value}`, lists with `meta`, and the empty object of deletes,
//! serialized straight to bytes (no intermediate `Value`) because this is the hot path.

use axum::extract::FromRequestParts;
use axum::extract::RawPathParams;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::server::error::ApiError;

struct Keyed<'a, T>(&'static str, &'a T);

impl<T: Serialize> Serialize for Keyed<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, self.1)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Meta<'a> {
    #[serde(rename = "nextToken", skip_serializing_if = "Option::is_none")]
    next_token: Option<&'a str>,
}

struct Listed<'a, T>(&'static str, &'a [T], Option<&'a str>);

impl<T: Serialize> Serialize for Listed<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.0, self.1)?;
        map.serialize_entry("meta", &Meta { next_token: self.2 })?;
        map.end()
    }
}

/// A JSON response with `status` and `body`.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `{key: value}` with `status`.
pub fn one<T: Serialize>(status: StatusCode, key: &'static str, value: &T) -> Response {
    json_bytes(status, serde_json::to_vec(&Keyed(key, value)).unwrap_or_default())
}

/// `{key: [...], meta: {nextToken?}}`.
pub fn list<T: Serialize>(key: &'static str, items: &[T], next: Option<&str>) -> Response {
    json_bytes(
        StatusCode::OK,
        serde_json::to_vec(&Listed(key, items, next)).unwrap_or_default(),
    )
}

/// Any serializable body with 200.
pub fn ok<T: Serialize>(value: &T) -> Response {
    json_bytes(StatusCode::OK, serde_json::to_vec(value).unwrap_or_default())
}

/// `{}`: what every delete answers.
pub fn empty() -> Response {
    json_bytes(StatusCode::OK, b"{}".to_vec())
}

/// The path parameters of a route, in order, percent-decoded.
pub struct PathIds(pub Vec<String>);

impl PathIds {
    pub fn get(&self, index: usize) -> &str {
        self.0.get(index).map(String::as_str).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid_payload("path parameters are not valid UTF-8"))?;
        Ok(PathIds(params.iter().map(|(_, v)| v.to_string()).collect()))
    }
}

/// Deserializes a field that distinguishes "absent" (`None`) from `null` (`Some(None)`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
