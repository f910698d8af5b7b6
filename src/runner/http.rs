//! Sending one request and reading its answer, with every way a server can misbehave
//! turned into a `TransportError` instead of a panic or a hang: a total timeout per
//! request, a cap on the body read (a body announced above it is not read at all), no
//! redirect followed (a redirect would carry the token to another host), and no content
//! coding: `accept-encoding: identity` is sent and an encoded body is refused unread, so
//! a gzip bomb is never inflated.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: String,
    /// Absolute URL, query included.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// An answer, body read (up to the cap).
#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why no usable answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("no answer within {0:?} (timeout)")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("response body is larger than {0} bytes; reading stopped there")]
    BodyTooLarge(usize),
    #[error("response announces a body of {declared} bytes (content-length), larger than {limit}; not read")]
    DeclaredTooLarge { declared: u64, limit: usize },
    #[error("response has content-encoding {0} although the request asked for identity; the body was not decoded")]
    Encoded(String),
    #[error("the connection failed: {0}")]
    Broken(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("interrupted: the request was abandoned before its answer")]
    Interrupted,
}

/// The HTTP client of a run.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
}

impl Http {
    pub fn new(timeout: Duration, max_body: usize) -> Result<Http, TransportError> {
        let mut identity = HeaderMap::new();
        identity.insert(reqwest::header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(identity)
            // goose switches on reqwest's gzip feature for the whole build, which would
            // inflate bodies behind our back (and a gzip bomb with them).
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| TransportError::Invalid(e.to_string()))?;
        Ok(Http {
            client,
            timeout,
            max_body,
        })
    }

    /// Sends `req`; the whole exchange (connect, headers, body) shares one deadline.
    pub async fn send(&self, req: &Outgoing) -> Result<Received, TransportError> {
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.exchange(req, started)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout(self.timeout)),
        }
    }

    async fn exchange(&self, req: &Outgoing, started: Instant) -> Result<Received, TransportError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| TransportError::Invalid(format!("method {:?}", req.method)))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| TransportError::Invalid(format!("header name {name:?}")))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| TransportError::Invalid(format!("value of header {name}")))?;
            headers.append(name, value);
        }
        let mut builder = self.client.request(method, &req.url).headers(headers);
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(encoding) = headers
            .get(reqwest::header::CONTENT_ENCODING)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("identity"))
        {
            return Err(TransportError::Encoded(encoding));
        }
        if let Some(declared) = response.content_length().filter(|n| *n > self.max_body as u64) {
            return Err(TransportError::DeclaredTooLarge {
                declared,
                limit: self.max_body,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(TransportError::BodyTooLarge(self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Received {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        source = inner.source();
    }
    if e.is_connect() {
        TransportError::Connect(detail)
    } else {
        TransportError::Broken(detail)
    }
}

/// Percent-encodes like `encodeURIComponent` (what `qs` uses): only unreserved characters
/// stay as they are.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'!' | b'*' | b'\'' | b'(' | b')' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Encodes query parameters the way the official client does
/// (`qs.stringify(query, {encode: true, arrayFormat: 'repeat', allowDots: true})`):
/// objects as `key.sub=value`, arrays as repeated keys, empty ones not at all.
pub fn encode_query(params: &[(String, serde_json::Value)]) -> String {
    use serde_json::Value;
    let mut pairs: Vec<String> = Vec::new();
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        }
    }
    fn push(pairs: &mut Vec<String>, key: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    push(pairs, &format!("{key}.{k}"), v);
                }
            }
            Value::Array(items) => {
                for item in items {
                    push(pairs, key, item);
                }
            }
            other => {
                if let Some(text) = scalar(other) {
                    pairs.push(format!("{}={}", encode_component(key), encode_component(&text)));
                }
            }
        }
    }
    for (key, value) in params {
        push(&mut pairs, key, value);
    }
    pairs.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_is_encoded_like_the_official_client() {
        let q = encode_query(&[
            ("tags".into(), json!({ "e2e": "r 1", "telegram:id": "a/b" })),
            ("participantIds".into(), json!(["u1", "u2"])),
            ("dev".into(), json!(true)),
            ("empty".into(), json!({})),
        ]);
        assert_eq!(
            q,
            "tags.e2e=r%201&tags.telegram%3Aid=a%2Fb&participantIds=u1&participantIds=u2&dev=true"
        );
    }
}
