//! Fuzzing the reference server in process: every operation of the catalogue gets random
//! bodies (random JSON, JSON shaped by the operation's request schema, random bytes, huge
//! strings, wrong content types) and random query strings (random keys and values,
//! `tags.*`, repeated keys, broken percent-encoding), with a valid token, sent through
//! `router(state).oneshot(..)`.
//!
//! Property: no panic, no 5xx, no hang; every answer is a 2xx or a documented 4xx whose
//! body matches `schemas/error.json`, whose `code` is the status and whose `type` the
//! catalogue gives that status. Operations of areas the server does not serve answer 404
//! `ResourceNotFound`, which the same property accepts.
//!
//! `cargo test` runs a short pass; `PROPTEST_CASES` sets the number of requests
//! (`scripts/fuzz-server.sh` runs a long one).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, Method, Request, Uri, header};
use bpharness::api::{Area, ERROR_TYPES, OPERATIONS, Operation};
use bpharness::contract::SchemaSet;
use bpharness::server::{AppState, ServerConfig, router};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

/// Requests when `PROPTEST_CASES` is not set: a short pass for `cargo test`.
const DEFAULT_CASES: u32 = 1500;

/// Bodies above this are `PayloadTooLarge`; kept small so huge bodies stay cheap to make.
const MAX_BODY: usize = 64 * 1024;

/// One server with resources of its first bot to aim at.
struct Target {
    app: Router,
    token: String,
    bots: Vec<String>,
    /// Ids of resources of the first bot, any kind.
    ids: Vec<String>,
}

async fn call(app: &Router, token: &str, bot: &str, method: &str, path: &str, body: Value) -> Value {
    call_in(app, token, ("x-bot-id", bot), method, path, body).await
}

/// A call scoped by `scope` (`x-bot-id` or `x-workspace-id`) that must succeed.
async fn call_in(app: &Router, token: &str, scope: (&str, &str), method: &str, path: &str, body: Value) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(scope.0, scope.1)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {value}");
    value
}

async fn target() -> Target {
    let state = AppState::new(ServerConfig {
        max_body_bytes: MAX_BODY,
        ..ServerConfig::default()
    });
    let seeds = state.seeds().clone();
    let app = router(state);
    let (token, bot) = (seeds.tokens[0].clone(), seeds.bot_id.clone());
    // The bot declares the tag key and the state the resources below use (the server takes
    // only declared ones).
    let declared = json!({ "tags": { "fuzz": {} } });
    call_in(
        &app,
        &token,
        ("x-workspace-id", &seeds.workspace_id),
        "PUT",
        &format!("/v1/admin/bots/{bot}"),
        json!({
            "user": declared, "conversation": declared, "message": declared,
            "states": { "prefs": { "type": "user", "schema": { "type": "object" } } },
        }),
    )
    .await;
    let tags = json!({ "fuzz": "1" });
    let user = call(&app, &token, &bot, "POST", "/v1/chat/users", json!({ "tags": tags })).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conversation = call(
        &app,
        &token,
        &bot,
        "POST",
        "/v1/chat/conversations",
        json!({ "channel": "web", "tags": tags }),
    )
    .await["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &app,
        &token,
        &bot,
        "POST",
        &format!("/v1/chat/conversations/{conversation}/participants"),
        json!({ "userId": user }),
    )
    .await;
    let message = call(
        &app,
        &token,
        &bot,
        "POST",
        "/v1/chat/messages",
        json!({ "payload": { "text": "hi" }, "userId": user, "conversationId": conversation, "type": "text", "tags": tags }),
    )
    .await["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = call(
        &app,
        &token,
        &bot,
        "POST",
        "/v1/chat/events",
        json!({ "type": "fuzz", "payload": {}, "conversationId": conversation }),
    )
    .await["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        &app,
        &token,
        &bot,
        "POST",
        &format!("/v1/chat/states/user/{user}/prefs"),
        json!({ "payload": { "a": 1 } }),
    )
    .await;
    Target {
        app,
        token,
        bots: vec![
            seeds.bot_id,
            seeds.other_bot_id,
            seeds.other_workspace_bot_id,
            "bot_unknown".into(),
        ],
        ids: vec![user, conversation, message, event],
    }
}

/// Whether the server on this branch serves the operation's area (the runtime API).
fn is_served(op: &Operation) -> bool {
    matches!(
        op.area,
        Area::Users | Area::Conversations | Area::Events | Area::Messages | Area::States | Area::Actions
    )
}

/// What fills a `{param}` of a path template.
#[derive(Debug, Clone)]
enum Param {
    /// An id of the first bot's resources (or the bot itself).
    Known(Index),
    /// Any text, percent-encoded.
    Text(String),
    /// Raw, possibly broken, escapes.
    Raw(&'static str),
}

const RAW_SEGMENTS: &[&str] = &[
    "%",
    "%G1",
    "%zz",
    "%C3",
    "%FF%FE",
    "%00",
    "%2F",
    "..",
    ".",
    "%2e%2e",
    "user",
    "conversation",
    "bot",
    "task",
    "workflow",
    "integration",
    "prefs",
    "a%20b",
    "%E2%82",
    "~",
    "-",
    "_",
];

#[derive(Debug, Clone)]
enum BodyKind {
    None,
    /// Any JSON value.
    Json(Value),
    /// An object shaped by the operation's request schema.
    Shaped(Value),
    Bytes(Vec<u8>),
    /// A JSON object with one string of this many bytes.
    Huge(usize),
}

#[derive(Debug, Clone)]
struct Case {
    /// Index into `OPERATIONS`.
    operation: usize,
    /// Mostly the operation's method; sometimes another.
    method: Option<&'static str>,
    params: Vec<Param>,
    query: Vec<String>,
    body: BodyKind,
    content_type: Option<&'static str>,
    /// Index into the target's bots: mostly the first.
    bot: usize,
    bot_header: bool,
}

const STATE_TYPES: &[&str] = &["user", "conversation", "bot", "task", "workflow", "integration"];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/merge-patch+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "json",
    ";",
    "",
    "\u{e9}",
];

/// Query keys the handlers read.
const QUERY_KEYS: &[&str] = &[
    "limit",
    "nextToken",
    "tags",
    "tags.a",
    "tags.fuzz",
    "tags[a]",
    "tags.",
    "tags[",
    "sortField",
    "sortDirection",
    "createdAfter",
    "createdBefore",
    "updatedAfter",
    "updatedBefore",
    "conversationId",
    "userId",
    "messageId",
    "workflowId",
    "participantIds",
    "participantIds[]",
    "type",
    "status",
    "channel",
    "integrationName",
    "offset",
];

const QUERY_VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "20",
    "21",
    "1000000000000000000000",
    "1.5",
    "NaN",
    "asc",
    "desc",
    "createdAt",
    "updatedAt",
    "pending",
    "2025-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59Z",
    "+275760-09-13T00:00:00Z",
    "not a date",
    "%7B%22a%22%3A%221%22%7D",
    "%7B",
    "%5B1%5D",
    "null",
    "true",
];

const BROKEN: &[&str] = &[
    "%", "%G", "%C3", "%%", "&&", "=", "==", "&=&", "%FF", "%00", "+", ";", "?", "#",
];

/// A query piece: `key=value`, percent-encoded or raw.
fn query_piece() -> impl Strategy<Value = String> {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let key = prop_oneof![
        4 => select(QUERY_KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z.\\[\\]_]{0,10}",
    ];
    let value = prop_oneof![
        3 => select(QUERY_VALUES).prop_map(str::to_owned),
        1 => ".{0,20}".prop_map(move |s| encode(&s)),
        1 => "[a-zA-Z0-9_%]{0,12}",
    ];
    prop_oneof![
        8 => (key, value).prop_map(move |(k, v)| format!("{}={v}", if k.contains('%') { k } else { k.replace(' ', "+") })),
        2 => select(BROKEN).prop_map(str::to_owned),
        1 => select(QUERY_KEYS).prop_map(str::to_owned),
    ]
}

fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        5 => any::<Index>().prop_map(Param::Known),
        2 => ".{1,40}".prop_map(Param::Text),
        1 => "[a-z]{2,6}_[0-9A-Z]{26}".prop_map(Param::Text),
        2 => select(RAW_SEGMENTS).prop_map(Param::Raw),
    ]
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0u32..100).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        ".{0,24}".prop_map(Value::String),
        select(QUERY_VALUES).prop_map(|s| Value::String(s.to_owned())),
    ]
    .boxed()
}

fn anything() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,8}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Values for a property of a request schema: what its type asks for, mostly.
fn for_schema(schema: &Value, ids: Vec<String>) -> BoxedStrategy<Value> {
    let reference = schema.get("$ref").and_then(Value::as_str).unwrap_or("");
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    let plausible: BoxedStrategy<Value> = if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        select(options.clone()).boxed()
    } else if reference.ends_with("/id") {
        prop_oneof![
            3 => select(ids).prop_map(Value::String),
            1 => "[a-z]{2,6}_[0-9A-Z]{26}".prop_map(Value::String),
        ]
        .boxed()
    } else if reference.contains("ags") {
        proptest::collection::btree_map(
            prop_oneof![Just("fuzz".to_owned()), ".{0,6}"],
            prop_oneof![
                1 => Just(Value::String(String::new())),
                6 => ".{0,8}".prop_map(Value::String),
                1 => leaf(),
            ],
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed()
    } else if reference.contains("schedule") {
        prop_oneof![
            (-1e20f64..1e20).prop_map(|d| json!({ "delay": d })),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|d| json!({ "delay": d })),
            select(QUERY_VALUES).prop_map(|d| json!({ "dateTime": d })),
            Just(json!({})),
        ]
        .boxed()
    } else {
        match ty {
            "string" => prop_oneof![
                ".{0,24}".prop_map(Value::String),
                Just(json!("echo")),
                Just(json!("sum"))
            ]
            .boxed(),
            "number" | "integer" => prop_oneof![
                any::<i64>().prop_map(Value::from),
                (0u32..1000).prop_map(Value::from),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(Value::from),
            ]
            .boxed(),
            "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
            "array" => proptest::collection::vec(leaf(), 0..4).prop_map(Value::Array).boxed(),
            _ => anything(),
        }
    };
    prop_oneof![12 => plausible, 1 => anything()].boxed()
}

/// An object with the properties of `requests/<operation>.json`, each maybe present.
fn shaped(operation: &Operation, ids: &[String]) -> BoxedStrategy<Value> {
    let schema = SchemaSet::embedded().document(&format!("requests/{}.json", operation.id));
    let properties = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = properties
        .into_iter()
        .map(|(name, schema)| {
            prop_oneof![
                1 => Just(None),
                8 => for_schema(&schema, ids.to_vec()).prop_map(move |v| Some((name.clone(), v))),
            ]
            .boxed()
        })
        .collect();
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect::<Map<_, _>>()))
        .boxed()
}

fn body(shaped: BoxedStrategy<Value>) -> impl Strategy<Value = BodyKind> {
    prop_oneof![
        2 => Just(BodyKind::None),
        3 => anything().prop_map(BodyKind::Json),
        8 => shaped.prop_map(BodyKind::Shaped),
        1 => proptest::collection::vec(any::<u8>(), 0..256).prop_map(BodyKind::Bytes),
        1 => prop_oneof![Just(MAX_BODY - 32), Just(MAX_BODY + 1), 1usize..(4 * MAX_BODY)].prop_map(BodyKind::Huge),
    ]
}

fn case(ids: &[String]) -> impl Strategy<Value = Case> {
    let shaped_bodies: Vec<BoxedStrategy<Value>> = OPERATIONS.iter().map(|op| shaped(op, ids)).collect();
    // Operations of the areas the server serves come up more often; the others answer 404.
    let weighted: Vec<(u32, BoxedStrategy<usize>)> = OPERATIONS
        .iter()
        .enumerate()
        .map(|(i, op)| (if is_served(op) { 4 } else { 1 }, Just(i).boxed()))
        .collect();
    proptest::strategy::Union::new_weighted(weighted).prop_flat_map(move |op| {
        (
            Just(op),
            prop_oneof![9 => Just(None), 1 => select(METHODS).prop_map(Some)],
            proptest::collection::vec(param(), 3),
            proptest::collection::vec(query_piece(), 0..6),
            body(shaped_bodies[op].clone()),
            prop_oneof![
                6 => Just(Some("application/json")),
                3 => select(CONTENT_TYPES).prop_map(Some),
                1 => Just(None),
            ],
            prop_oneof![6 => Just(0usize), 1 => 1usize..4],
            prop_oneof![9 => Just(true), 1 => Just(false)],
        )
            .prop_map(
                |(op, method, params, query, body, content_type, bot, bot_header)| Case {
                    operation: op,
                    method,
                    params,
                    query,
                    body,
                    content_type,
                    bot,
                    bot_header,
                },
            )
    })
}

/// Fills the operation's path template from the case.
fn path(template: &str, params: &[Param], ids: &[String], bot: &str) -> String {
    let mut out = String::new();
    let mut next = params.iter();
    for (i, segment) in template.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let text = match next.next() {
                Some(Param::Known(index)) => match name {
                    "type" => STATE_TYPES[index.index(STATE_TYPES.len())].to_owned(),
                    "name" => "prefs".to_owned(),
                    _ => {
                        let mut all = ids.to_vec();
                        all.push(bot.to_owned());
                        all[index.index(all.len())].clone()
                    }
                },
                Some(Param::Text(text)) => {
                    // Path segments: encode everything but unreserved characters.
                    form_urlencoded::byte_serialize(text.as_bytes())
                        .collect::<String>()
                        .replace('+', "%20")
                }
                Some(Param::Raw(raw)) => (*raw).to_owned(),
                None => "x".to_owned(),
            };
            out.push_str(&text);
        } else {
            out.push_str(segment);
        }
    }
    out
}

fn build(target: &Target, case: &Case) -> Option<(String, Request<Body>)> {
    let operation = &OPERATIONS[case.operation];
    let method = case.method.unwrap_or(operation.method);
    let bot = &target.bots[case.bot];
    let mut uri = path(operation.path, &case.params, &target.ids, bot);
    if !case.query.is_empty() {
        uri.push('?');
        uri.push_str(&case.query.join("&"));
    }
    // What no HTTP server would route (an invalid request target) is not a case.
    let uri: Uri = uri.parse().ok()?;
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri.clone())
        .header(header::AUTHORIZATION, format!("Bearer {}", target.token));
    if case.bot_header {
        builder = builder.header("x-bot-id", bot.as_str());
    }
    if let Some(ct) = case.content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    let bytes = match &case.body {
        BodyKind::None => Vec::new(),
        BodyKind::Json(value) | BodyKind::Shaped(value) => serde_json::to_vec(value).unwrap(),
        BodyKind::Bytes(bytes) => bytes.clone(),
        BodyKind::Huge(n) => serde_json::to_vec(&json!({ "name": "x".repeat(*n), "tags": {} })).unwrap(),
    };
    let label = format!("{method} {uri} ({} body bytes)", bytes.len());
    Some((label, builder.body(Body::from(bytes)).unwrap()))
}

/// Statuses seen, for the summary line.
type Seen = Arc<Mutex<BTreeMap<u16, u64>>>;

async fn check(app: Router, label: &str, request: Request<Body>, seen: &Seen) -> Result<(), TestCaseError> {
    let response = match tokio::time::timeout(Duration::from_secs(10), app.oneshot(request)).await {
        Ok(response) => response.unwrap(),
        Err(_) => return Err(TestCaseError::fail(format!("{label}: no answer within 10 s"))),
    };
    let status = response.status().as_u16();
    *seen.lock().unwrap().entry(status).or_default() += 1;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes);
    prop_assert!(
        (200..300).contains(&status) || (400..500).contains(&status),
        "{label}: status {status}: {text}"
    );
    if status < 400 {
        return Ok(());
    }
    prop_assert!(content_type.starts_with("application/json"), "{label}: {content_type}");
    let body: Value =
        serde_json::from_slice(&bytes).map_err(|e| TestCaseError::fail(format!("{label}: {e}: {text}")))?;
    let validator = SchemaSet::embedded().validator("error.json").unwrap();
    prop_assert!(validator.is_valid(&body), "{label}: not an error body: {body}");
    prop_assert_eq!(&body["code"], &json!(status), "{}: code differs from the status", label);
    let ty = body["type"].as_str().unwrap_or_default();
    prop_assert!(
        ERROR_TYPES.iter().any(|t| t.name() == ty && t.status() == status),
        "{label}: {ty} is not a documented {status}"
    );
    Ok(())
}

#[test]
fn every_operation_answers_random_input_with_a_documented_status() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = runtime.block_on(target());
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_server.txt",
        ))),
        max_shrink_iters: 2048,
        ..Config::default()
    });
    let seen: Seen = Arc::default();
    let skipped = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let result = runner.run(&case(&target.ids), |case| {
        let Some((label, request)) = build(&target, &case) else {
            *skipped.lock().unwrap() += 1;
            return Ok(());
        };
        runtime.block_on(check(target.app.clone(), &label, request, &seen))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let seen = seen.lock().unwrap();
    let sent: u64 = seen.values().sum();
    eprintln!(
        "fuzz-server: {sent} requests in {:.1} s ({} cases not valid HTTP); statuses {seen:?}",
        started.elapsed().as_secs_f64(),
        skipped.lock().unwrap()
    );
    assert!(sent > u64::from(cases) / 2, "most cases should be sendable");
}
