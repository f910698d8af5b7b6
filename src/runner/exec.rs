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
    pub fn build(
        &self,
        req: &Request,
        vars: &Vars,
        extra_query: &[(String, Value)],
        body_override: Option<Value>,
    ) -> Result<Built, String> {
        let path = render_string(&req.path, vars).map_err(|e| e.to_string())?;
        let mut query: Vec<(String, Value)> = Vec::new();
        for (k, v) in &req.query {
            query.push((k.clone(), render_value(v, vars).map_err(|e| e.to_string())?));
        }
        query.extend(extra_query.iter().cloned());
        let encoded = encode_query(&query);
        let url = if encoded.is_empty() {
            format!("{}{path}", self.base_url)
        } else {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{}{path}{sep}{encoded}", self.base_url)
        };
        let mut headers: Vec<(String, String)> = self.default_headers.clone();
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
        let bare_path = path.split('?').next().unwrap_or("").to_string();
        let operation = match &req.operation {
            Some(id) => find_operation(id),
            None => match_operation(req.method.as_str(), &bare_path),
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

    /// Sends a built request and counts it in the coverage table.
    ///
    /// An interrupt abandons a request under way, so a run that waits on a slow server
    /// still ends at once; a request sent after the interrupt (clean-up) is bounded by the
    /// timeout alone.
    pub async fn send(&self, built: Built) -> Sent {
        let started = chrono::Utc::now();
        let result = if self.is_cancelled() {
            self.http.send(&built.outgoing).await
        } else {
            tokio::select! {
                result = self.http.send(&built.outgoing) => result,
                () = self.until_cancelled() => Err(TransportError::Interrupted),
            }
        };
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
        Sent { built, result }
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
