//! The reference server's runtime API, checked against the schemas and the documented rules.

use std::collections::HashSet;

use bpharness::server::ServerConfig;
use reqwest::Method;
use rstest::rstest;
use serde_json::{Value, json};

use crate::util::{Api, assert_error, assert_schema, state_names, tag_keys};

async fn user(api: &Api, tags: Value) -> String {
    let r = api.post("/v1/chat/users", json!({ "tags": tags })).await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    r.body["user"]["id"].as_str().unwrap().to_string()
}

async fn conversation(api: &Api, tags: Value) -> String {
    let r = api
        .post("/v1/chat/conversations", json!({ "channel": "web", "tags": tags }))
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    r.body["conversation"]["id"].as_str().unwrap().to_string()
}

/// Walks a `meta.nextToken` list to its end and returns every id, page by page.
async fn walk(api: &Api, path: &str, key: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &token {
            Some(t) => format!(
                "{path}{sep}nextToken={}",
                form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
            ),
            None => path.to_string(),
        };
        let r = api.get(&url).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        let ids: Vec<String> = r.body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        assert!(ids.len() <= 20, "page of {} items", ids.len());
        pages.push(ids);
        match r.body["meta"]["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return pages,
        }
    }
    panic!("list never ended");
}

#[tokio::test]
async fn users_success_paths() {
    let api = Api::start().await;
    api.declare(json!({ "user": { "tags": tag_keys(&["k", "n"]) } })).await;
    let r = api
        .post("/v1/chat/users", json!({ "tags": { "k": "v" }, "name": "Ada" }))
        .await;
    assert_eq!(r.status, 201);
    assert_schema("responses/createUser.json", &r.body);
    let id = r.body["user"]["id"].as_str().unwrap().to_string();

    let r = api.get(&format!("/v1/chat/users/{id}")).await;
    assert_eq!(r.status, 200);
    assert_schema("responses/getUser.json", &r.body);
    assert_eq!(r.body["user"]["name"], "Ada");

    let r = api.get("/v1/chat/users").await;
    assert_schema("responses/listUsers.json", &r.body);
    assert_eq!(r.body["users"][0]["id"], id.as_str());
    assert_eq!(r.body["meta"], json!({}));

    let r = api
        .put(
            &format!("/v1/chat/users/{id}"),
            json!({ "tags": { "k": "", "n": "1" }, "name": null }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_schema("responses/updateUser.json", &r.body);
    assert_eq!(r.body["user"]["tags"], json!({ "n": "1" }), "empty string unsets a tag");
    assert!(r.body["user"].get("name").is_none(), "null clears the name");
    assert!(r.body["user"]["updatedAt"].as_str() > r.body["user"]["createdAt"].as_str());

    let r = api.delete(&format!("/v1/chat/users/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({}));
    assert_schema("responses/deleteUser.json", &r.body);
    assert_error(&api.get(&format!("/v1/chat/users/{id}")).await, 404, "ResourceNotFound");
}

#[tokio::test]
async fn get_or_create_is_keyed_by_tags() {
    let api = Api::start().await;
    api.declare(json!({ "user": { "tags": tag_keys(&["ext", "other"]) } }))
        .await;
    let body = json!({ "tags": { "ext": "42", "other": "a" } });
    let first = api.post("/v1/chat/users/get-or-create", body.clone()).await;
    assert_eq!(first.status, 200);
    assert_schema("responses/getOrCreateUser.json", &first.body);
    let again = api.post("/v1/chat/users/get-or-create", body).await;
    assert_eq!(first.body["user"]["id"], again.body["user"]["id"]);
    let narrowed = api
        .post(
            "/v1/chat/users/get-or-create",
            json!({ "tags": { "ext": "42", "other": "b" }, "discriminateByTags": ["ext"] }),
        )
        .await;
    assert_eq!(
        narrowed.body["user"]["id"], first.body["user"]["id"],
        "only ext is compared"
    );
    let different = api
        .post("/v1/chat/users/get-or-create", json!({ "tags": { "ext": "43" } }))
        .await;
    assert_ne!(different.body["user"]["id"], first.body["user"]["id"]);
}

#[tokio::test]
async fn conversations_and_participants() {
    let api = Api::start().await;
    api.declare(json!({ "conversation": { "tags": tag_keys(&["t"]) } }))
        .await;
    let u = user(&api, json!({})).await;
    let r = api
        .post(
            "/v1/chat/conversations",
            json!({ "channel": "web", "tags": { "t": "1" } }),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_schema("responses/createConversation.json", &r.body);
    let c = r.body["conversation"]["id"].as_str().unwrap().to_string();

    let r = api
        .post(
            &format!("/v1/chat/conversations/{c}/participants"),
            json!({ "userId": u }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_schema("responses/addParticipant.json", &r.body);
    let r = api.get(&format!("/v1/chat/conversations/{c}/participants/{u}")).await;
    assert_schema("responses/getParticipant.json", &r.body);
    let r = api.get(&format!("/v1/chat/conversations/{c}/participants")).await;
    assert_schema("responses/listParticipants.json", &r.body);
    assert_eq!(r.body["participants"][0]["id"], u.as_str());

    let r = api.get(&format!("/v1/chat/users?conversationId={c}")).await;
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1);
    let r = api.get(&format!("/v1/chat/conversations?participantIds={u}")).await;
    assert_eq!(r.body["conversations"][0]["id"], c.as_str());

    let r = api
        .put(&format!("/v1/chat/conversations/{c}"), json!({ "tags": { "t": "2" } }))
        .await;
    assert_schema("responses/updateConversation.json", &r.body);
    assert_eq!(r.body["conversation"]["tags"]["t"], "2");
    let r = api.get(&format!("/v1/chat/conversations/{c}")).await;
    assert_schema("responses/getConversation.json", &r.body);

    let r = api
        .post(
            "/v1/chat/conversations/get-or-create",
            json!({ "channel": "web", "tags": { "t": "2" } }),
        )
        .await;
    assert_schema("responses/getOrCreateConversation.json", &r.body);
    assert_eq!(r.body["conversation"]["id"], c.as_str());

    let r = api
        .call(
            Method::DELETE,
            &format!("/v1/chat/conversations/{c}/participants/{u}"),
            None,
        )
        .await;
    assert_eq!(r.body, json!({}));
    assert_error(
        &api.get(&format!("/v1/chat/conversations/{c}/participants/{u}")).await,
        404,
        "ResourceNotFound",
    );
    assert_error(
        &api.post(
            &format!("/v1/chat/conversations/{c}/participants"),
            json!({ "userId": "user_01NOSUCHUSER0000000000000000" }),
        )
        .await,
        400,
        "ReferenceNotFound",
    );
}

#[tokio::test]
async fn delete_conversation_removes_its_messages() {
    let api = Api::start().await;
    let u = user(&api, json!({})).await;
    let c = conversation(&api, json!({})).await;
    let m = api
        .post(
            "/v1/chat/messages",
            json!({ "conversationId": c, "userId": u, "type": "text", "payload": { "text": "hi" }, "tags": {} }),
        )
        .await;
    assert_eq!(m.status, 201);
    let mid = m.body["message"]["id"].as_str().unwrap();
    assert_eq!(api.delete(&format!("/v1/chat/conversations/{c}")).await.status, 200);
    assert_error(
        &api.get(&format!("/v1/chat/messages/{mid}")).await,
        404,
        "ResourceNotFound",
    );
    assert_error(
        &api.get(&format!("/v1/chat/conversations/{c}")).await,
        404,
        "ResourceNotFound",
    );
}

#[tokio::test]
async fn messages_success_paths() {
    let api = Api::start().await;
    api.declare(json!({ "message": { "tags": tag_keys(&["k"]) } })).await;
    let u = user(&api, json!({})).await;
    let c = conversation(&api, json!({})).await;
    let body =
        json!({ "conversationId": c, "userId": u, "type": "text", "payload": { "text": "hi" }, "tags": { "k": "1" } });
    let r = api.post("/v1/chat/messages", body.clone()).await;
    assert_eq!(r.status, 201);
    assert_schema("responses/createMessage.json", &r.body);
    assert_eq!(r.body["message"]["direction"], "outgoing");
    let id = r.body["message"]["id"].as_str().unwrap().to_string();
    let r = api.post("/v1/chat/messages/get-or-create", body).await;
    assert_eq!(r.status, 200);
    assert_schema("responses/getOrCreateMessage.json", &r.body);
    assert_eq!(r.body["message"]["id"], id.as_str());
    let r = api.get(&format!("/v1/chat/messages/{id}")).await;
    assert_schema("responses/getMessage.json", &r.body);
    let r = api
        .put(
            &format!("/v1/chat/messages/{id}"),
            json!({ "tags": {}, "payload": { "text": "edited" } }),
        )
        .await;
    assert_schema("responses/updateMessage.json", &r.body);
    assert_eq!(r.body["message"]["payload"]["text"], "edited");
    let r = api.get(&format!("/v1/chat/messages?conversationId={c}&tags.k=1")).await;
    assert_schema("responses/listMessages.json", &r.body);
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 1);
    let r = api.delete(&format!("/v1/chat/messages/{id}")).await;
    assert_schema("responses/deleteMessage.json", &r.body);
    assert_error(
        &api.post(
            "/v1/chat/messages",
            json!({ "conversationId": c, "userId": "user_01NOSUCHUSER0000000000000000", "type": "text", "payload": {}, "tags": {} }),
        )
        .await,
        400,
        "ReferenceNotFound",
    );
}

#[tokio::test]
async fn events_and_schedules() {
    // Events are done an hour after they are pending: this test sees them pending.
    let api = Api::start_with(ServerConfig {
        event_delay: std::time::Duration::from_secs(3600),
        ..ServerConfig::default()
    })
    .await;
    let r = api
        .post("/v1/chat/events", json!({ "type": "custom", "payload": { "a": 1 } }))
        .await;
    assert_eq!(r.status, 201);
    assert_schema("responses/createEvent.json", &r.body);
    assert_eq!(r.body["event"]["status"], "pending");
    assert_eq!(r.body["event"]["failureReason"], Value::Null);
    let id = r.body["event"]["id"].as_str().unwrap().to_string();
    let r = api.get(&format!("/v1/chat/events/{id}")).await;
    assert_schema("responses/getEvent.json", &r.body);

    let later = api
        .post(
            "/v1/chat/events",
            json!({ "type": "custom", "payload": {}, "schedule": { "delay": 3_600_000 } }),
        )
        .await;
    assert_eq!(later.body["event"]["status"], "scheduled");
    let due = api
        .post(
            "/v1/chat/events",
            json!({ "type": "custom", "payload": {}, "schedule": { "delay": 0 } }),
        )
        .await;
    let due_id = due.body["event"]["id"].as_str().unwrap();
    let r = api.get(&format!("/v1/chat/events/{due_id}")).await;
    assert_eq!(r.body["event"]["status"], "pending", "a due event moves on");

    let r = api.get("/v1/chat/events?status=scheduled").await;
    assert_schema("responses/listEvents.json", &r.body);
    assert_eq!(r.body["events"].as_array().unwrap().len(), 1);
    assert_error(&api.get("/v1/chat/events?status=canceled").await, 400, "InvalidQuery");
}

#[tokio::test]
async fn states_set_get_patch_and_expire() {
    let api = Api::start().await;
    api.declare(json!({ "states": state_names("user", &["prefs", "short"]) }))
        .await;
    let u = user(&api, json!({})).await;
    let path = format!("/v1/chat/states/user/{u}/prefs");
    assert_error(&api.get(&path).await, 404, "ResourceNotFound");
    let r = api.post(&path, json!({ "payload": { "a": 1, "b": 2 } })).await;
    assert_eq!(r.status, 200);
    assert_schema("responses/setState.json", &r.body);
    assert_eq!(r.body["state"]["userId"], u.as_str());
    let r = api
        .call(Method::PATCH, &path, Some(json!({ "payload": { "b": 3, "c": 4 } })))
        .await;
    assert_schema("responses/patchState.json", &r.body);
    assert_eq!(r.body["state"]["payload"], json!({ "a": 1, "b": 3, "c": 4 }));
    let r = api.get(&path).await;
    assert_schema("responses/getState.json", &r.body);
    let r = api
        .post(&format!("{path}/get-or-set"), json!({ "payload": { "z": 0 } }))
        .await;
    assert_schema("responses/getOrSetState.json", &r.body);
    assert_eq!(
        r.body["state"]["payload"],
        json!({ "a": 1, "b": 3, "c": 4 }),
        "existing state untouched"
    );

    let short = format!("/v1/chat/states/user/{u}/short");
    api.post(&short, json!({ "payload": {}, "expiry": 1 })).await;
    // Expiry is 1 ms: poll until the server says it is gone (never a fixed sleep).
    let mut gone = false;
    for _ in 0..1000 {
        if api.get(&short).await.status == 404 {
            gone = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(gone, "an expired state answers 404");
    assert_error(
        &api.get("/v1/chat/states/user/user_01NOSUCHUSER0000000000000000/prefs")
            .await,
        404,
        "ResourceNotFound",
    );
    assert_error(
        &api.get(&format!("/v1/chat/states/planet/{u}/prefs")).await,
        400,
        "InvalidPayload",
    );
}

#[rstest]
#[case("echo", json!({ "x": 1 }), 200, None)]
#[case("sum", json!({ "numbers": [1, 2, 3.5] }), 200, None)]
#[case("sum", json!({ "numbers": "nope" }), 400, Some("InvalidDataFormat"))]
#[case("fail", json!({ "message": "boom" }), 400, Some("Runtime"))]
#[case("nope", json!({}), 404, Some("ResourceNotFound"))]
#[tokio::test]
async fn actions(#[case] kind: &str, #[case] input: Value, #[case] status: u16, #[case] error: Option<&str>) {
    let api = Api::start().await;
    let r = api
        .post("/v1/chat/actions", json!({ "type": kind, "input": input }))
        .await;
    match error {
        None => {
            assert_eq!(r.status, status);
            assert_schema("responses/callAction.json", &r.body);
        }
        Some(ty) => assert_error(&r, status, ty),
    }
}

#[tokio::test]
async fn echo_is_cached_on_the_second_call() {
    let api = Api::start().await;
    let body = json!({ "type": "echo", "input": { "x": 1 } });
    let first = api.post("/v1/chat/actions", body.clone()).await;
    let second = api.post("/v1/chat/actions", body).await;
    assert_eq!(first.body, json!({ "output": { "x": 1 }, "meta": { "cached": false } }));
    assert_eq!(second.body["meta"]["cached"], true);
}

#[rstest]
#[case::missing_required(json!({ "name": "x" }), "tags")]
#[case::wrong_type(json!({ "tags": {}, "name": 5 }), "name")]
#[case::too_long(json!({ "tags": { "k": "x".repeat(501) } }), "tags.k")]
#[case::unknown_key(json!({ "tags": {}, "nickname": "x" }), "nickname")]
#[tokio::test]
async fn bad_bodies_are_invalid_payload_naming_the_field(#[case] body: Value, #[case] field: &str) {
    let api = Api::start().await;
    let r = api.post("/v1/chat/users", body).await;
    assert_error(&r, 400, "InvalidPayload");
    assert!(
        r.body["message"].as_str().unwrap().contains(field),
        "{}",
        r.body["message"]
    );
}

#[tokio::test]
async fn transport_errors_have_the_documented_bodies() {
    let api = Api::start_with(ServerConfig {
        max_body_bytes: 1024,
        ..ServerConfig::default()
    })
    .await;
    let send = |req: reqwest::RequestBuilder| async move { crate::util::into_reply(req.send().await.unwrap()).await };
    let base = || {
        api.http
            .post(api.url("/v1/chat/users"))
            .bearer_auth(&api.token)
            .header("x-bot-id", &api.bot)
    };

    assert_error(
        &send(api.http.get(api.url("/v1/chat/users"))).await,
        401,
        "Unauthorized",
    );
    assert_error(
        &send(
            api.http
                .get(api.url("/v1/chat/users"))
                .bearer_auth("bp_pat_nope")
                .header("x-bot-id", &api.bot),
        )
        .await,
        401,
        "Unauthorized",
    );
    assert_error(
        &send(api.http.get(api.url("/v1/chat/users")).bearer_auth(&api.token)).await,
        400,
        "InvalidPayload",
    );
    assert_error(
        &send(base().header("content-type", "application/json").body("{\"tags\": ")).await,
        400,
        "InvalidPayload",
    );
    assert_error(
        &send(base().header("content-type", "text/plain").body("{}")).await,
        415,
        "UnsupportedMediaType",
    );
    assert_error(
        &send(base().json(&json!({ "tags": {}, "name": "x".repeat(2000) }))).await,
        413,
        "PayloadTooLarge",
    );
    assert_error(&api.get("/v1/chat/nothing-here").await, 404, "ResourceNotFound");
    assert_error(
        &api.call(Method::PATCH, "/v1/chat/users", None).await,
        405,
        "MethodNotFound",
    );
    assert_error(&api.get("/v1/chat/users?sortField=name").await, 400, "InvalidQuery");
    assert_error(
        &api.get("/v1/chat/users?afterDate=yesterday").await,
        400,
        "InvalidQuery",
    );
    assert_error(&api.get("/v1/chat/users?nextToken=forged").await, 400, "InvalidQuery");
}

#[tokio::test]
async fn delete_accepts_a_json_body_as_the_client_sends_it() {
    let api = Api::start().await;
    let u = user(&api, json!({})).await;
    let r = api.delete(&format!("/v1/chat/users/{u}")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn pagination_walks_every_item_once_while_items_are_created() {
    let api = Api::start().await;
    api.declare(json!({ "user": { "tags": tag_keys(&["walk"]) } })).await;
    let mut created = HashSet::new();
    for _ in 0..45 {
        created.insert(user(&api, json!({ "walk": "yes" })).await);
    }
    // Concurrent inserts while the walk runs: they must not disturb it.
    let writer = {
        let http = api.http.clone();
        let (url, token, bot) = (api.url("/v1/chat/users"), api.token.clone(), api.bot.clone());
        tokio::spawn(async move {
            for _ in 0..30 {
                http.post(&url)
                    .bearer_auth(&token)
                    .header("x-bot-id", &bot)
                    .json(&json!({ "tags": { "walk": "yes" } }))
                    .send()
                    .await
                    .unwrap();
            }
        })
    };
    let pages = walk(&api, "/v1/chat/users?tags.walk=yes", "users").await;
    writer.await.unwrap();
    assert!(pages.len() >= 3, "45 items are at least three pages of 20");
    let all: Vec<String> = pages.concat();
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "no item twice");
    assert!(
        created.is_subset(&unique),
        "every item that existed before the walk is seen"
    );
}

#[tokio::test]
async fn lists_are_newest_first_and_sortable() {
    let api = Api::start().await;
    let ids = [
        user(&api, json!({})).await,
        user(&api, json!({})).await,
        user(&api, json!({})).await,
    ];
    let r = api.get("/v1/chat/users").await;
    let listed: Vec<_> = r.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]);
    let r = api.get("/v1/chat/users?sortDirection=asc").await;
    assert_eq!(r.body["users"][0]["id"], ids[0].as_str());
    api.put(&format!("/v1/chat/users/{}", ids[0]), json!({ "name": "touched" }))
        .await;
    let r = api.get("/v1/chat/users?sortField=updatedAt").await;
    assert_eq!(r.body["users"][0]["id"], ids[0].as_str());
}

#[tokio::test]
async fn tokens_are_bound_to_bot_and_filters() {
    let api = Api::start().await;
    api.declare(json!({ "user": { "tags": tag_keys(&["a"]) } })).await;
    for _ in 0..25 {
        user(&api, json!({ "a": "1" })).await;
    }
    let r = api.get("/v1/chat/users?tags.a=1").await;
    let token = r.body["meta"]["nextToken"].as_str().unwrap().to_string();
    let enc: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    assert_eq!(
        api.get(&format!("/v1/chat/users?tags.a=1&nextToken={enc}"))
            .await
            .status,
        200
    );
    assert_error(
        &api.get(&format!("/v1/chat/users?tags.a=2&nextToken={enc}")).await,
        400,
        "InvalidQuery",
    );
    let other = api.server.seeds().other_bot_id.clone();
    let r = api
        .call_as(
            &api.token,
            &other,
            Method::GET,
            &format!("/v1/chat/users?tags.a=1&nextToken={enc}"),
            None,
        )
        .await;
    assert_error(&r, 400, "InvalidQuery");
}

#[tokio::test]
async fn bots_are_isolated() {
    let api = Api::start().await;
    api.declare(json!({ "user": { "tags": tag_keys(&["mine"]) } })).await;
    let seeds = api.server.seeds().clone();
    let u = user(&api, json!({ "mine": "1" })).await;
    let r = api
        .call_as(
            &api.token,
            &seeds.other_bot_id,
            Method::GET,
            &format!("/v1/chat/users/{u}"),
            None,
        )
        .await;
    assert_error(&r, 404, "ResourceNotFound");
    let r = api
        .call_as(&api.token, &seeds.other_bot_id, Method::GET, "/v1/chat/users", None)
        .await;
    assert_eq!(r.body["users"], json!([]));
    let r = api
        .call_as(
            &seeds.other_workspace_token,
            &seeds.bot_id,
            Method::GET,
            "/v1/chat/users",
            None,
        )
        .await;
    assert_error(&r, 403, "Forbidden");
    let r = api
        .call_as(
            &api.token,
            "bot_01NOSUCHBOT00000000000000000",
            Method::GET,
            "/v1/chat/users",
            None,
        )
        .await;
    assert_error(&r, 404, "ResourceNotFound");
}

#[tokio::test]
async fn concurrent_message_creation_loses_nothing() {
    let api = Api::start().await;
    let u = user(&api, json!({})).await;
    let c = conversation(&api, json!({})).await;
    let mut tasks = Vec::new();
    for i in 0..500 {
        let http = api.http.clone();
        let (url, token, bot) = (api.url("/v1/chat/messages"), api.token.clone(), api.bot.clone());
        let body = json!({ "conversationId": c, "userId": u, "type": "text", "payload": { "i": i }, "tags": {} });
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .header("x-bot-id", bot)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let pages = walk(&api, &format!("/v1/chat/messages?conversationId={c}"), "messages").await;
    let all: HashSet<String> = pages.concat().into_iter().collect();
    assert_eq!(all.len(), 500);
}

#[tokio::test]
async fn concurrent_patches_on_distinct_keys_lose_no_key() {
    let api = Api::start().await;
    api.declare(json!({ "states": state_names("user", &["counters"]) }))
        .await;
    let u = user(&api, json!({})).await;
    let path = format!("/v1/chat/states/user/{u}/counters");
    api.post(&path, json!({ "payload": {} })).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let http = api.http.clone();
        let (url, token, bot) = (api.url(&path), api.token.clone(), api.bot.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "payload": { format!("k{i}"): i } });
            http.patch(url)
                .bearer_auth(token)
                .header("x-bot-id", bot)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let r = api.get(&path).await;
    assert_eq!(r.body["state"]["payload"].as_object().unwrap().len(), 200);
}

/// Found by tests/fuzz_server.rs: a delay past the last representable date panicked the
/// handler.
#[tokio::test]
async fn a_schedule_past_the_end_of_time_is_invalid() {
    let api = Api::start().await;
    let r = api
        .post(
            "/v1/chat/events",
            json!({ "type": "custom", "payload": {}, "schedule": { "delay": 1e300 } }),
        )
        .await;
    assert_error(&r, 400, "InvalidPayload");
    assert!(
        r.body["message"].as_str().unwrap().contains("schedule.delay"),
        "{:#}",
        r.body
    );
}
