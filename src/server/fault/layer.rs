//! The fault layer: wraps the whole router, so it can rewrite a request before routing
//! (another path, method, header, query or body) and the response after it.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::api::{Operation, match_operation};
use crate::server::state::AppState;

use super::Fault;

/// A token the `page-never-ends` fault hands out on the last page; sent back, it is
/// dropped, so the client gets the first page again.
const LOOP_TOKEN: &str = "bpharness-fault-loop";

#[derive(Clone)]
struct FaultCtx {
    state: AppState,
    inner: Router,
    /// `file-status-reverses`: how often each file was answered `indexing_completed`.
    completed_reads: Arc<Mutex<HashMap<String, u32>>>,
}

/// `router` behind the fault layer, or as it is when no fault is on.
pub fn wrap(router: Router, state: AppState) -> Router {
    if state.faults().is_empty() {
        return router;
    }
    let ctx = FaultCtx {
        state,
        inner: router.clone(),
        completed_reads: Arc::default(),
    };
    // The outer router has only a fallback (the API), so the middleware runs before the
    // API's own routing and a rewritten path is routed anew.
    Router::new()
        .fallback_service(router)
        .layer(middleware::from_fn_with_state(ctx, inject))
}

fn on(faults: &BTreeSet<Fault>, fault: Fault) -> bool {
    faults.contains(&fault)
}

async fn inject(State(ctx): State<FaultCtx>, req: Request, next: Next) -> Response {
    // File content URLs are storage, not the API: no API fault applies to them.
    if req.uri().path().starts_with("/_storage/") {
        return next.run(req).await;
    }
    let faults = ctx.state.faults().clone();
    let op = match_operation(req.method().as_str(), req.uri().path());
    let request_token = query_value(req.uri(), "nextToken");
    let Rewritten {
        req,
        op_after,
        table_name,
    } = match rewrite_request(&ctx, &faults, op, req).await {
        Ok(rewritten) => rewritten,
        Err(response) => return response,
    };
    let retry = (on(&faults, Fault::CrossBotReads) && req.method() == Method::GET).then(|| clone_parts(&req));
    let mut response = next.run(req).await;
    if on(&faults, Fault::RateLimitNoRetryAfter) && response.status() == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().remove(header::RETRY_AFTER);
    }
    if let Some(parts) = retry
        && response.status() == StatusCode::NOT_FOUND
    {
        response = cross_bot_retry(&ctx, parts).await.unwrap_or(response);
    }
    let response = rewrite_response(
        &faults,
        op,
        op_after,
        request_token.as_deref(),
        table_name.as_deref(),
        response,
    )
    .await;
    if on(&faults, Fault::FileStatusReverses) && matches!(op.map(|o| o.id), Some("getFile" | "listFiles")) {
        return reverse_file_status(&ctx, response).await;
    }
    response
}

/// `file-status-reverses`: a file answered `indexing_completed` once reads
/// `indexing_pending` on every later read, as if indexing had started over.
async fn reverse_file_status(ctx: &FaultCtx, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let mut reads = ctx.completed_reads.lock().expect("fault memory poisoned");
    each_resource(&mut value, &["file", "files"], &mut |f| {
        let Some(id) = f.get("id").and_then(Value::as_str).map(str::to_string) else {
            return;
        };
        if f.get("status").and_then(Value::as_str) == Some("indexing_completed") {
            let seen = reads.entry(id).or_default();
            *seen += 1;
            if *seen > 1 {
                f.insert("status".into(), json!("indexing_pending"));
                f.remove("indexingStack");
            }
        }
    });
    drop(reads);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&value).unwrap_or_default()))
}

fn query_value(uri: &Uri, key: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn with_query(uri: &Uri, keep: impl Fn(&str) -> bool) -> Uri {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let text = if query.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{query}", uri.path())
    };
    text.parse().unwrap_or_else(|_| uri.clone())
}

fn with_path(uri: &Uri, path: &str) -> Uri {
    let text = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    text.parse().unwrap_or_else(|_| uri.clone())
}

async fn json_body(body: Body) -> Option<Value> {
    let bytes = to_bytes(body, 64 * 1024 * 1024).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn set_json_body(parts: &mut axum::http::request::Parts, value: &Value) -> Body {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Body::from(bytes)
}

/// A request after the faults that act on requests.
struct Rewritten {
    req: Request,
    /// The operation the request now addresses (it may have been sent elsewhere).
    op_after: Option<&'static Operation>,
    /// `table-duplicate-name-allowed`: the name the client asked for, shown in the answer
    /// in place of the one the table was really created under.
    table_name: Option<String>,
}

/// The request after the faults that act on requests; `Err` is an answer given at once.
async fn rewrite_request(
    ctx: &FaultCtx,
    faults: &BTreeSet<Fault>,
    op: Option<&'static Operation>,
    req: Request,
) -> Result<Rewritten, Response> {
    let (mut parts, mut body) = req.into_parts();
    let seeds = ctx.state.seeds();
    let id = op.map(|o| o.id).unwrap_or("");

    if on(faults, Fault::AuthNotEnforced) {
        let valid = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| ctx.state.store().grant(t).is_some());
        if !valid && let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", seeds.tokens[0])) {
            parts.headers.insert(header::AUTHORIZATION, v);
        }
    }
    if on(faults, Fault::MissingBotIdDefaults)
        && parts.uri.path().starts_with("/v1/chat/")
        && !parts.headers.contains_key("x-bot-id")
        && let Ok(v) = HeaderValue::from_str(&seeds.bot_id)
    {
        parts.headers.insert("x-bot-id", v);
    }
    if on(faults, Fault::IgnoreTagFilter) && parts.method == Method::GET {
        parts.uri = with_query(&parts.uri, |k| {
            !(k == "tags" || k.starts_with("tags.") || k.starts_with("tags["))
        });
    }
    if on(faults, Fault::IgnoreConversationFilter) && matches!(id, "listMessages" | "listUsers") {
        parts.uri = with_query(&parts.uri, |k| k != "conversationId");
    }
    if on(faults, Fault::PageNeverEnds) && query_value(&parts.uri, "nextToken").as_deref() == Some(LOOP_TOKEN) {
        parts.uri = with_query(&parts.uri, |k| k != "nextToken");
    }
    if on(faults, Fault::WorkspaceNotEnforced) && parts.uri.path().starts_with("/v1/admin/") {
        enter_any_workspace(ctx, &mut parts.headers);
    }
    if on(faults, Fault::AnalyticsIgnoresRange) && id == "getBotAnalytics" {
        parts.uri = widen_range(&parts.uri);
    }
    if on(faults, Fault::IssueNotDeleted) && id == "deleteBotIssue" {
        return Err((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{}").into_response());
    }
    if on(faults, Fault::DeleteIsNoop) && parts.method == Method::DELETE && op.is_some() {
        return Err((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{}").into_response());
    }
    let mut op_after = op;
    if on(faults, Fault::GetOrCreateAlwaysCreates) && id.starts_with("getOrCreate") && id != "getOrCreateTable" {
        let path = parts.uri.path().trim_end_matches("/get-or-create").to_string();
        parts.uri = with_path(&parts.uri, &path);
        op_after = match_operation("POST", &path);
        if let Some(Value::Object(mut map)) = json_body(body).await {
            map.remove("discriminateByTags");
            body = set_json_body(&mut parts, &Value::Object(map));
        } else {
            body = Body::empty();
        }
    }
    if on(faults, Fault::PatchReplacesState) && id == "patchState" {
        parts.method = Method::POST;
    }
    if on(faults, Fault::GetOrSetOverwrites) && id == "getOrSetState" {
        let path = parts.uri.path().trim_end_matches("/get-or-set").to_string();
        parts.uri = with_path(&parts.uri, &path);
    }
    if on(faults, Fault::EmptyTagNotUnset) && matches!(id, "updateUser" | "updateConversation" | "updateMessage") {
        if let Some(mut value) = json_body(body).await {
            if let Some(Value::Object(tags)) = value.get_mut("tags") {
                tags.retain(|_, v| v.as_str() != Some(""));
            }
            body = set_json_body(&mut parts, &value);
        } else {
            body = Body::empty();
        }
    }
    if on(faults, Fault::EventStuckScheduled) && id == "createEvent" {
        if let Some(mut value) = json_body(body).await {
            if let Some(Value::Object(schedule)) = value.get_mut("schedule") {
                schedule.remove("dateTime");
                schedule.insert("delay".into(), json!(10.0 * 365.0 * 24.0 * 3600.0 * 1000.0));
            }
            body = set_json_body(&mut parts, &value);
        } else {
            body = Body::empty();
        }
    }
    if on(faults, Fault::NonAsciiTag500)
        || on(faults, Fault::LongNameAccepted)
        || on(faults, Fault::MissingRequiredAccepted)
        || on(faults, Fault::UnknownPropertyAccepted)
    {
        match input_faults(faults, id, &mut parts, body).await {
            Ok(rewritten) => body = rewritten,
            Err(response) => return Err(response),
        }
    }
    let mut table_name = None;
    if id.ends_with("Table") || id.ends_with("TableRows") || id == "renameTableColumn" {
        let table = rewrite_table_request(ctx, faults, id, &mut parts, body).await;
        body = table.0;
        op_after = table.1.or(op_after);
        table_name = table.2;
    }
    Ok(Rewritten {
        req: Request::from_parts(parts, body),
        op_after,
        table_name,
    })
}

/// The faults only generated input reveals, on the request body: a crash on a non-ASCII
/// tag key, a name over 200 characters cut instead of refused, a missing `type` filled in,
/// unknown top-level fields dropped. A body that is not JSON goes on untouched.
async fn input_faults(
    faults: &BTreeSet<Fault>,
    id: &str,
    parts: &mut axum::http::request::Parts,
    body: Body,
) -> Result<Body, Response> {
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return Ok(Body::empty());
    };
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(Body::from(bytes));
    };
    let non_ascii_key = map
        .get("tags")
        .and_then(Value::as_object)
        .is_some_and(|tags| tags.keys().any(|k| !k.is_ascii()));
    if on(faults, Fault::NonAsciiTag500) && non_ascii_key {
        let body = json!({
            "id": "err_00000000000000x00000000", "code": 500, "type": "Internal",
            "message": "tag key could not be indexed",
        });
        return Err((StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response());
    }
    let mut changed = false;
    if on(faults, Fault::LongNameAccepted)
        && matches!(id, "createUser" | "getOrCreateUser" | "updateUser")
        && let Some(Value::String(name)) = map.get_mut("name")
        && name.chars().count() > 200
    {
        *name = name.chars().take(200).collect();
        changed = true;
    }
    if on(faults, Fault::MissingRequiredAccepted) && id == "createMessage" && !map.contains_key("type") {
        map.insert("type".into(), json!("text"));
        changed = true;
    }
    if on(faults, Fault::UnknownPropertyAccepted) && id == "createConversation" {
        let before = map.len();
        map.retain(|k, _| matches!(k.as_str(), "channel" | "tags" | "integrationName"));
        changed |= map.len() != before;
    }
    if changed {
        Ok(set_json_body(parts, &Value::Object(map)))
    } else {
        Ok(Body::from(bytes))
    }
}

/// `big-number-mangled`: integers a double cannot hold come back as strings.
fn stringify_big_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            let big = n.as_u64().is_some_and(|u| u > 1 << 53) || n.as_i64().is_some_and(|i| i < -(1 << 53));
            if big {
                *value = Value::String(n.to_string());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(stringify_big_numbers),
        Value::Object(map) => map.values_mut().for_each(stringify_big_numbers),
        _ => {}
    }
}

/// `table-filter-ne-ignored`: removes every `$ne` of a filter, and the conditions left
/// empty by it. Answers whether `value` is now an emptied condition its parent should drop.
fn strip_ne(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let had = map.remove("$ne").is_some();
            let emptied: Vec<String> = map
                .iter_mut()
                .filter_map(|(k, v)| strip_ne(v).then(|| k.clone()))
                .collect();
            for k in &emptied {
                map.remove(k);
            }
            map.is_empty() && (had || !emptied.is_empty())
        }
        Value::Array(items) => {
            items.iter_mut().for_each(|i| {
                strip_ne(i);
            });
            false
        }
        _ => false,
    }
}

/// `table-rename-loses-data`: the schema of the table with column `from` renamed `to` in
/// place, as a server that renames by dropping and re-adding a column would send it.
async fn renamed_schema(ctx: &FaultCtx, parts: &axum::http::request::Parts, from: &str, to: &str) -> Option<Value> {
    let table_path = parts.uri.path().trim_end_matches("/column").to_string();
    let mut get = Request::new(Body::empty());
    *get.uri_mut() = table_path.parse().ok()?;
    *get.headers_mut() = parts.headers.clone();
    get.headers_mut().remove(header::CONTENT_LENGTH);
    let response = ctx.inner.clone().oneshot(get).await.ok()?;
    let current = json_body(response.into_body()).await?;
    let mut schema = current.pointer("/table/schema")?.clone();
    let properties = schema.get("properties")?.as_object()?.clone();
    properties.get(from)?;
    let renamed: Map<String, Value> = properties
        .into_iter()
        .map(|(k, v)| if k == from { (to.to_string(), v) } else { (k, v) })
        .collect();
    schema["properties"] = Value::Object(renamed);
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        for name in required.iter_mut().filter(|n| n.as_str() == Some(from)) {
            *name = json!(to);
        }
    }
    Some(schema)
}

/// The faults of the tables API: the new body, the operation the request now goes to, and
/// the table name to show in the answer.
async fn rewrite_table_request(
    ctx: &FaultCtx,
    faults: &BTreeSet<Fault>,
    id: &str,
    parts: &mut axum::http::request::Parts,
    body: Body,
) -> (Body, Option<&'static Operation>, Option<String>) {
    let touched = (on(faults, Fault::TableFilterNeIgnored) && matches!(id, "findTableRows" | "deleteTableRows"))
        || (on(faults, Fault::TableOffsetIgnored) && id == "findTableRows")
        || (on(faults, Fault::TableUpsertDuplicates) && id == "upsertTableRows")
        || (on(faults, Fault::TableRenameLosesData) && id == "renameTableColumn")
        || (on(faults, Fault::TableDuplicateNameAllowed) && id == "createTable");
    if !touched {
        return (body, None, None);
    }
    let Some(mut value) = json_body(body).await else {
        return (Body::empty(), None, None);
    };
    let mut op_after = None;
    let mut table_name = None;
    if on(faults, Fault::TableFilterNeIgnored)
        && let Some(filter) = value.get_mut("filter")
    {
        strip_ne(filter);
    }
    if on(faults, Fault::TableOffsetIgnored)
        && id == "findTableRows"
        && let Value::Object(map) = &mut value
    {
        map.remove("offset");
    }
    if on(faults, Fault::TableUpsertDuplicates) && id == "upsertTableRows" {
        // Sent to createTableRows: no key is looked up, every row is new.
        let path = parts.uri.path().trim_end_matches("/upsert").to_string();
        parts.uri = with_path(&parts.uri, &path);
        op_after = match_operation("POST", &path);
        if let Value::Object(map) = &mut value {
            map.remove("keyColumn");
            if let Some(Value::Array(rows)) = map.get_mut("rows") {
                for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                    row.remove("id");
                }
            }
        }
    }
    if on(faults, Fault::TableRenameLosesData) && id == "renameTableColumn" {
        let from = value["name"].as_str().unwrap_or_default().to_string();
        let to = value["newName"].as_str().unwrap_or_default().to_string();
        if let Some(schema) = renamed_schema(ctx, parts, &from, &to).await {
            let path = parts.uri.path().trim_end_matches("/column").to_string();
            parts.uri = with_path(&parts.uri, &path);
            op_after = match_operation("PUT", &path);
            value = json!({ "schema": schema });
        }
    }
    if on(faults, Fault::TableDuplicateNameAllowed) && id == "createTable" {
        let name = value["name"].as_str().unwrap_or_default().to_string();
        let bot = parts
            .headers
            .get("x-bot-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let taken = ctx
            .state
            .store()
            .bot(bot)
            .is_some_and(|b| b.data.read().expect("bot data poisoned").tables.name_taken(&name));
        if taken {
            // Stored under a fresh name, answered under the one asked for.
            let suffix: u32 = rand::random();
            value["name"] = json!(format!("{name}Dup{suffix:08x}"));
            table_name = Some(name);
        }
    }
    (set_json_body(parts, &value), op_after, table_name)
}

/// `workspace-not-enforced`: an admin request naming a workspace its token may not enter
/// goes on with a token that may, as if the server never compared the two.
fn enter_any_workspace(ctx: &FaultCtx, headers: &mut axum::http::HeaderMap) {
    let Some(workspace) = headers.get("x-workspace-id").and_then(|v| v.to_str().ok()) else {
        return;
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let store = ctx.state.store();
    if token
        .and_then(|t| store.grant(t))
        .is_some_and(|g| g.workspaces.contains(workspace))
    {
        return;
    }
    let other = store
        .tokens
        .read()
        .expect("token table poisoned")
        .iter()
        .find(|(_, g)| g.workspaces.contains(workspace))
        .map(|(t, _)| t.clone());
    if let Some(other) = other
        && let Ok(v) = HeaderValue::from_str(&format!("Bearer {other}"))
    {
        headers.insert(header::AUTHORIZATION, v);
    }
}

/// `analytics-ignores-range`: the range asked for grows by a day on each side.
fn widen_range(uri: &Uri) -> Uri {
    let shift = |text: &str, days: i64| -> Option<String> {
        let at = chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
            })?;
        Some((at + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| {
            let moved = match k.as_ref() {
                "startDate" => shift(&v, -1),
                "endDate" => shift(&v, 1),
                _ => None,
            };
            (k.into_owned(), moved.unwrap_or_else(|| v.into_owned()))
        })
        .collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{}?{query}", uri.path())
        .parse()
        .unwrap_or_else(|_| uri.clone())
}

struct RetryParts {
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
}

fn clone_parts(req: &Request) -> RetryParts {
    RetryParts {
        method: req.method().clone(),
        uri: req.uri().clone(),
        headers: req.headers().clone(),
    }
}

/// `cross-bot-reads`: a lookup that missed is tried again as every other bot the server
/// holds, the way a handler that forgets the bot scope would find it.
async fn cross_bot_retry(ctx: &FaultCtx, parts: RetryParts) -> Option<Response> {
    let asked = parts.headers.get("x-bot-id")?.to_str().ok()?.to_string();
    let bots: Vec<String> = ctx
        .state
        .store()
        .bots
        .read()
        .expect("bot table poisoned")
        .keys()
        .cloned()
        .collect();
    for bot in bots.into_iter().filter(|b| *b != asked) {
        let mut req = Request::new(Body::empty());
        *req.method_mut() = parts.method.clone();
        *req.uri_mut() = parts.uri.clone();
        *req.headers_mut() = parts.headers.clone();
        req.headers_mut().insert("x-bot-id", HeaderValue::from_str(&bot).ok()?);
        let response = ctx.inner.clone().oneshot(req).await.ok()?;
        if response.status().is_success() {
            return Some(response);
        }
    }
    None
}

fn http_date(iso: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(iso).ok()?;
    Some(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

/// Applies `f` to every resource object stored under one of `keys` (single or list).
fn each_resource(body: &mut Value, keys: &[&str], f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Value::Object(top) = body else { return };
    for key in keys {
        match top.get_mut(*key) {
            Some(Value::Object(one)) => f(one),
            Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_object_mut).for_each(&mut *f),
            _ => {}
        }
    }
}

fn walk_timestamps(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if matches!(k.as_str(), "createdAt" | "updatedAt")
                    && let Some(date) = v.as_str().and_then(http_date)
                {
                    *v = Value::String(date);
                } else {
                    walk_timestamps(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk_timestamps),
        _ => {}
    }
}

async fn rewrite_response(
    faults: &BTreeSet<Fault>,
    op: Option<&'static Operation>,
    op_after: Option<&'static Operation>,
    request_token: Option<&str>,
    table_name: Option<&str>,
    response: Response,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "fault layer could not read the response",
        )
            .into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let status = parts.status;
    let id = op.map(|o| o.id).unwrap_or("");

    if status.is_success() {
        if op != op_after && op.is_some_and(|o| o.success_status == 200) {
            // The request was sent elsewhere (get-or-create to create): answer as asked.
            parts.status = StatusCode::OK;
        }
        if on(faults, Fault::CreateReturns200) && op.is_some_and(|o| o.success_status == 201) {
            parts.status = StatusCode::OK;
        }
        if on(faults, Fault::GetOrCreateReturns201) && id.starts_with("getOrCreate") {
            parts.status = StatusCode::CREATED;
        }
        if on(faults, Fault::GetOrSetOverwrites) && id == "getOrSetState" {
            value["meta"] = json!({ "cached": false });
        }
        if let Some(name) = table_name {
            value["table"]["name"] = json!(name);
        }
        if id == "upsertTableRows"
            && op_after.is_some_and(|o| o.id == "createTableRows")
            && let Value::Object(map) = &mut value
        {
            let rows = map.remove("rows").unwrap_or_else(|| json!([]));
            map.insert("inserted".into(), rows);
            map.insert("updated".into(), json!([]));
        }
        if id == "renameTableColumn"
            && op_after.is_some_and(|o| o.id == "updateTable")
            && let Value::Object(map) = &mut value
        {
            map.remove("staleColumns");
        }
        if on(faults, Fault::BotLogsMetaToken)
            && id == "getBotLogs"
            && let Value::Object(map) = &mut value
        {
            let mut meta = Map::new();
            if let Some(token) = map.remove("nextToken") {
                meta.insert("nextToken".into(), token);
            }
            map.insert("meta".into(), Value::Object(meta));
        }
        if on(faults, Fault::BigNumberMangled) {
            stringify_big_numbers(&mut value);
        }
        if on(faults, Fault::UserMissingCreatedAt) {
            each_resource(
                &mut value,
                &["user", "users", "participant", "participants"],
                &mut |u| {
                    u.remove("createdAt");
                },
            );
        }
        if on(faults, Fault::ExtraField) {
            each_resource(
                &mut value,
                &["user", "users", "participant", "participants"],
                &mut |u| {
                    u.insert("internalNote".into(), json!("not in the contract"));
                },
            );
        }
        if on(faults, Fault::MessagePayloadString) {
            each_resource(&mut value, &["message", "messages"], &mut |m| {
                if let Some(p) = m.get_mut("payload") {
                    *p = Value::String(p.to_string());
                }
            });
        }
        if on(faults, Fault::NonIsoTimestamps) {
            walk_timestamps(&mut value);
        }
        if on(faults, Fault::NullChannel) {
            each_resource(&mut value, &["conversation", "conversations"], &mut |c| {
                c.insert("channel".into(), Value::Null);
            });
        }
        if on(faults, Fault::EventMissingFailureReason) {
            each_resource(&mut value, &["event", "events"], &mut |e| {
                e.remove("failureReason");
            });
        }
        if on(faults, Fault::StateMissingMeta)
            && matches!(id, "getState" | "getOrSetState")
            && let Value::Object(map) = &mut value
        {
            map.remove("meta");
        }
        if on(faults, Fault::UpdatedAtFrozen)
            && id.starts_with("update")
            && let Value::Object(map) = &mut value
        {
            for resource in map.values_mut() {
                if let Some(created) = resource.get("createdAt").cloned() {
                    resource["updatedAt"] = created;
                }
            }
        }
        if let Some(list_key) = op.and_then(|o| o.list_key).filter(|_| value.get("meta").is_some()) {
            rewrite_page(faults, &mut value, list_key, request_token);
            if on(faults, Fault::ListMissingMeta)
                && let Value::Object(map) = &mut value
            {
                map.remove("meta");
            }
        }
    } else if status.is_client_error() || status.is_server_error() {
        if on(faults, Fault::BadInput500) && value["type"] == "InvalidPayload" {
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            value["type"] = json!("Internal");
            value["code"] = json!(500);
        }
        if on(faults, Fault::VagueErrorMessages) && value["type"] == "InvalidPayload" {
            value["message"] = json!("the request is invalid");
        }
        if on(faults, Fault::ErrorWrongType) && value["type"] == "InvalidPayload" {
            value["type"] = json!("InvalidQuery");
        }
        if on(faults, Fault::ErrorUnknownType) && value["type"] == "ResourceNotFound" {
            value["type"] = json!("NotFound");
        }
        if on(faults, Fault::ErrorCodeMismatch) {
            value["code"] = json!(if parts.status.as_u16() == 500 { 400 } else { 500 });
        }
        if on(faults, Fault::ErrorWithoutId)
            && let Value::Object(map) = &mut value
        {
            map.remove("id");
        }
        if on(faults, Fault::PlainTextErrors) {
            let text = format!(
                "{} {}",
                value["type"].as_str().unwrap_or("Error"),
                value["message"].as_str().unwrap_or("")
            );
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::from(text));
        }
    }
    if on(faults, Fault::TextContentType) && parts.status.is_success() {
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(serde_json::to_vec(&value).unwrap_or_default()))
}

fn rewrite_page(faults: &BTreeSet<Fault>, value: &mut Value, list_key: &str, request_token: Option<&str>) {
    if let Some(Value::Array(items)) = value.get_mut(list_key) {
        if on(faults, Fault::PageSkipsItem) && request_token.is_some() && !items.is_empty() {
            items.remove(0);
        }
        if on(faults, Fault::PageDuplicatesItem)
            && let Some(first) = items.first().cloned()
        {
            items.push(first);
        }
        if on(faults, Fault::PageWrongOrder) {
            items.reverse();
        }
    }
    let meta = &mut value["meta"];
    if on(faults, Fault::PageDropsNextToken)
        && let Value::Object(m) = meta
    {
        m.remove("nextToken");
    }
    if on(faults, Fault::PageRepeatsToken)
        && let (Some(sent), Some(Value::String(next))) = (request_token, meta.get_mut("nextToken"))
    {
        *next = sent.to_string();
    }
    if on(faults, Fault::PageNeverEnds) && meta.get("nextToken").is_none() {
        meta["nextToken"] = json!(LOOP_TOKEN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_ne_drops_the_operator_and_the_conditions_it_empties() {
        let mut filter = json!({
            "city": { "$ne": "London" },
            "age": { "$gt": 3, "$ne": 5 },
            "$or": [{ "name": { "$ne": "x" } }, { "name": "y" }],
            "score": { "$not": { "$ne": 1 } }
        });
        strip_ne(&mut filter);
        assert_eq!(filter, json!({ "age": { "$gt": 3 }, "$or": [{}, { "name": "y" }] }));
    }
}
