//! What makes the suite portable, on the server side: bot definitions are followed (tag
//! keys, state names, event types), events are processed, the reference server names
//! itself on every answer, and the "other server" variant differs from it only where the
//! docs leave freedom.

use std::time::{Duration, Instant};

use bpharness::server::fault::Fault;
use bpharness::server::{IDENTITY_HEADER, IDENTITY_VALUE, REFUSE_EVERY, ServerConfig};
use reqwest::Method;
use rstest::rstest;
use serde_json::{Value, json};

use crate::util::{Api, Reply, assert_error, assert_schema, state_names, tag_keys};

/// A tag key no bot of these tests declares.
const UNDECLARED: &str = "undeclaredKey";

/// Polls `path` until `field` reads `wanted`, for up to 10 s; the last answer.
async fn poll(api: &Api, path: &str, field: &str, wanted: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = api.get(path).await;
        if r.body.pointer(field).and_then(Value::as_str) == Some(wanted) || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn created(r: Reply, key: &str) -> String {
    assert!(r.status.is_success(), "{:#}", r.body);
    r.body[key]["id"].as_str().unwrap().to_string()
}

/// A user, a conversation and a message, all with declared tags only (none).
async fn records(api: &Api) -> (String, String, String) {
    let user = created(api.post("/v1/chat/users", json!({ "tags": {} })).await, "user").await;
    let conversation = created(
        api.post("/v1/chat/conversations", json!({ "channel": "web", "tags": {} }))
            .await,
        "conversation",
    )
    .await;
    let message = created(
        api.post(
            "/v1/chat/messages",
            json!({ "conversationId": conversation, "userId": user, "type": "text", "payload": { "text": "hi" }, "tags": {} }),
        )
        .await,
        "message",
    )
    .await;
    (user, conversation, message)
}

#[rstest]
#[case::create_user(Method::POST, "/v1/chat/users")]
#[case::get_or_create_user(Method::POST, "/v1/chat/users/get-or-create")]
#[case::update_user(Method::PUT, "/v1/chat/users/{user}")]
#[case::create_conversation(Method::POST, "/v1/chat/conversations")]
#[case::get_or_create_conversation(Method::POST, "/v1/chat/conversations/get-or-create")]
#[case::update_conversation(Method::PUT, "/v1/chat/conversations/{conversation}")]
#[case::create_message(Method::POST, "/v1/chat/messages")]
#[case::get_or_create_message(Method::POST, "/v1/chat/messages/get-or-create")]
#[case::update_message(Method::PUT, "/v1/chat/messages/{message}")]
#[tokio::test]
async fn an_undeclared_tag_key_is_invalid_payload_naming_it(#[case] method: Method, #[case] path: &str) {
    let api = Api::start().await;
    let (user, conversation, message) = records(&api).await;
    let path = path
        .replace("{user}", &user)
        .replace("{conversation}", &conversation)
        .replace("{message}", &message);
    let tags = json!({ UNDECLARED: "x" });
    let body = match path.split('/').nth(3) {
        Some("conversations") if method == Method::POST => json!({ "channel": "web", "tags": tags }),
        Some("messages") if method == Method::POST => json!({
            "conversationId": conversation, "userId": user, "type": "text", "payload": { "text": "hi" }, "tags": tags,
        }),
        _ => json!({ "tags": tags }),
    };
    let r = api.call(method.clone(), &path, Some(body.clone())).await;
    assert_error(&r, 400, "InvalidPayload");
    let message_text = r.body["message"].as_str().unwrap();
    assert!(message_text.contains(UNDECLARED), "{message_text}");

    // Once the bot declares the key, the same request goes through.
    let kind = match path.split('/').nth(3) {
        Some("users") => "user",
        Some("conversations") => "conversation",
        _ => "message",
    };
    api.declare(json!({ kind: { "tags": tag_keys(&[UNDECLARED]) } })).await;
    let r = api.call(method, &path, Some(body)).await;
    assert!(r.status.is_success(), "{:#}", r.body);
    assert_eq!(r.body[kind]["tags"][UNDECLARED], "x");
}

#[tokio::test]
async fn tag_filters_on_an_undeclared_key_match_nothing() {
    let api = Api::start().await;
    records(&api).await;
    let r = api.get(&format!("/v1/chat/users?tags.{UNDECLARED}=x")).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.body["users"], json!([]));
}

#[tokio::test]
async fn a_state_must_be_declared_with_its_type() {
    let api = Api::start().await;
    api.declare(json!({ "states": state_names("user", &["prefs"]) })).await;
    let (user, conversation, _) = records(&api).await;
    let undeclared = format!("/v1/chat/states/user/{user}/neverDeclared");
    for (method, path, body) in [
        (Method::POST, undeclared.clone(), json!({ "payload": {} })),
        (
            Method::POST,
            format!("{undeclared}/get-or-set"),
            json!({ "payload": {} }),
        ),
        (Method::PATCH, undeclared.clone(), json!({ "payload": {} })),
        // Declared, but as a user state.
        (
            Method::POST,
            format!("/v1/chat/states/conversation/{conversation}/prefs"),
            json!({ "payload": {} }),
        ),
    ] {
        let r = api.call(method.clone(), &path, Some(body)).await;
        assert_error(&r, 400, "InvalidPayload");
        let name = path.rsplit('/').find(|s| *s != "get-or-set").unwrap();
        assert!(
            r.body["message"].as_str().unwrap().contains(name),
            "{method} {path}: {:#}",
            r.body
        );
    }
    // A state that cannot be declared cannot exist.
    assert_error(&api.get(&undeclared).await, 404, "ResourceNotFound");
    let declared = format!("/v1/chat/states/user/{user}/prefs");
    let r = api.post(&declared, json!({ "payload": { "a": 1 } })).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
}

#[tokio::test]
async fn the_seeded_bots_carry_the_suite_definition() {
    let api = Api::start().await;
    let definition = bpharness::server::suite_definition();
    let seeds = api.server.seeds().clone();
    for bot in [&seeds.bot_id, &seeds.other_bot_id] {
        let r = api.admin(Method::GET, &format!("/v1/admin/bots/{bot}"), None).await;
        for key in ["states", "events"] {
            let declared: Vec<&String> = r.body["bot"][key].as_object().unwrap().keys().collect();
            let wanted: Vec<&String> = definition[key].as_object().unwrap().keys().collect();
            assert_eq!(declared.len(), wanted.len(), "{key} of {bot}");
        }
        for kind in ["user", "conversation", "message"] {
            assert_eq!(
                r.body["bot"][kind]["tags"].as_object().unwrap().len(),
                definition[kind]["tags"].as_object().unwrap().len(),
                "{kind} tags of {bot}"
            );
        }
    }
    let r = api
        .admin_as(
            &seeds.other_workspace_token,
            Some(&seeds.other_workspace_id),
            Method::GET,
            &format!("/v1/admin/bots/{}", seeds.other_workspace_bot_id),
            None,
        )
        .await;
    assert_eq!(
        r.body["bot"]["states"].as_object().unwrap().len(),
        definition["states"].as_object().unwrap().len()
    );
    // A bot made by createBot declares what its body declares: nothing here.
    let r = api.admin(Method::POST, "/v1/admin/bots", Some(json!({}))).await;
    let bot = r.body["bot"]["id"].as_str().unwrap().to_string();
    let r = api
        .call_as(
            &api.token,
            &bot,
            Method::POST,
            "/v1/chat/users",
            Some(json!({ "tags": { "suite": "x" } })),
        )
        .await;
    assert_error(&r, 400, "InvalidPayload");
}

#[tokio::test]
async fn events_are_processed_and_undeclared_types_ignored() {
    let api = Api::start().await;
    api.declare(json!({ "events": { "orderPlaced": { "schema": {} } } }))
        .await;
    let create = |kind: &'static str, schedule: Option<Value>| {
        let mut body = json!({ "type": kind, "payload": {} });
        if let Some(schedule) = schedule {
            body["schedule"] = schedule;
        }
        let api = &api;
        async move { created(api.post("/v1/chat/events", body).await, "event").await }
    };
    let declared = create("orderPlaced", None).await;
    let undeclared = create("neverDeclared", None).await;
    let scheduled = create("orderPlaced", Some(json!({ "delay": 100 }))).await;

    let r = poll(
        &api,
        &format!("/v1/chat/events/{declared}"),
        "/event/status",
        "processed",
    )
    .await;
    assert_eq!(r.body["event"]["status"], "processed", "{:#}", r.body);
    assert_eq!(r.body["event"]["failureReason"], Value::Null);
    assert_schema("responses/getEvent.json", &r.body);
    let r = poll(
        &api,
        &format!("/v1/chat/events/{undeclared}"),
        "/event/status",
        "ignored",
    )
    .await;
    assert_eq!(r.body["event"]["status"], "ignored", "{:#}", r.body);
    assert_eq!(r.body["event"]["failureReason"], Value::Null);
    let r = poll(
        &api,
        &format!("/v1/chat/events/{scheduled}"),
        "/event/status",
        "processed",
    )
    .await;
    assert_eq!(r.body["event"]["status"], "processed", "{:#}", r.body);

    // The status filter sees the status as it is now.
    let ids = |r: &Reply| -> Vec<String> {
        r.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    let processed = api.get("/v1/chat/events?status=processed").await;
    assert_eq!(ids(&processed), [scheduled.clone(), declared.clone()]);
    let ignored = api.get("/v1/chat/events?status=ignored").await;
    assert_eq!(ids(&ignored), [undeclared]);
    assert_eq!(
        ids(&api.get("/v1/chat/events?status=pending").await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_scheduled_event_is_pending_between_its_time_and_its_processing() {
    let api = Api::start_with(ServerConfig {
        event_delay: Duration::from_secs(3600),
        ..ServerConfig::default()
    })
    .await;
    let id = created(
        api.post(
            "/v1/chat/events",
            json!({ "type": "x", "payload": {}, "schedule": { "delay": 1 } }),
        )
        .await,
        "event",
    )
    .await;
    let r = poll(&api, &format!("/v1/chat/events/{id}"), "/event/status", "pending").await;
    assert_eq!(r.body["event"]["status"], "pending");
}

#[tokio::test]
async fn with_event_stuck_pending_events_are_never_processed() {
    // Without the fault, a zero delay makes the first read `processed` (or `ignored`).
    let api = Api::start_with(ServerConfig {
        event_delay: Duration::ZERO,
        faults: [Fault::EventStuckPending].into(),
        ..ServerConfig::default()
    })
    .await;
    let id = created(
        api.post("/v1/chat/events", json!({ "type": "ping", "payload": {} }))
            .await,
        "event",
    )
    .await;
    let r = api.get(&format!("/v1/chat/events/{id}")).await;
    assert_eq!(r.body["event"]["status"], "pending");
    let fine = Api::start_with(ServerConfig {
        event_delay: Duration::ZERO,
        ..ServerConfig::default()
    })
    .await;
    let id = created(
        fine.post("/v1/chat/events", json!({ "type": "ping", "payload": {} }))
            .await,
        "event",
    )
    .await;
    let r = fine.get(&format!("/v1/chat/events/{id}")).await;
    assert_ne!(r.body["event"]["status"], "pending");
}

async fn raw(api: &Api, method: Method, url: &str, token: bool) -> reqwest::Response {
    let mut req = api.http.request(method, url).header("x-bot-id", &api.bot);
    if token {
        req = req.bearer_auth(&api.token);
    }
    req.send().await.expect("the request reaches the server")
}

#[tokio::test]
async fn the_reference_server_names_itself_on_every_answer() {
    let api = Api::start_with(ServerConfig {
        faults: [Fault::DeleteIsNoop].into(),
        ..ServerConfig::default()
    })
    .await;
    let file = api.put("/v1/files", json!({ "key": "a.txt", "size": 1 })).await;
    let upload = file.body["file"]["uploadUrl"].as_str().unwrap().to_string();
    for (method, url, token) in [
        (Method::GET, api.url("/v1/chat/users"), true),
        (Method::GET, api.url("/v1/chat/users"), false),
        (Method::GET, api.url("/v1/nowhere"), true),
        (Method::PATCH, api.url("/v1/chat/users"), true),
        // Answered by the fault layer itself.
        (
            Method::DELETE,
            api.url("/v1/chat/users/user_01NOSUCHUSER0000000000000000"),
            true,
        ),
        (Method::PUT, format!("{upload}x"), false),
    ] {
        let r = raw(&api, method.clone(), &url, token).await;
        assert_eq!(
            r.headers().get(IDENTITY_HEADER).and_then(|v| v.to_str().ok()),
            Some(IDENTITY_VALUE),
            "{method} {url}: {}",
            r.status()
        );
    }
}

/// The other server, started as the runner would: `spawn_local(ServerConfig::other_server())`.
async fn other() -> Api {
    Api::start_with(ServerConfig::other_server()).await
}

#[tokio::test]
async fn the_other_server_does_not_name_itself_and_words_errors_its_own_way() {
    let api = other().await;
    for (method, path, token) in [
        (Method::GET, "/v1/chat/users", true),
        (Method::GET, "/v1/chat/users/user_01NOSUCHUSER0000000000000000", true),
        (Method::GET, "/v1/chat/users", false),
    ] {
        let r = raw(&api, method, &api.url(path), token).await;
        assert!(r.headers().get(IDENTITY_HEADER).is_none(), "{path}");
    }
    let r = api.get("/v1/chat/users/user_01NOSUCHUSER0000000000000000").await;
    assert_error(&r, 404, "ResourceNotFound");
    assert_eq!(r.body["message"], "request rejected (ResourceNotFound)");
    // Definitions are followed there too, in its own words.
    let r = api.post("/v1/chat/users", json!({ "tags": { UNDECLARED: "x" } })).await;
    assert_error(&r, 400, "InvalidPayload");
    assert_eq!(r.body["message"], "request rejected (InvalidPayload)");
}

#[tokio::test]
async fn the_other_server_refuses_now_and_then_with_retry_after() {
    let api = other().await;
    let mut refused = Vec::new();
    for n in 1..=2 * REFUSE_EVERY {
        let r = raw(&api, Method::GET, &api.url(&format!("/v1/chat/users?n={n}")), true).await;
        if r.status() == 429 {
            assert_eq!(r.headers().get("retry-after").unwrap(), "1");
            let reply = crate::util::into_reply(r).await;
            assert_error(&reply, 429, "RateLimited");
            refused.push(n);
            // The retry of the same request is served.
            let again = raw(&api, Method::GET, &api.url(&format!("/v1/chat/users?n={n}")), true).await;
            assert_eq!(again.status(), 200);
        }
    }
    assert_eq!(refused.len(), 2, "{refused:?}");
    // A refused write does nothing: refusals come before the handler.
    api.declare(json!({ "user": { "tags": tag_keys(&["attempt"]) } })).await;
    let mut refused_writes = 0;
    for n in 0..REFUSE_EVERY {
        let r = api
            .post("/v1/chat/users", json!({ "tags": { "attempt": n.to_string() } }))
            .await;
        if r.status == 429 {
            refused_writes += 1;
            let r = api.get(&format!("/v1/chat/users?tags.attempt={n}")).await;
            assert_eq!(r.body["users"], json!([]), "attempt {n}");
        }
    }
    assert_eq!(refused_writes, 1);
}

#[tokio::test]
async fn the_other_server_has_no_built_in_actions() {
    let api = other().await;
    for action in ["echo", "sum", "fail", "nope"] {
        let r = api
            .post("/v1/chat/actions", json!({ "type": action, "input": {} }))
            .await;
        assert_error(&r, 400, "InvalidPayload");
    }
}

#[tokio::test]
async fn the_other_server_keeps_no_activity_from_traffic() {
    let api = other().await;
    records(&api).await;
    api.post("/v1/chat/actions", json!({ "type": "fail", "input": {} }))
        .await;
    let bot = format!("/v1/admin/bots/{}", api.bot);
    let r = api
        .admin(Method::GET, &format!("{bot}/logs?timeStart=2020-01-01T00:00:00Z"), None)
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.body["logs"], json!([]));
    let r = api.admin(Method::GET, &format!("{bot}/issues"), None).await;
    assert_eq!(r.body["issues"], json!([]));
    let today = chrono::Utc::now().date_naive();
    let r = api
        .admin(
            Method::GET,
            &format!(
                "{bot}/analytics?startDate={today}&endDate={}",
                today + chrono::Duration::days(1)
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let record = &r.body["records"][0];
    for field in ["newUsers", "sessions", "messages", "botMessages", "events"] {
        assert_eq!(record[field], 0, "{field}: {record:#}");
    }
}

#[tokio::test]
async fn the_other_server_stores_files_on_another_origin_with_xml_errors() {
    let api = other().await;
    let storage = api
        .server
        .storage_url
        .clone()
        .expect("the other server has a storage host");
    assert_ne!(storage, api.server.url);
    let r = api
        .put(
            "/v1/files",
            json!({ "key": "hello.txt", "size": 5, "contentType": "text/plain" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let file = r.body["file"]["id"].as_str().unwrap().to_string();
    let upload = r.body["file"]["uploadUrl"].as_str().unwrap().to_string();
    assert!(upload.starts_with(&storage), "{upload}");
    assert!(
        !upload.contains("signature=") && !upload.contains("expires="),
        "{upload}"
    );

    // A tampered signature: refused in S3's words, as XML.
    let tampered = upload.replacen("X-Amz-Signature=", "X-Amz-Signature=A", 1);
    let r = api.http.put(&tampered).body("hello").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/xml");
    assert!(r.headers().get(IDENTITY_HEADER).is_none());
    let text = r.text().await.unwrap();
    assert!(text.contains("<Error><Code>AccessDenied</Code>"), "{text}");
    let r = api.http.get(format!("{storage}/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("<Code>NoSuchKey</Code>"));
    // The API's own origin does not serve content.
    let path = upload.strip_prefix(&storage).unwrap();
    let r = api.http.put(api.url(path)).body("hello").send().await.unwrap();
    assert_eq!(r.status(), 401);

    // The right URL takes the upload; the status moves on in its own time.
    let r = api
        .http
        .put(&upload)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = poll(&api, &format!("/v1/files/{file}"), "/file/status", "upload_completed").await;
    assert_eq!(r.body["file"]["status"], "upload_completed", "{:#}", r.body);
    let url = r.body["file"]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&storage) && !url.contains("expires="), "{url}");
    let r = api.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello");
    // A second upload to the same URL: refused, in XML.
    let r = api.http.put(&upload).body("hello").send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().starts_with("<?xml"));

    // A public file: a permanent URL on the storage host, signed too.
    let r = api
        .put(
            "/v1/files",
            json!({ "key": "public.txt", "size": 3, "accessPolicies": ["public_content"] }),
        )
        .await;
    let public = r.body["file"]["id"].as_str().unwrap().to_string();
    let upload = r.body["file"]["uploadUrl"].as_str().unwrap().to_string();
    let r = api.http.put(&upload).body("pub").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = poll(&api, &format!("/v1/files/{public}"), "/file/status", "upload_completed").await;
    let url = r.body["file"]["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{storage}/bp-public/")), "{url}");
    assert_eq!(api.http.get(&url).send().await.unwrap().text().await.unwrap(), "pub");
    let forged = url.replacen("X-Amz-Signature=", "X-Amz-Signature=A", 1);
    assert_eq!(api.http.get(&forged).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn the_other_server_deploys_slowly() {
    let api = other().await;
    let r = api
        .admin(Method::POST, "/v1/admin/bots", Some(json!({ "code": "x" })))
        .await;
    assert_eq!(r.body["bot"]["status"], "deploying");
    let id = r.body["bot"]["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    while Instant::now() < deadline {
        let r = api.admin(Method::GET, &format!("/v1/admin/bots/{id}"), None).await;
        if r.body["bot"]["status"] == "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(10), "the deployment ends");
}
