//! HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): the subset every viewer reads,
//! with the fields the spec requires.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::Captured;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Har {
    pub log: HarLog,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HarLog {
    pub version: String,
    pub creator: HarCreator,
    pub entries: Vec<HarEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HarCreator {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarEntry {
    pub started_date_time: String,
    pub time: f64,
    pub request: HarRequest,
    pub response: HarResponse,
    pub cache: serde_json::Map<String, serde_json::Value>,
    pub timings: HarTimings,
    #[serde(rename = "_error", default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HarNameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarRequest {
    pub method: String,
    pub url: String,
    pub http_version: String,
    pub cookies: Vec<HarNameValue>,
    pub headers: Vec<HarNameValue>,
    pub query_string: Vec<HarNameValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_data: Option<HarPostData>,
    pub headers_size: i64,
    pub body_size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarPostData {
    pub mime_type: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarResponse {
    pub status: u16,
    pub status_text: String,
    pub http_version: String,
    pub cookies: Vec<HarNameValue>,
    pub headers: Vec<HarNameValue>,
    pub content: HarContent,
    #[serde(rename = "redirectURL")]
    pub redirect_url: String,
    pub headers_size: i64,
    pub body_size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HarContent {
    pub size: i64,
    pub mime_type: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HarTimings {
    pub send: f64,
    pub wait: f64,
    pub receive: f64,
}

fn pairs(headers: &[(String, String)]) -> Vec<HarNameValue> {
    headers
        .iter()
        .map(|(n, v)| HarNameValue {
            name: n.clone(),
            value: v.clone(),
        })
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn query_of(url: &str) -> Vec<HarNameValue> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| HarNameValue {
            name: k.into_owned(),
            value: v.into_owned(),
        })
        .collect()
}

fn entry(c: &Captured) -> HarEntry {
    let request = HarRequest {
        method: c.method.clone(),
        url: c.url.clone(),
        http_version: "HTTP/1.1".into(),
        cookies: Vec::new(),
        headers: pairs(&c.request_headers),
        query_string: query_of(&c.url),
        post_data: c.request_body.as_ref().map(|text| HarPostData {
            mime_type: header(&c.request_headers, "content-type")
                .unwrap_or("application/json")
                .into(),
            text: text.clone(),
        }),
        headers_size: -1,
        body_size: c.request_body.as_ref().map_or(0, |b| b.len() as i64),
    };
    // A transport failure has no response: HAR still needs one, with status 0.
    let status = c.status.unwrap_or(0);
    let response = HarResponse {
        status,
        status_text: axum::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .into(),
        http_version: "HTTP/1.1".into(),
        cookies: Vec::new(),
        headers: pairs(&c.response_headers),
        content: HarContent {
            size: c.response_body.len() as i64,
            mime_type: header(&c.response_headers, "content-type").unwrap_or("").into(),
            text: c.response_body.clone(),
        },
        redirect_url: header(&c.response_headers, "location").unwrap_or("").into(),
        headers_size: -1,
        body_size: c.response_body.len() as i64,
    };
    HarEntry {
        started_date_time: c.started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        time: c.elapsed_ms,
        request,
        response,
        cache: Default::default(),
        timings: HarTimings {
            send: 0.0,
            wait: c.elapsed_ms,
            receive: 0.0,
        },
        error: c.error.clone(),
    }
}

pub fn to_har(captured: &[Captured]) -> Har {
    Har {
        log: HarLog {
            version: "1.2".into(),
            creator: HarCreator {
                name: "bpharness".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            entries: captured.iter().map(entry).collect(),
        },
    }
}

pub fn write_har(w: &mut impl Write, har: &Har) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, har).map_err(std::io::Error::other)?;
    writeln!(w)
}

/// Reads a HAR file (ours or any tool's).
pub fn read_har(text: &str) -> Result<Har, serde_json::Error> {
    serde_json::from_str(text)
}
