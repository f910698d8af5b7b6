//! `Ctx`: what every step of a run shares (client, target, schemas, secrets, coverage,
//! cancellation), and the one function that turns a scenario request into an exchange.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::api::{Operation, find_operation, match_operation};
use crate::contract::SchemaSet;
use crate::report::{CoverageRow, Exchange, RecordedRequest, RecordedResponse};
use crate::scenario::template::{render_string, render_value};
use crate::scenario::{Request, Vars};

use super::http::{Http, Outgoing, Received, TransportError, encode_query};
use super::redact::Redactor;
use super::retry::{RetryBudget, Verdict};
use crate::target::Capabilities;

/// Kept of a response body in reports; longer bodies are cut (and marked so).
const REPORT_BODY_LIMIT: usize = 64 * 1024;

/// How often a request under way looks whether the run was interrupted.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// Shared by all scenarios of a run.
pub struct Ctx {
    pub http: Http,
    pub base_url: String,
    pub schemas: &'static SchemaSet,
    pub strict: bool,
    pub redactor: Redactor,
    /// Sent with every request unless a step removes them (`authorization`, scope ids).
    pub default_headers: Vec<(String, String)>,
    /// Built-in variables (`bot_id`, `run_id`...).
    pub builtins: Vars,
    pub coverage: Mutex<BTreeMap<&'static str, CoverageRow>>,
    pub cancelled: Arc<AtomicBool>,
    /// Every exchange, whole, when the run captures its traffic.
    pub capture: Option<crate::capture::CaptureSink>,
    /// What the target can do beyond the docs; steps needing more are skipped.
    pub capabilities: Capabilities,
    /// Waits for rate limits, shared by every request of the run.
    pub retry: Arc<RetryBudget>,
    /// Poll deadlines are multiplied by this (`--time-scale`).
    pub time_scale: f64,
    /// What the bot's definition lacks of the suite's (`user tag "suite"`...): steps that
    /// rely on one are skipped.
    pub undeclared: std::collections::BTreeSet<String>,
}

/// A request as built from a scenario, before sending.
pub struct Built {
    pub outgoing: Outgoing,
    pub operation: Option<&'static Operation>,
}

/// One exchange: what went out and what came back (or why nothing did).
pub struct Sent {
    pub built: Built,
    pub result: Result<Received, TransportError>,
    /// The answer is a 429 that was not waited out, and why.
    pub rate_limited: Option<String>,
}

impl Ctx {
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Resolves once the run is cancelled. The flag is a plain atomic, set from a signal
    /// task and by `--fail-fast`, so it is looked at every few milliseconds.
    async fn until_cancelled(&self) {
        let mut tick = tokio::time::interval(CANCEL_POLL);
        while !self.is_cancelled() {
            tick.tick().await;
        }
    }

    /// Renders `req` with `vars` into a request; `extra_query` is appended (page tokens).
    ///
    /// A `path` that is an absolute `http(s)://` URL is used as is. The default headers
    /// (the bearer token, the scope ids) go with it only when it has the target's origin
    /// (scheme, host and port); a request to another origin that would still carry the
    /// target's token anywhere (URL, header, body) is refused, so a scenario cannot leak it
    /// to a storage host or elsewhere.
    pub fn build(
        &self,
        req: &Request,
        vars: &Vars,
        extra_query: &[(String, Value)],
        body_override: Option<Value>,
    ) -> Result<Built, String> {
        let path = render_string(&req.path, vars).map_err(|e| e.to_string())?;
        let absolute = is_absolute(&path);
        let foreign = absolute && !same_origin(&path, &self.base_url);
        let mut query: Vec<(String, Value)> = Vec::new();
        for (k, v) in &req.query {
            query.push((k.clone(), render_value(v, vars).map_err(|e| e.to_string())?));
        }
        query.extend(extra_query.iter().cloned());
        let encoded = encode_query(&query);
        let full = if absolute {
            path.clone()
        } else {
            format!("{}{path}", self.base_url)
        };
        let url = if encoded.is_empty() {
            full
        } else {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{full}{sep}{encoded}")
        };
        let mut headers: Vec<(String, String)> = if foreign {
            Vec::new()
        } else {
            self.default_headers.clone()
        };
        for (name, value) in &req.headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            if let Some(value) = value {
                headers.push((
                    name.to_ascii_lowercase(),
                    render_string(value, vars).map_err(|e| e.to_string())?,
                ));
            }
        }
        let body = match (&req.raw_body, body_override.or_else(|| req.body.clone())) {
            (Some(raw), _) => Some(render_string(raw, vars).map_err(|e| e.to_string())?.into_bytes()),
            (None, Some(body)) => {
                let rendered = render_value(&body, vars).map_err(|e| e.to_string())?;
                Some(serde_json::to_vec(&rendered).map_err(|e| e.to_string())?)
            }
            (None, None) => None,
        };
        if body.is_some() && !headers.iter().any(|(n, _)| n == "content-type") {
            let ct = req.content_type.clone().unwrap_or_else(|| "application/json".into());
            headers.push(("content-type".into(), ct));
        }
        if foreign && self.carries_token(&url, &headers, body.as_deref()) {
            return Err(format!(
                "refusing to send the target's token to {}, which is not the target's origin",
                origin_of(&url).unwrap_or_else(|| "another origin".into())
            ));
        }
        let api_path = if absolute {
            if foreign {
                String::new()
            } else {
                let below = reqwest::Url::parse(&path)
                    .map(|u| u.path().to_string())
                    .unwrap_or_default();
                let base_path = reqwest::Url::parse(&self.base_url)
                    .map(|u| u.path().trim_end_matches('/').to_string())
                    .unwrap_or_default();
                below.strip_prefix(&base_path).unwrap_or(&below).to_string()
            }
        } else {
            path.split('?').next().unwrap_or("").to_string()
        };
        let operation = match &req.operation {
            Some(id) => find_operation(id),
            None if api_path.is_empty() => None,
            None => match_operation(req.method.as_str(), &api_path),
        };
        Ok(Built {
            outgoing: Outgoing {
                method: req.method.as_str().into(),
                url,
                headers,
                body,
            },
            operation,
        })
    }

    /// Whether the target's token appears anywhere in a request.
    fn carries_token(&self, url: &str, headers: &[(String, String)], body: Option<&[u8]>) -> bool {
        let Some(token) = self
            .builtins
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            return false;
        };
        let encoded = super::http::encode_component(token);
        let in_text = |text: &str| text.contains(token) || text.contains(&encoded);
        in_text(url)
            || headers.iter().any(|(_, v)| in_text(v))
            || body.is_some_and(|b| in_text(&String::from_utf8_lossy(b)))
    }

    /// Sends a built request, waits out rate limits, and counts it in the coverage table.
    ///
    /// A 429 is sent again after its `Retry-After` (or a backoff) while the run's budget
    /// lasts: real servers rate-limit, and a wait is not a failure. Only the final answer
    /// is checked and recorded.
    pub async fn send(&self, built: Built) -> Sent {
        let mut attempt = 0;
        loop {
            let (result, started) = self.send_once(&built.outgoing).await;
            let verdict = match &result {
                Ok(got) => self.retry.decide(got, attempt),
                Err(_) => Verdict::Keep,
            };
            match verdict {
                Verdict::Retry(wait) if !self.is_cancelled() => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.until_cancelled() => {}
                    }
                    attempt += 1;
                }
                Verdict::Retry(_) | Verdict::Keep => return self.finish(built, result, started, None),
                Verdict::GiveUp(reason) => return self.finish(built, result, started, Some(reason)),
            }
        }
    }

    /// One attempt. An interrupt abandons a request under way, so a run that waits on a
    /// slow server still ends at once; a request sent after the interrupt (clean-up) is
    /// bounded by the timeout alone.
    async fn send_once(&self, out: &Outgoing) -> (Result<Received, TransportError>, chrono::DateTime<chrono::Utc>) {
        let started = chrono::Utc::now();
        let result = if self.is_cancelled() {
            self.http.send(out).await
        } else {
            tokio::select! {
                result = self.http.send(out) => result,
                () = self.until_cancelled() => Err(TransportError::Interrupted),
            }
        };
        (result, started)
    }

    fn finish(
        &self,
        built: Built,
        result: Result<Received, TransportError>,
        started: chrono::DateTime<chrono::Utc>,
        rate_limited: Option<String>,
    ) -> Sent {
        if let Some(sink) = &self.capture {
            sink.push(captured(started, &built.outgoing, &result));
        }
        if let (Some(op), Ok(received)) = (built.operation, &result) {
            let error_type = (received.status >= 400)
                .then(|| serde_json::from_slice::<Value>(&received.body).ok())
                .flatten()
                .and_then(|b| b.get("type").and_then(Value::as_str).map(str::to_string));
            let mut coverage = self.coverage.lock().expect("coverage poisoned");
            let row = coverage.entry(op.id).or_insert_with(|| CoverageRow {
                operation: op.id.into(),
                area: format!("{:?}", op.area),
                method: op.method.into(),
                path: op.path.into(),
                requests: 0,
                statuses: Default::default(),
                error_types: Default::default(),
            });
            row.requests += 1;
            row.statuses.insert(received.status);
            if let Some(t) = error_type {
                row.error_types.insert(t);
            }
        }
        Sent {
            built,
            result,
            rate_limited,
        }
    }

    /// The exchange as the report keeps it (secrets are masked later, in one pass).
    pub fn record(&self, sent: &Sent) -> Exchange {
        let out = &sent.built.outgoing;
        let request = RecordedRequest {
            method: out.method.clone(),
            url: out.url.clone(),
            headers: out.headers.clone(),
            body: out.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
        };
        let (response, error) = match &sent.result {
            Ok(r) => {
                let truncated = r.body.len() > REPORT_BODY_LIMIT;
                let kept = &r.body[..r.body.len().min(REPORT_BODY_LIMIT)];
                let headers = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                    .collect();
                let response = RecordedResponse {
                    status: r.status,
                    headers,
                    body: String::from_utf8_lossy(kept).into_owned(),
                    truncated,
                    elapsed_ms: r.elapsed.as_secs_f64() * 1000.0,
                };
                (Some(response), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        Exchange {
            curl: curl_line(out),
            request,
            response,
            error,
        }
    }
}

/// Whether a scenario `path` is an absolute URL rather than a path below the target.
pub fn is_absolute(path: &str) -> bool {
    let lower = path.get(..8).unwrap_or(path).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `scheme://host:port` of a URL, the port made explicit.
fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str()?,
        url.port_or_known_default()?
    ))
}

/// Same scheme, host and port (default ports made explicit); unparsable URLs never match.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (origin_of(a), origin_of(b)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(&b),
        _ => false,
    }
}

/// A curl command reproducing `out`; the token is read from `$BP_TOKEN`, never written.
pub fn curl_line(out: &Outgoing) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = format!("curl -X {} {}", out.method, quote(&out.url));
    for (name, value) in &out.headers {
        if name.eq_ignore_ascii_case("authorization") {
            line.push_str(" -H \"Authorization: Bearer $BP_TOKEN\"");
        } else {
            line.push_str(&format!(" -H {}", quote(&format!("{name}: {value}"))));
        }
    }
    if let Some(body) = &out.body {
        line.push_str(&format!(" --data-raw {}", quote(&String::from_utf8_lossy(body))));
    }
    line
}

fn captured(
    started: chrono::DateTime<chrono::Utc>,
    out: &Outgoing,
    result: &Result<Received, TransportError>,
) -> crate::capture::Captured {
    let (status, response_headers, response_body, error, elapsed_ms) = match result {
        Ok(r) => (
            Some(r.status),
            r.headers
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            String::from_utf8_lossy(&r.body).into_owned(),
            None,
            r.elapsed.as_secs_f64() * 1000.0,
        ),
        Err(e) => (None, Vec::new(), String::new(), Some(e.to_string()), 0.0),
    };
    crate::capture::Captured {
        started,
        method: out.method.clone(),
        url: out.url.clone(),
        request_headers: out
            .headers
            .iter()
            .map(|(n, v)| {
                let v = if n.eq_ignore_ascii_case("authorization") {
                    "Bearer ***".to_string()
                } else {
                    v.clone()
                };
                (n.clone(), v)
            })
            .collect(),
        request_body: out.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
        status,
        response_headers,
        response_body,
        error,
        elapsed_ms,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TOKEN: &str = "bp_pat_secret0123456789";

    fn ctx() -> Ctx {
        let mut builtins = Vars::new();
        builtins.insert("token".into(), json!(TOKEN));
        builtins.insert("upload".into(), json!("http://storage.example:9000/up?sig=1"));
        Ctx {
            http: Http::new(std::time::Duration::from_secs(1), 1024).unwrap(),
            base_url: "http://127.0.0.1:8080".into(),
            schemas: SchemaSet::embedded(),
            strict: false,
            redactor: Redactor::default(),
            default_headers: vec![
                ("authorization".into(), format!("Bearer {TOKEN}")),
                ("x-bot-id".into(), "bot_1".into()),
            ],
            builtins,
            coverage: Default::default(),
            cancelled: Default::default(),
            capture: None,
            capabilities: Capabilities::all(),
            retry: Arc::new(RetryBudget::new(std::time::Duration::from_secs(1))),
            time_scale: 1.0,
            undeclared: Default::default(),
        }
    }

    fn request(value: Value) -> Request {
        serde_json::from_value(value).unwrap()
    }

    fn build(req: Value) -> Result<Built, String> {
        let ctx = ctx();
        let vars = ctx.builtins.clone();
        ctx.build(&request(req), &vars, &[], None)
    }

    fn header<'a>(built: &'a Built, name: &str) -> Option<&'a str> {
        built
            .outgoing
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn paths_go_below_the_target_with_the_default_headers() {
        let built = build(json!({"method": "GET", "path": "/v1/files/f1", "query": {"a": "1"}})).unwrap();
        assert_eq!(built.outgoing.url, "http://127.0.0.1:8080/v1/files/f1?a=1");
        assert_eq!(
            header(&built, "authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(built.operation.map(|o| o.id), Some("getFile"));
    }

    #[test]
    fn an_absolute_url_of_another_origin_gets_no_default_header() {
        let built = build(json!({
            "method": "PUT",
            "path": "{{upload}}",
            "raw_body": "hello",
            "content_type": "text/plain"
        }))
        .unwrap();
        assert_eq!(built.outgoing.url, "http://storage.example:9000/up?sig=1");
        assert_eq!(
            built.outgoing.headers,
            [("content-type".to_string(), "text/plain".to_string())]
        );
        assert!(built.operation.is_none());
        // Another port of the same host is another origin too.
        let built = build(json!({"method": "GET", "path": "http://127.0.0.1:8081/v1/files/f1"})).unwrap();
        assert!(header(&built, "authorization").is_none());
        assert!(header(&built, "x-bot-id").is_none());
        let built = build(json!({"method": "GET", "path": "https://127.0.0.1:8080/v1/files/f1"})).unwrap();
        assert!(header(&built, "authorization").is_none());
    }

    #[test]
    fn an_absolute_url_of_the_target_origin_keeps_them() {
        let built = build(json!({"method": "GET", "path": "http://127.0.0.1:8080/v1/files/f1?x=1"})).unwrap();
        assert_eq!(built.outgoing.url, "http://127.0.0.1:8080/v1/files/f1?x=1");
        assert!(header(&built, "authorization").is_some());
        assert_eq!(built.operation.map(|o| o.id), Some("getFile"));
        // A step may still drop them, as the official upload helper does.
        let built = build(json!({
            "method": "PUT",
            "path": "http://127.0.0.1:8080/_storage/b/f/upload?signature=s",
            "headers": {"authorization": null, "x-bot-id": null},
            "raw_body": "x"
        }))
        .unwrap();
        assert!(header(&built, "authorization").is_none());
        assert!(built.operation.is_none());
    }

    #[test]
    fn the_token_never_goes_to_another_origin() {
        for req in [
            json!({"method": "PUT", "path": "{{upload}}", "headers": {"authorization": "Bearer {{token}}"}}),
            json!({"method": "PUT", "path": "{{upload}}", "headers": {"x-anything": "{{token}}"}}),
            json!({"method": "PUT", "path": "{{upload}}", "query": {"t": "{{token}}"}}),
            json!({"method": "PUT", "path": "http://evil.example/{{token}}"}),
            json!({"method": "PUT", "path": "{{upload}}", "raw_body": "token={{token}}"}),
            json!({"method": "PUT", "path": "{{upload}}", "body": {"t": "{{token}}"}}),
        ] {
            let err = build(req.clone())
                .err()
                .unwrap_or_else(|| panic!("sent the token: {req}"));
            assert!(err.contains("storage.example") || err.contains("evil.example"), "{err}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin("http://a:80/x", "http://a"));
        assert!(same_origin("https://A.example/x", "https://a.example:443"));
        assert!(!same_origin("http://a/x", "https://a"));
        assert!(!same_origin("http://a:1/x", "http://a:2"));
        assert!(!same_origin("not a url", "http://a"));
        assert!(is_absolute("HTTPS://x") && is_absolute("http://x") && !is_absolute("/v1/x"));
    }
}
