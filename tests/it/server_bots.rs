//! The reference server's bot admin API: the ten operations, their errors, workspace
//! isolation, deployment status, and logs, analytics and issues derived from real traffic.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bpharness::server::ServerConfig;
use reqwest::Method;
use rstest::rstest;
use serde_json::{Value, json};

use crate::util::{Api, Reply, assert_error, assert_schema};

const NO_BOT: &str = "bot_01NOSUCHBOT00000000000000000";

fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn create_bot(api: &Api, body: Value) -> Value {
    let r = api.admin(Method::POST, "/v1/admin/bots", Some(body)).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/createBot.json", &r.body);
    r.body["bot"].clone()
}

async fn get_bot(api: &Api, id: &str) -> Reply {
    api.admin(Method::GET, &format!("/v1/admin/bots/{id}"), None).await
}

/// Polls getBot until the status is `wanted`; panics after a few seconds.
async fn wait_status(api: &Api, id: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = get_bot(api, id).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        if r.body["bot"]["status"] == wanted {
            return r.body["bot"].clone();
        }
        assert!(Instant::now() < deadline, "bot never became {wanted}: {:#}", r.body);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Walks a list to its end: `meta.nextToken` lists, or the top-level token of getBotLogs.
async fn walk(api: &Api, path: &str, key: &str, top_level: bool) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &token {
            Some(t) => format!("{path}{sep}nextToken={}", enc(t)),
            None => path.to_string(),
        };
        let r = api.admin(Method::GET, &url, None).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        let items = r.body[key].as_array().unwrap().clone();
        assert!(items.len() <= 20, "page of {} items", items.len());
        pages.push(items);
        let next = if top_level {
            assert!(r.body.get("meta").is_none(), "getBotLogs has no meta: {:#}", r.body);
            r.body["nextToken"].as_str()
        } else {
            r.body["meta"]["nextToken"].as_str()
        };
        match next {
            Some(t) => token = Some(t.to_string()),
            None => return pages,
        }
    }
    panic!("list never ended");
}

fn ids(pages: &[Vec<Value>]) -> Vec<String> {
    pages
        .iter()
        .flatten()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_operation_on_its_success_path() {
    let api = Api::start().await;
    let bot = create_bot(
        &api,
        json!({
            "name": "Support",
            "tags": { "team": "care" },
            "states": { "prefs": { "type": "user", "schema": { "type": "object" } } },
            "events": { "orderPlaced": { "schema": { "type": "object" }, "attributes": { "a": "1" } } },
            "actions": { "lookup": { "input": { "schema": {} }, "output": { "schema": {} } } },
            "recurringEvents": { "daily": { "schedule": { "cron": "0 0 * * *" }, "type": "tick", "payload": {} } },
            "code": "export default {}",
        }),
    )
    .await;
    let id = bot["id"].as_str().unwrap().to_string();
    assert_eq!(bot["name"], "Support");
    assert_eq!(bot["status"], "deploying");
    assert_eq!(bot["dev"], false);
    assert_eq!(bot["integrations"], json!({}));
    assert_eq!(bot["subscriptions"], json!({ "events": null }));
    assert_eq!(bot["configuration"], json!({ "data": {}, "schema": {} }));
    assert_eq!(bot["recurringEvents"]["daily"]["failedAttempts"], 0);
    assert!(bot.get("deployedAt").is_none());

    let r = get_bot(&api, &id).await;
    assert_schema("responses/getBot.json", &r.body);
    let r = api.admin(Method::GET, "/v1/admin/bots", None).await;
    assert_schema("responses/listBots.json", &r.body);
    assert_eq!(r.body["bots"][0]["id"], id.as_str());

    let r = api
        .admin(
            Method::PUT,
            &format!("/v1/admin/bots/{id}"),
            Some(json!({
                "description": "helps",
                "tags": { "team": "", "tier": "1" },
                "states": { "prefs": null },
                "events": { "orderPlaced": { "schema": {}, "attributes": { "a": null, "b": "2" } } },
                "alwaysAlive": true,
                "maxExecutionTime": 30,
                "subscriptions": { "events": { "orderPlaced": {} } },
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/updateBot.json", &r.body);
    let b = &r.body["bot"];
    assert_eq!(b["name"], "Support", "untouched fields stay");
    assert_eq!(b["tags"], json!({ "tier": "1" }));
    assert_eq!(b["states"], json!({}));
    assert_eq!(b["events"]["orderPlaced"]["attributes"], json!({ "b": "2" }));
    assert_eq!(b["actions"]["lookup"]["input"], json!({ "schema": {} }));
    assert_eq!(
        (b["alwaysAlive"].clone(), b["maxExecutionTime"].clone()),
        (json!(true), json!(30))
    );
    assert_eq!(b["subscriptions"], json!({ "events": { "orderPlaced": {} } }));
    assert!(b["updatedAt"].as_str() > bot["updatedAt"].as_str());

    let since = enc(bot["createdAt"].as_str().unwrap());
    let r = api
        .admin(
            Method::GET,
            &format!("/v1/admin/bots/{id}/logs?timeStart={since}"),
            None,
        )
        .await;
    assert_schema("responses/getBotLogs.json", &r.body);
    let r = api
        .admin(
            Method::GET,
            &format!("/v1/admin/bots/{id}/analytics?startDate={since}&endDate=2100-01-01"),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "more than a year of records is refused");
    let r = api
        .admin(Method::GET, &format!("/v1/admin/bots/{id}/issues"), None)
        .await;
    assert_schema("responses/listBotIssues.json", &r.body);
    assert_eq!(r.body, json!({ "issues": [], "meta": {} }));

    let r = api
        .admin(Method::DELETE, &format!("/v1/admin/bots/{id}"), Some(json!({})))
        .await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({})));
    assert_error(&get_bot(&api, &id).await, 404, "ResourceNotFound");
}

#[tokio::test]
async fn seeded_bots_are_records_of_their_workspace() {
    let api = Api::start().await;
    let seeds = api.server.seeds().clone();
    let listed = ids(&walk(&api, "/v1/admin/bots", "bots", false).await);
    assert!(listed.contains(&seeds.bot_id) && listed.contains(&seeds.other_bot_id));
    assert!(!listed.contains(&seeds.other_workspace_bot_id));
    let bot = get_bot(&api, &seeds.bot_id).await;
    assert_schema("responses/getBot.json", &bot.body);
    assert_eq!(bot.body["bot"]["status"], "active");
    assert!(bot.body["bot"]["deployedAt"].is_string());
}

#[tokio::test]
async fn status_moves_from_deploying_to_active_on_create_and_on_new_code() {
    let api = Api::start_with(ServerConfig {
        deploy_delay: Duration::from_millis(100),
        ..ServerConfig::default()
    })
    .await;
    let bot = create_bot(&api, json!({ "code": "v1" })).await;
    let id = bot["id"].as_str().unwrap();
    assert_eq!(bot["status"], "deploying");
    let active = wait_status(&api, id, "active").await;
    let first = active["deployedAt"].as_str().unwrap().to_string();
    assert!(first.as_str() >= bot["createdAt"].as_str().unwrap());

    let path = format!("/v1/admin/bots/{id}");
    let r = api
        .admin(Method::PUT, &path, Some(json!({ "name": "same code", "code": "v1" })))
        .await;
    assert_eq!(r.body["bot"]["status"], "active", "no new code, no deployment");
    let r = api.admin(Method::PUT, &path, Some(json!({ "code": "v2" }))).await;
    assert_eq!(r.body["bot"]["status"], "deploying");
    assert_eq!(
        r.body["bot"]["deployedAt"],
        first.as_str(),
        "the last deployment until the new one ends"
    );
    let active = wait_status(&api, id, "active").await;
    assert!(active["deployedAt"].as_str().unwrap() > first.as_str());
}

#[tokio::test]
async fn a_new_bot_works_at_once_on_the_runtime_and_not_after_delete() {
    let api = Api::start().await;
    let bot = create_bot(&api, json!({})).await;
    let id = bot["id"].as_str().unwrap();
    let r = api
        .call_as(
            &api.token,
            id,
            Method::POST,
            "/v1/chat/users",
            Some(json!({ "tags": {} })),
        )
        .await;
    assert_eq!(r.status, 201, "{:#}", r.body);
    let user = r.body["user"]["id"].as_str().unwrap().to_string();
    let r = api
        .call_as(
            &api.token,
            &api.bot,
            Method::GET,
            &format!("/v1/chat/users/{user}"),
            None,
        )
        .await;
    assert_error(&r, 404, "ResourceNotFound");

    api.admin(Method::DELETE, &format!("/v1/admin/bots/{id}"), None).await;
    let r = api
        .call_as(&api.token, id, Method::GET, &format!("/v1/chat/users/{user}"), None)
        .await;
    assert_error(&r, 404, "ResourceNotFound");
    assert!(r.body["message"].as_str().unwrap().contains("bot"));
    for path in ["", "/logs?timeStart=2020-01-01T00:00:00Z", "/issues"] {
        let r = api
            .admin(Method::GET, &format!("/v1/admin/bots/{id}{path}"), None)
            .await;
        assert_error(&r, 404, "ResourceNotFound");
    }
}

#[rstest]
#[case::unknown_key(json!({ "nickname": "x" }), "InvalidPayload", "nickname")]
#[case::wrong_type(json!({ "name": 5 }), "InvalidPayload", "name")]
#[case::empty_name(json!({ "name": "" }), "InvalidPayload", "name")]
#[case::bad_state_type(json!({ "states": { "ok": { "type": "nope", "schema": {} } } }), "InvalidPayload", "states.ok.type")]
#[case::state_name(json!({ "states": { "Bad-Name": { "type": "user", "schema": {} } } }), "InvalidIdentifier", "states.Bad-Name")]
#[case::event_name(json!({ "events": { "x": { "schema": {} } } }), "InvalidIdentifier", "events.x")]
#[case::action_name(json!({ "actions": { "9lives": { "input": { "schema": {} }, "output": { "schema": {} } } } }), "InvalidIdentifier", "actions.9lives")]
#[case::state_schema(json!({ "states": { "prefs": { "type": "user", "schema": { "type": "nope" } } } }), "InvalidJsonSchema", "states.prefs.schema")]
#[case::action_schema(json!({ "actions": { "lookup": { "input": { "schema": { "minLength": -1 } }, "output": { "schema": {} } } } }), "InvalidJsonSchema", "actions.lookup.input.schema")]
#[case::config_schema(json!({ "configuration": { "schema": { "required": "k" } } }), "InvalidJsonSchema", "configuration.schema")]
#[case::config_data(json!({ "configuration": { "schema": { "required": ["k"] }, "data": {} } }), "InvalidDataFormat", "configuration.data")]
#[tokio::test]
async fn create_and_update_refuse_bad_definitions(#[case] body: Value, #[case] ty: &str, #[case] field: &str) {
    let api = Api::start().await;
    let r = api.admin(Method::POST, "/v1/admin/bots", Some(body.clone())).await;
    assert_error(&r, 400, ty);
    assert!(r.body["message"].as_str().unwrap().contains(field), "{:#}", r.body);
    let path = format!("/v1/admin/bots/{}", api.bot);
    let before = get_bot(&api, &api.bot).await;
    let r = api.admin(Method::PUT, &path, Some(body)).await;
    assert_error(&r, 400, ty);
    let after = get_bot(&api, &api.bot).await;
    assert_eq!(
        after.body["bot"]["states"], before.body["bot"]["states"],
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn installing_an_integration_is_a_missing_reference() {
    let api = Api::start().await;
    let path = format!("/v1/admin/bots/{}", api.bot);
    let r = api
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "integrations": { "telegram": { "enabled": true } } })),
        )
        .await;
    assert_error(&r, 400, "ReferenceNotFound");
    let r = api
        .admin(
            Method::PUT,
            &path,
            Some(json!({ "integrations": { "telegram": null } })),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn workspaces_are_isolated() {
    let api = Api::start().await;
    let seeds = api.server.seeds().clone();
    let r = api
        .admin_as(&api.token, None, Method::GET, "/v1/admin/bots", None)
        .await;
    assert_error(&r, 400, "InvalidPayload");
    assert!(r.body["message"].as_str().unwrap().contains("x-workspace-id"));
    for (method, path) in [
        (Method::GET, "/v1/admin/bots".to_string()),
        (Method::POST, "/v1/admin/bots".to_string()),
        (Method::GET, format!("/v1/admin/bots/{}", seeds.other_workspace_bot_id)),
    ] {
        let r = api
            .admin_as(
                &api.token,
                Some(&seeds.other_workspace_id),
                method,
                &path,
                Some(json!({})),
            )
            .await;
        assert_error(&r, 403, "Forbidden");
    }
    let other = &seeds.other_workspace_token;
    let theirs = Some(seeds.other_workspace_id.as_str());
    let r = api.admin_as(other, theirs, Method::GET, "/v1/admin/bots", None).await;
    assert_eq!(
        ids(&[r.body["bots"].as_array().unwrap().clone()]),
        [seeds.other_workspace_bot_id.as_str()]
    );
    for (method, path) in [
        (Method::GET, format!("/v1/admin/bots/{}", seeds.bot_id)),
        (Method::PUT, format!("/v1/admin/bots/{}", seeds.bot_id)),
        (Method::DELETE, format!("/v1/admin/bots/{}", seeds.bot_id)),
        (Method::GET, format!("/v1/admin/bots/{}/issues", seeds.bot_id)),
    ] {
        let r = api.admin_as(other, theirs, method, &path, Some(json!({}))).await;
        assert_error(&r, 404, "ResourceNotFound");
    }
    let r = get_bot(&api, &seeds.other_workspace_bot_id).await;
    assert_error(&r, 404, "ResourceNotFound");
    assert_eq!(get_bot(&api, &seeds.bot_id).await.status, 200, "our bot survived");
}

#[rstest]
#[case::get(Method::GET, "")]
#[case::update(Method::PUT, "")]
#[case::delete(Method::DELETE, "")]
#[case::logs(Method::GET, "/logs?timeStart=2020-01-01T00:00:00Z")]
#[case::analytics(Method::GET, "/analytics?startDate=2025-01-01&endDate=2025-01-02")]
#[case::issues(Method::GET, "/issues")]
#[case::delete_issue(Method::DELETE, "/issues/issue_x")]
#[case::issue_events(Method::GET, "/issues/issue_x/events")]
#[tokio::test]
async fn unknown_bots_and_issues_are_not_found(#[case] method: Method, #[case] rest: &str) {
    let api = Api::start().await;
    let r = api
        .admin(
            method.clone(),
            &format!("/v1/admin/bots/{NO_BOT}{rest}"),
            Some(json!({})),
        )
        .await;
    assert_error(&r, 404, "ResourceNotFound");
    if rest.starts_with("/issues/") {
        let r = api
            .admin(method, &format!("/v1/admin/bots/{}{rest}", api.bot), Some(json!({})))
            .await;
        assert_error(&r, 404, "ResourceNotFound");
        assert!(r.body["message"].as_str().unwrap().contains("issue"));
    }
}

#[rstest]
#[case::no_time_start("/logs", "timeStart")]
#[case::bad_time_start("/logs?timeStart=yesterday", "timeStart")]
#[case::bad_time_end("/logs?timeStart=2020-01-01T00:00:00Z&timeEnd=soon", "timeEnd")]
#[case::no_end_date("/analytics?startDate=2025-01-01", "endDate")]
#[case::no_start_date("/analytics?endDate=2025-01-01", "startDate")]
#[case::reversed("/analytics?startDate=2025-01-02&endDate=2025-01-01", "endDate")]
#[case::bad_token("/issues?nextToken=nope", "nextToken")]
#[tokio::test]
async fn bad_queries_are_invalid_query(#[case] rest: &str, #[case] field: &str) {
    let api = Api::start().await;
    let r = api
        .admin(Method::GET, &format!("/v1/admin/bots/{}{rest}", api.bot), None)
        .await;
    assert_error(&r, 400, "InvalidQuery");
    assert!(r.body["message"].as_str().unwrap().contains(field), "{:#}", r.body);
}

#[tokio::test]
async fn list_bots_pages_filters_and_sorts() {
    let api = Api::start().await;
    let mut created = Vec::new();
    for i in 0..25 {
        let bot = create_bot(&api, json!({ "name": format!("b{i}"), "tags": { "suite": "paging" } })).await;
        created.push(bot["id"].as_str().unwrap().to_string());
    }
    let dev = create_bot(&api, json!({ "dev": true, "tags": { "suite": "paging" } })).await;
    for query in [
        "tags.suite=paging",
        "tags%5Bsuite%5D=paging",
        "tags=%7B%22suite%22%3A%22paging%22%7D",
    ] {
        let pages = walk(&api, &format!("/v1/admin/bots?{query}"), "bots", false).await;
        assert_eq!(pages.len(), 2, "{query}");
        let listed = ids(&pages);
        let mut newest_first = created.clone();
        newest_first.reverse();
        assert_eq!(listed, newest_first, "{query}");
    }
    let asc = walk(
        &api,
        "/v1/admin/bots?tags.suite=paging&sortDirection=asc",
        "bots",
        false,
    )
    .await;
    assert_eq!(ids(&asc), created);
    let r = api
        .admin(Method::GET, "/v1/admin/bots?dev=true&tags.suite=paging", None)
        .await;
    assert_eq!(
        ids(&[r.body["bots"].as_array().unwrap().clone()]),
        [dev["id"].as_str().unwrap()]
    );
    let r = api.admin(Method::GET, "/v1/admin/bots?dev=maybe", None).await;
    assert_error(&r, 400, "InvalidQuery");
}

#[tokio::test]
async fn logs_come_from_runtime_traffic() {
    let api = Api::start().await;
    let bot = create_bot(&api, json!({})).await;
    let id = bot["id"].as_str().unwrap().to_string();
    let since = enc(bot["createdAt"].as_str().unwrap());
    let as_bot = |method: Method, path: &'static str, body: Option<Value>| {
        let (api, id) = (&api, id.clone());
        async move { api.call_as(&api.token, &id, method, path, body).await }
    };
    let user = as_bot(Method::POST, "/v1/chat/users", Some(json!({ "tags": {} }))).await;
    let user = user.body["user"]["id"].as_str().unwrap().to_string();
    let conv = as_bot(
        Method::POST,
        "/v1/chat/conversations",
        Some(json!({ "channel": "web", "tags": {} })),
    )
    .await;
    let conv = conv.body["conversation"]["id"].as_str().unwrap().to_string();
    let r = api
        .call_as(
            &api.token,
            &id,
            Method::POST,
            "/v1/chat/events",
            Some(json!({ "type": "ping", "payload": {}, "userId": user, "workflowId": "wflow_01WORKFLOW0000000000000001" })),
        )
        .await;
    assert_eq!(r.status, 201);
    let missing = as_bot(Method::GET, "/v1/chat/messages/msg_01NOSUCHMESSAGE000000000000", None).await;
    assert_eq!(missing.status, 404);

    let logs = format!("/v1/admin/bots/{id}/logs?timeStart={since}");
    let r = api.admin(Method::GET, &logs, None).await;
    assert_schema("responses/getBotLogs.json", &r.body);
    let lines = r.body["logs"].as_array().unwrap();
    assert_eq!(lines.len(), 4, "{:#}", r.body);
    assert_eq!(lines[0]["level"], "warn");
    assert!(lines[0]["message"].as_str().unwrap().contains("getMessage"));
    assert!(lines[0]["message"].as_str().unwrap().contains("ResourceNotFound"));
    assert_eq!(lines[1]["workflowId"], "wflow_01WORKFLOW0000000000000001");
    assert_eq!(lines[3]["level"], "info");
    let stamps: Vec<&str> = lines.iter().map(|l| l["timestamp"].as_str().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "newest first: {stamps:?}");

    let count = |query: String| {
        let api = &api;
        async move {
            let r = api.admin(Method::GET, &query, None).await;
            assert_eq!(r.status, 200, "{:#}", r.body);
            r.body["logs"].as_array().unwrap().len()
        }
    };
    assert_eq!(count(format!("{logs}&userId={user}")).await, 1);
    assert_eq!(
        count(format!("{logs}&conversationId={conv}")).await,
        0,
        "createConversation names none"
    );
    assert_eq!(
        count(format!("{logs}&workflowId=wflow_01WORKFLOW0000000000000001")).await,
        1
    );
    assert_eq!(count(format!("{logs}&level=warn")).await, 1);
    assert_eq!(count(format!("{logs}&messageContains=createUser")).await, 1);
    assert_eq!(count(format!("{logs}&timeEnd=2020-01-01T00:00:00Z")).await, 0);
    let seeded = api.get("/v1/chat/users").await;
    assert_eq!(seeded.status, 200);
    assert_eq!(
        count(logs.clone()).await,
        4,
        "traffic of another bot is not in this log"
    );

    for _ in 0..41 {
        as_bot(Method::GET, "/v1/chat/users", None).await;
    }
    let pages = walk(&api, &logs, "logs", true).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [20, 20, 5]);
}

#[tokio::test]
async fn analytics_count_what_the_bot_did() {
    let api = Api::start().await;
    let bot = create_bot(&api, json!({ "events": { "orderPlaced": { "schema": {} } } })).await;
    let id = bot["id"].as_str().unwrap().to_string();
    let send = |method: Method, path: &'static str, body: Value, incoming: bool| {
        let (api, id) = (&api, id.clone());
        async move {
            let mut req = api
                .http
                .request(method, api.url(path))
                .bearer_auth(&api.token)
                .header("x-bot-id", id)
                .json(&body);
            if incoming {
                req = req.header("x-integration-id", "intg_web");
            }
            let r = req.send().await.unwrap();
            assert!(r.status().is_success());
            r.json::<Value>().await.unwrap()
        }
    };
    let mut users = Vec::new();
    for _ in 0..2 {
        let u = send(Method::POST, "/v1/chat/users", json!({ "tags": {} }), false).await;
        users.push(u["user"]["id"].as_str().unwrap().to_string());
    }
    let c = send(
        Method::POST,
        "/v1/chat/conversations",
        json!({ "channel": "web", "tags": {} }),
        false,
    )
    .await;
    let conv = c["conversation"]["id"].as_str().unwrap().to_string();
    for (user, incoming) in [
        (&users[0], true),
        (&users[1], true),
        (&users[0], true),
        (&users[0], false),
    ] {
        let body = json!({ "type": "text", "payload": { "text": "hi" }, "userId": user,
            "conversationId": conv, "tags": {} });
        send(Method::POST, "/v1/chat/messages", body, incoming).await;
    }
    for kind in ["orderPlaced", "orderPlaced", "ping"] {
        send(
            Method::POST,
            "/v1/chat/events",
            json!({ "type": kind, "payload": {} }),
            false,
        )
        .await;
    }
    let start = enc(bot["createdAt"].as_str().unwrap());
    let end = enc(&(chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339());
    let r = api
        .admin(
            Method::GET,
            &format!("/v1/admin/bots/{id}/analytics?startDate={start}&endDate={end}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/getBotAnalytics.json", &r.body);
    let records = r.body["records"].as_array().unwrap();
    let today = records.last().unwrap();
    assert_eq!(today["newUsers"], 2);
    assert_eq!(today["returningUsers"], 0);
    assert_eq!(today["sessions"], 1);
    assert_eq!(
        (today["userMessages"].clone(), today["messages"].clone()),
        (json!(3), json!(3))
    );
    assert_eq!(today["botMessages"], 1);
    assert_eq!(today["events"], 3);
    assert_eq!(today["eventTypes"], json!({ "orderPlaced": 2, "ping": 1 }));
    assert_eq!(today["customEvents"], json!({ "orderPlaced": 2 }));
    assert!(today["startDateTimeUtc"].as_str().unwrap().ends_with("T00:00:00.000Z"));

    let r = api
        .admin(
            Method::GET,
            &format!("/v1/admin/bots/{id}/analytics?startDate=2020-01-01&endDate=2020-01-03"),
            None,
        )
        .await;
    let days: Vec<&str> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["startDateTimeUtc"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2020-01-01T00:00:00.000Z", "2020-01-02T00:00:00.000Z"]);
    assert_eq!(r.body["records"][0]["newUsers"], 0);
}

#[tokio::test]
async fn failing_actions_open_issues_that_can_be_deleted() {
    let api = Api::start().await;
    let bot = create_bot(&api, json!({})).await;
    let id = bot["id"].as_str().unwrap().to_string();
    let call = |kind: &'static str| {
        let (api, id) = (&api, id.clone());
        async move {
            api.call_as(
                &api.token,
                &id,
                Method::POST,
                "/v1/chat/actions",
                Some(json!({ "type": kind, "input": { "message": "boom" } })),
            )
            .await
        }
    };
    assert_error(&call("fail").await, 400, "Runtime");
    assert_error(&call("fail").await, 400, "Runtime");
    assert_error(&call("nope").await, 404, "ResourceNotFound");
    assert_eq!(call("echo").await.status, 200);

    let issues = format!("/v1/admin/bots/{id}/issues");
    let r = api.admin(Method::GET, &issues, None).await;
    assert_schema("responses/listBotIssues.json", &r.body);
    let list = r.body["issues"].as_array().unwrap();
    assert_eq!(list.len(), 1, "only Runtime failures are issues: {:#}", r.body);
    let issue = &list[0];
    assert_eq!(issue["eventsCount"], 2);
    assert_eq!(issue["category"], "user_code");
    assert!(issue["description"].as_str().unwrap().contains("boom"));
    assert!(issue["lastSeenAt"].as_str() >= issue["createdAt"].as_str());
    let issue_id = issue["id"].as_str().unwrap().to_string();

    let r = api
        .admin(Method::GET, &format!("{issues}/{issue_id}/events"), None)
        .await;
    assert_schema("responses/listBotIssueEvents.json", &r.body);
    let events = r.body["issueEvents"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0]["data"]["input"]["raw"].as_str().unwrap().contains("boom"));
    let distinct: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), 2);

    let r = api.admin(Method::DELETE, &format!("{issues}/{issue_id}"), None).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!({})));
    let r = api.admin(Method::GET, &issues, None).await;
    assert_eq!(r.body["issues"], json!([]));
    let r = api
        .admin(Method::GET, &format!("{issues}/{issue_id}/events"), None)
        .await;
    assert_error(&r, 404, "ResourceNotFound");
    let r = api.admin(Method::DELETE, &format!("{issues}/{issue_id}"), None).await;
    assert_error(&r, 404, "ResourceNotFound");

    call("fail").await;
    let r = api.admin(Method::GET, &issues, None).await;
    assert_ne!(
        r.body["issues"][0]["id"],
        issue_id.as_str(),
        "a new failure opens a new issue"
    );
    assert_eq!(r.body["issues"][0]["eventsCount"], 1);
}
