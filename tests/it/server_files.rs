//! The reference server's files API: each operation against its schema, each status
//! transition, the signed content URLs, search, limits, isolation, and the runner keeping
//! the token away from upload URLs of another origin.

use std::time::{Duration, Instant};

use bpharness::report::Outcome;
use bpharness::runner::RunPlan;
use bpharness::selftest::{failed_checks, selftest};
use bpharness::server::fault::Fault;
use bpharness::server::{FilesConfig, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::double;
use crate::runner_suite::run_paths;
use crate::util::{Api, Reply, assert_error, assert_schema, into_reply};

/// Short delays, so transitions happen within a test but can still be observed.
fn quick() -> ServerConfig {
    ServerConfig {
        files: FilesConfig {
            upload_delay: Duration::from_millis(30),
            indexing_delay: Duration::from_millis(80),
            ..FilesConfig::default()
        },
        ..ServerConfig::default()
    }
}

async fn start() -> Api {
    Api::start_with(quick()).await
}

fn with_files(files: FilesConfig) -> ServerConfig {
    ServerConfig { files, ..quick() }
}

/// `upsertFile`, checked against its schema; returns the file.
async fn upsert(api: &Api, body: Value) -> Value {
    let r = api.put("/v1/files", body).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/upsertFile.json", &r.body);
    r.body["file"].clone()
}

async fn get_file(api: &Api, id: &str) -> Reply {
    api.get(&format!("/v1/files/{id}")).await
}

/// A PUT of `bytes` to an upload URL the way the official client does it: no token.
async fn put_content(api: &Api, url: &str, bytes: &[u8], content_type: &str) -> reqwest::Response {
    api.http
        .put(url)
        .header("content-type", content_type)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("the upload reaches the server")
}

async fn put_ok(api: &Api, url: &str, bytes: &[u8]) {
    let r = put_content(api, url, bytes, "text/plain").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
}

async fn fetch(api: &Api, url: &str) -> reqwest::Response {
    api.http.get(url).send().await.expect("the download reaches the server")
}

/// Reads the file every few milliseconds until its status is one of `until` (at most 5 s)
/// and returns every status seen, in order, with the last file.
async fn watch(api: &Api, id: &str, until: &[&str]) -> (Vec<String>, Value) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut trace: Vec<String> = Vec::new();
    loop {
        let r = get_file(api, id).await;
        assert_eq!(r.status, 200, "{:#}", r.body);
        assert_schema("responses/getFile.json", &r.body);
        let status = r.body["file"]["status"].as_str().unwrap().to_string();
        if trace.last() != Some(&status) {
            trace.push(status.clone());
        }
        if until.contains(&status.as_str()) {
            return (trace, r.body["file"].clone());
        }
        assert!(Instant::now() < deadline, "never reached {until:?}; trace {trace:?}");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

const DONE: [&str; 4] = [
    "upload_completed",
    "upload_failed",
    "indexing_completed",
    "indexing_failed",
];

/// Upserts, uploads and waits for a final status.
async fn stored(api: &Api, key: &str, content: &str, index: bool, tags: Value) -> Value {
    let file = upsert(
        api,
        json!({ "key": key, "size": content.len(), "index": index, "tags": tags }),
    )
    .await;
    put_ok(api, file["uploadUrl"].as_str().unwrap(), content.as_bytes()).await;
    watch(api, file["id"].as_str().unwrap(), &DONE).await.1
}

fn id(file: &Value) -> String {
    file["id"].as_str().unwrap().to_string()
}

/// The URL with its `signature` replaced.
fn resigned(url: &str, signature: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("signature=")).collect();
    format!("{base}?{}&signature={signature}", kept.join("&"))
}

fn signature(url: &str) -> &str {
    url.split("signature=").nth(1).unwrap()
}

async fn error_of(response: reqwest::Response) -> Reply {
    let reply = into_reply(response).await;
    assert_schema("error.json", &reply.body);
    reply
}

#[tokio::test]
async fn each_operation_answers_its_schema() {
    let api = start().await;
    let file = upsert(
        &api,
        json!({
            "key": "docs/readme.md",
            "size": 5,
            "tags": { "a": "1" },
            "metadata": { "n": 1, "nested": { "x": true } },
            "accessPolicies": ["integrations"],
        }),
    )
    .await;
    assert_eq!(file["status"], "upload_pending");
    assert_eq!(file["size"], Value::Null);
    assert_eq!(file["contentType"], "text/markdown");
    assert_eq!(file["owner"], json!({ "type": "bot", "id": api.bot }));
    assert_eq!(file["botId"], api.bot.as_str());
    assert!(file["url"].as_str().unwrap().starts_with(&api.server.url));
    let id = id(&file);

    let r = get_file(&api, &id).await;
    assert_schema("responses/getFile.json", &r.body);
    assert!(r.body["file"].get("uploadUrl").is_none());

    let r = api.get("/v1/files").await;
    assert_eq!(r.status, 200);
    assert_schema("responses/listFiles.json", &r.body);
    assert_eq!(r.body["files"][0]["id"], id.as_str());
    assert_eq!(r.body["meta"], json!({}));

    let r = api
        .put(
            &format!("/v1/files/{id}"),
            json!({ "tags": { "a": null, "b": "2" }, "metadata": { "n": null, "m": [1] } }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/updateFileMetadata.json", &r.body);
    assert_eq!(r.body["file"]["tags"], json!({ "b": "2" }));
    assert_eq!(r.body["file"]["metadata"], json!({ "nested": { "x": true }, "m": [1] }));

    let r = api.get("/v1/files/search?query=anything").await;
    assert_eq!(r.status, 200);
    assert_schema("responses/searchFiles.json", &r.body);
    assert_eq!(r.body["passages"], json!([]));

    let r = api.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(r.status, 200);
    assert_schema("responses/deleteFile.json", &r.body);
    assert_error(&get_file(&api, &id).await, 404, "ResourceNotFound");
    assert_error(&api.delete(&format!("/v1/files/{id}")).await, 404, "ResourceNotFound");
}

#[tokio::test]
async fn plain_upload_goes_pending_then_completed_and_serves_the_bytes() {
    let api = start().await;
    let file = upsert(&api, json!({ "key": "a/b.txt", "size": 11 })).await;
    let up = file["uploadUrl"].as_str().unwrap();
    let r = put_content(&api, up, b"hello world", "text/plain").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("etag"));
    assert!(r.bytes().await.unwrap().is_empty());
    let (trace, file) = watch(&api, &id(&file), &DONE).await;
    assert_eq!(trace, ["upload_pending", "upload_completed"]);
    assert_eq!(file["size"], 11);
    assert!(file.get("indexingStack").is_none());
    let r = fetch(&api, file["url"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.unwrap(), "hello world".as_bytes());
}

#[tokio::test]
async fn indexed_upload_goes_through_indexing_pending() {
    let api = start().await;
    let text = "first paragraph\n\nsecond paragraph";
    let file = upsert(&api, json!({ "key": "k.txt", "size": text.len(), "index": true })).await;
    put_ok(&api, file["uploadUrl"].as_str().unwrap(), text.as_bytes()).await;
    let (trace, file) = watch(&api, &id(&file), &DONE).await;
    assert_eq!(trace, ["upload_pending", "indexing_pending", "indexing_completed"]);
    assert_eq!(file["indexingStack"], "v2");
    assert_eq!(file["size"], text.len());
    // Terminal: it stays there.
    let r = get_file(&api, &id(&file)).await;
    assert_eq!(r.body["file"]["status"], "indexing_completed");
}

#[tokio::test]
async fn content_that_cannot_be_indexed_fails_indexing_with_a_reason() {
    let api = start().await;
    for (key, bytes, reason) in [
        ("pic.png", b"\x89PNG\r\n".as_slice(), "image/png"),
        ("bin.txt", b"\xff\xfe\x00\x01".as_slice(), "binary"),
        ("doc.pdf", b"%PDF-1.4".as_slice(), "application/pdf"),
    ] {
        let file = upsert(&api, json!({ "key": key, "size": bytes.len(), "index": true })).await;
        let r = put_content(
            &api,
            file["uploadUrl"].as_str().unwrap(),
            bytes,
            "application/octet-stream",
        )
        .await;
        assert_eq!(r.status(), 200);
        let (trace, file) = watch(&api, &id(&file), &DONE).await;
        assert_eq!(
            trace,
            ["upload_pending", "indexing_pending", "indexing_failed"],
            "{key}"
        );
        let why = file["failedStatusReason"].as_str().unwrap();
        assert!(why.contains(reason), "{key}: {why}");
        assert!(file.get("indexingStack").is_none());
        // The bytes are still stored and served.
        let r = fetch(&api, file["url"].as_str().unwrap()).await;
        assert_eq!(r.bytes().await.unwrap(), bytes);
    }
}

#[tokio::test]
async fn a_size_other_than_the_declared_one_fails_the_upload() {
    let api = start().await;
    for (declared, sent) in [(10, "short"), (3, "too long")] {
        let file = upsert(&api, json!({ "key": format!("s{declared}.txt"), "size": declared })).await;
        let r =
            error_of(put_content(&api, file["uploadUrl"].as_str().unwrap(), sent.as_bytes(), "text/plain").await).await;
        assert_error(&r, 400, "InvalidPayload");
        let r = get_file(&api, &id(&file)).await;
        assert_eq!(r.body["file"]["status"], "upload_failed");
        assert!(r.body["file"]["failedStatusReason"].as_str().unwrap().contains("size"));
        assert_eq!(r.body["file"]["size"], Value::Null);
        let r = fetch(&api, r.body["file"]["url"].as_str().unwrap()).await;
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test]
async fn upload_urls_are_single_use_and_bound_to_their_file_and_version() {
    let api = start().await;
    let a = upsert(&api, json!({ "key": "a.txt", "size": 2 })).await;
    let b = upsert(&api, json!({ "key": "b.txt", "size": 2 })).await;
    let up_a = a["uploadUrl"].as_str().unwrap();
    let up_b = b["uploadUrl"].as_str().unwrap();

    // Wrong, tampered, missing, or another file's signature.
    let tampered = {
        let sig = signature(up_a);
        let first = if sig.starts_with('A') { "B" } else { "A" };
        resigned(up_a, &format!("{first}{}", &sig[1..]))
    };
    for url in [
        resigned(up_a, "AAAAAAAAAAAAAAAAAAAAAA"),
        tampered,
        resigned(up_a, "not base64 at all"),
        up_a.split('?').next().unwrap().to_string(),
        resigned(up_a, signature(up_b)),
        up_a.replace("generation=1", "generation=2"),
    ] {
        let r = error_of(put_content(&api, &url, b"hi", "text/plain").await).await;
        assert_error(&r, 403, "Forbidden");
        assert!(r.body["message"].as_str().unwrap().contains("signature"), "{url}");
    }
    // An upload URL is not a download URL.
    let r = error_of(fetch(&api, &up_a.replace("/upload?", "/content?")).await).await;
    assert_error(&r, 403, "Forbidden");
    assert_eq!(get_file(&api, &id(&a)).await.body["file"]["status"], "upload_pending");

    put_ok(&api, up_a, b"hi").await;
    let r = error_of(put_content(&api, up_a, b"hi", "text/plain").await).await;
    assert_error(&r, 409, "AlreadyExists");
    watch(&api, &id(&a), &["upload_completed"]).await;
    let r = error_of(put_content(&api, up_a, b"hi", "text/plain").await).await;
    assert_error(&r, 409, "AlreadyExists");

    // Re-upserting starts a new version: the old upload URL is refused, the new one works.
    let again = upsert(&api, json!({ "key": "b.txt", "size": 3 })).await;
    assert_eq!(id(&again), id(&b));
    assert_ne!(again["uploadUrl"], b["uploadUrl"]);
    let r = error_of(put_content(&api, up_b, b"hi", "text/plain").await).await;
    assert_error(&r, 403, "Forbidden");
    put_ok(&api, again["uploadUrl"].as_str().unwrap(), b"hey").await;
}

#[tokio::test]
async fn download_urls_expire_and_cannot_be_tampered_with() {
    let api = Api::start_with(with_files(FilesConfig {
        download_url_ttl: Duration::from_secs(1),
        ..quick().files
    }))
    .await;
    let file = stored(&api, "x.txt", "content", false, json!({})).await;
    let url = file["url"].as_str().unwrap().to_string();
    assert!(url.contains("expires="));
    assert_eq!(fetch(&api, &url).await.status(), 200);
    // Moving the expiry breaks the signature.
    let later = url.replace("expires=", "expires=9");
    assert_error(&error_of(fetch(&api, &later).await).await, 403, "Forbidden");
    // Wait until the URL is refused, at most a few seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let r = fetch(&api, &url).await;
        if r.status() != 200 {
            break error_of(r).await;
        }
        assert!(Instant::now() < deadline, "the URL never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_error(&refused, 403, "Forbidden");
    assert!(refused.body["message"].as_str().unwrap().contains("expired"));
    // getFile hands out a fresh URL that works.
    let fresh = get_file(&api, &id(&file)).await.body["file"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(fetch(&api, &fresh).await.status(), 200);
}

#[tokio::test]
async fn public_files_have_a_permanent_url_while_they_are_public() {
    let api = start().await;
    let file = upsert(
        &api,
        json!({ "key": "p.txt", "size": 3, "accessPolicies": ["public_content"], "publicContentImmediatelyAccessible": true }),
    )
    .await;
    let up = file["uploadUrl"].as_str().unwrap();
    // publicContentImmediatelyAccessible: the tagging header is required.
    let r = error_of(put_content(&api, up, b"pub", "text/plain").await).await;
    assert_error(&r, 403, "Forbidden");
    let r = api
        .http
        .put(up)
        .header("content-type", "text/plain")
        .header("x-amz-tagging", "public=true")
        .body("pub")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, file) = watch(&api, &id(&file), &DONE).await;
    let url = file["url"].as_str().unwrap().to_string();
    assert!(url.contains("/public?") && !url.contains("expires="), "{url}");
    assert_eq!(get_file(&api, &id(&file)).await.body["file"]["url"], url.as_str());
    assert_eq!(fetch(&api, &url).await.bytes().await.unwrap(), "pub".as_bytes());
    assert_error(
        &error_of(fetch(&api, &resigned(&url, "AAAAAAAAAAAAAAAAAAAAAA")).await).await,
        403,
        "Forbidden",
    );
    let r = api
        .put(&format!("/v1/files/{}", id(&file)), json!({ "accessPolicies": [] }))
        .await;
    assert_eq!(r.body["file"]["status"], "upload_completed");
    assert_error(&error_of(fetch(&api, &url).await).await, 403, "Forbidden");
    let private = r.body["file"]["url"].as_str().unwrap();
    assert_eq!(fetch(&api, private).await.bytes().await.unwrap(), "pub".as_bytes());
}

#[tokio::test]
async fn delete_removes_the_bytes_the_passages_and_the_urls() {
    let api = Api::start_with(with_files(FilesConfig {
        bot_quota_bytes: 20,
        ..quick().files
    }))
    .await;
    let word = "pangolin";
    let file = stored(&api, "gone.md", "the pangolin sleeps", true, json!({ "k": "v" })).await;
    assert_eq!(file["status"], "indexing_completed");
    let r = api.get(&format!("/v1/files/search?query={word}")).await;
    assert_eq!(r.body["passages"].as_array().unwrap().len(), 1);
    let url = file["url"].as_str().unwrap().to_string();
    let again = upsert(&api, json!({ "key": "other.txt", "size": 1 })).await;
    // 19 bytes stored: 19 more do not fit the quota of 20.
    assert_error(
        &api.put("/v1/files", json!({ "key": "more.txt", "size": 19 })).await,
        403,
        "QuotaExceeded",
    );

    assert_eq!(api.delete(&format!("/v1/files/{}", id(&file))).await.status, 200);
    assert_error(&error_of(fetch(&api, &url).await).await, 404, "ResourceNotFound");
    let r = api.get(&format!("/v1/files/search?query={word}")).await;
    assert_eq!(r.body["passages"], json!([]));
    let r = api.get("/v1/files").await;
    assert_eq!(r.body["files"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["files"][0]["id"], again["id"]);
    // The bytes no longer count against the quota: 19 bytes fit again, under a new id.
    let more = upsert(&api, json!({ "key": "gone.md", "size": 19 })).await;
    assert_ne!(id(&more), id(&file), "a deleted key is a new file");
    put_ok(&api, more["uploadUrl"].as_str().unwrap(), &[b'm'; 19]).await;
}

#[tokio::test]
async fn size_limit_and_storage_quota() {
    let api = Api::start_with(with_files(FilesConfig {
        max_file_bytes: 100,
        bot_quota_bytes: 150,
        ..quick().files
    }))
    .await;
    let r = api.put("/v1/files", json!({ "key": "big", "size": 101 })).await;
    assert_error(&r, 413, "LimitExceeded");
    assert_error(
        &api.put("/v1/files", json!({ "key": "neg", "size": -1 })).await,
        400,
        "InvalidPayload",
    );
    let first = stored(&api, "first", &"a".repeat(100), false, json!({})).await;
    assert_eq!(first["status"], "upload_completed");
    // 100 stored + 60 declared > 150.
    let r = api.put("/v1/files", json!({ "key": "second", "size": 60 })).await;
    assert_error(&r, 403, "QuotaExceeded");
    // Re-upserting the stored key does not count its old content.
    upsert(&api, json!({ "key": "first", "size": 100 })).await;
    let stored_again = get_file(&api, &id(&first)).await;
    assert_eq!(stored_again.body["file"]["status"], "upload_pending");
    // Two uploads that each fit, but not both: the second fails on upload.
    let x = upsert(&api, json!({ "key": "x", "size": 100 })).await;
    let y = upsert(&api, json!({ "key": "y", "size": 100 })).await;
    put_ok(&api, x["uploadUrl"].as_str().unwrap(), &[b'x'; 100]).await;
    let r = error_of(put_content(&api, y["uploadUrl"].as_str().unwrap(), &[b'y'; 100], "text/plain").await).await;
    assert_error(&r, 403, "QuotaExceeded");
    let r = get_file(&api, &id(&y)).await;
    assert_eq!(r.body["file"]["status"], "upload_failed");
    assert!(r.body["file"]["failedStatusReason"].as_str().unwrap().contains("quota"));
    // A body over the maximum file size is refused before it is stored.
    let z = upsert(&api, json!({ "key": "z", "size": 10 })).await;
    let r = error_of(put_content(&api, z["uploadUrl"].as_str().unwrap(), &[b'z'; 101], "text/plain").await).await;
    assert_error(&r, 413, "LimitExceeded");
    assert_eq!(get_file(&api, &id(&z)).await.body["file"]["status"], "upload_failed");
}

#[tokio::test]
async fn search_ranks_with_bm25_and_filters_by_tags() {
    let api = start().await;
    let a = stored(
        &api,
        "a.md",
        "# Otters\n\nOtters hold hands while sleeping.\n\nThey live in rivers.",
        true,
        json!({ "animal": "otter", "lang": "en" }),
    )
    .await;
    let b = stored(
        &api,
        "b.txt",
        "Sea otters and river otters are otters.\n\nNothing else here.",
        true,
        json!({ "animal": "otter", "lang": "fr" }),
    )
    .await;
    let c = stored(
        &api,
        "c.html",
        "<h1>Rivers</h1><p>Rivers &amp; lakes</p>",
        true,
        json!({ "lang": "en" }),
    )
    .await;
    let plain = stored(&api, "d.txt", "otters not indexed", false, json!({})).await;
    for f in [&a, &b, &c] {
        assert_eq!(f["status"], "indexing_completed", "{f:#}");
    }

    let r = api.get("/v1/files/search?query=otters").await;
    assert_schema("responses/searchFiles.json", &r.body);
    let passages = r.body["passages"].as_array().unwrap();
    let contents: Vec<&str> = passages.iter().map(|p| p["content"].as_str().unwrap()).collect();
    // BM25 with k1 = 1.2, b = 0.75 over the 7 indexed passages (23 terms): the one-word
    // title outranks three occurrences in seven words (term frequency saturates, length
    // counts); the file that was not indexed is never searched.
    assert_eq!(
        contents,
        [
            "Otters",
            "Sea otters and river otters are otters.",
            "Otters hold hands while sleeping."
        ]
    );
    let (n, avgdl, k1, b_) = (7.0_f64, 23.0 / 7.0, 1.2, 0.75);
    let idf = (1.0 + (n - 3.0 + 0.5) / (3.0 + 0.5)).ln();
    let bm25 = |tf: f64, len: f64| idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b_ + b_ * len / avgdl));
    for (passage, expected) in passages.iter().zip([bm25(1.0, 1.0), bm25(3.0, 7.0), bm25(1.0, 5.0)]) {
        let score = passage["score"].as_f64().unwrap();
        assert!((score - expected).abs() < 1e-9, "{score} vs {expected}");
    }
    assert_eq!(passages[0]["file"]["id"], a["id"]);
    assert_eq!(passages[1]["file"]["id"], b["id"]);
    assert_eq!(
        passages[0]["meta"],
        json!({ "type": "chunk", "subtype": "title", "position": 0 })
    );
    assert_eq!(
        passages[0]["file"],
        json!({
            "id": a["id"], "key": "a.md", "contentType": "text/markdown", "metadata": {},
            "tags": a["tags"], "createdAt": a["createdAt"], "updatedAt": a["updatedAt"],
        })
    );
    assert!(!contents.iter().any(|c| c.contains("not indexed")));
    assert_eq!(plain["status"], "upload_completed");
    // The same query twice gives the same answer.
    assert_eq!(api.get("/v1/files/search?query=otters").await.body, r.body);

    // Tags filter in its three forms, and exclusion.
    for q in [
        "tags.lang=en",
        "tags%5Blang%5D=en",
        "tags=%7B%22lang%22%3A%22en%22%7D",
        "tags.lang.not=fr",
    ] {
        let r = api.get(&format!("/v1/files/search?query=otters+rivers&{q}")).await;
        let ids: Vec<&Value> = r.body["passages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["file"]["id"])
            .collect();
        assert!(
            !ids.is_empty() && ids.iter().all(|i| **i == a["id"] || **i == c["id"]),
            "{q}: {:#}",
            r.body
        );
    }
    let r = api
        .get("/v1/files/search?query=otters&tags.animal=otter&tags.lang=fr&tags.lang=de")
        .await;
    assert_eq!(r.body["passages"].as_array().unwrap().len(), 1);

    // HTML is stripped of tags and entities.
    let r = api.get("/v1/files/search?query=lakes").await;
    assert_eq!(r.body["passages"][0]["content"], "Rivers & lakes");
    assert_eq!(r.body["passages"][0]["file"]["contentType"], "text/html");

    // limit, contextDepth, withContext, consolidate.
    let r = api.get("/v1/files/search?query=otters&limit=1").await;
    assert_eq!(r.body["passages"].as_array().unwrap().len(), 1);
    let r = api
        .get("/v1/files/search?query=hands&withContext=true&contextDepth=2&includeBreadcrumb=true")
        .await;
    assert_schema("responses/searchFiles.json", &r.body);
    let kinds: Vec<&str> = r.body["passages"][0]["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["breadcrumb", "preceding", "current", "subsequent"]);
    let r = api
        .get("/v1/files/search?query=hands&withContext=true&consolidate=true")
        .await;
    assert!(r.body["passages"][0].get("context").is_none());
    for bad in [
        "",
        "?query=",
        "?query=x&limit=51",
        "?query=x&contextDepth=11",
        "?query=x&withContext=yes",
        "?query=x&tags=%5B%5D",
    ] {
        assert_error(&api.get(&format!("/v1/files/search{bad}")).await, 400, "InvalidQuery");
    }
}

#[tokio::test]
async fn list_pages_sorts_and_filters() {
    let api = start().await;
    let mut ids = Vec::new();
    for i in 0..45 {
        let f = upsert(
            &api,
            json!({ "key": format!("k{:02}.txt", 44 - i), "size": i, "index": i % 3 == 0, "tags": { "n": (i % 5).to_string() } }),
        )
        .await;
        ids.push(id(&f));
    }
    // Newest first by default, across three pages, each item once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &token {
            Some(t) => format!(
                "/v1/files?nextToken={}",
                form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
            ),
            None => "/v1/files".to_string(),
        };
        let r = api.get(&path).await;
        assert_schema("responses/listFiles.json", &r.body);
        let page = r.body["files"].as_array().unwrap();
        assert!(page.len() <= 20);
        seen.extend(page.iter().map(id));
        pages += 1;
        match r.body["meta"]["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    // By key ascending: k00 is the last created.
    let r = api.get("/v1/files?sortField=key&sortDirection=asc").await;
    assert_eq!(r.body["files"][0]["key"], "k00.txt");
    assert_eq!(r.body["files"][19]["key"], "k19.txt");
    let t = r.body["meta"]["nextToken"].as_str().unwrap();
    let enc: String = form_urlencoded::byte_serialize(t.as_bytes()).collect();
    let r = api
        .get(&format!("/v1/files?sortField=key&sortDirection=asc&nextToken={enc}"))
        .await;
    assert_eq!(r.body["files"][0]["key"], "k20.txt");
    // The token is bound to the sort: used with another it is refused.
    assert_error(
        &api.get(&format!("/v1/files?nextToken={enc}")).await,
        400,
        "InvalidQuery",
    );
    // By status, by size (null sizes: every file here is upload_pending).
    let r = api.get("/v1/files?sortField=status").await;
    assert_eq!(r.status, 200);
    assert_eq!(api.get("/v1/files?sortField=size&sortDirection=asc").await.status, 200);

    // Filters.
    let r = api.get("/v1/files?tags.n=0&indexed=true").await;
    let got: Vec<&Value> = r.body["files"].as_array().unwrap().iter().collect();
    assert!(got.iter().all(|f| f["tags"]["n"] == "0" && f["index"] == true));
    assert_eq!(got.len(), 3, "i in 0, 15, 30");
    let r = api.get(&format!("/v1/files?ids={}&ids={}", ids[0], ids[1])).await;
    assert_eq!(r.body["files"].as_array().unwrap().len(), 2);
    let r = api
        .get("/v1/files?tags=%7B%22n%22%3A%7B%22not%22%3A%5B%220%22%2C%221%22%5D%7D%7D")
        .await;
    assert_eq!(r.body["files"].as_array().unwrap().len(), 20);
    assert!(r.body["meta"]["nextToken"].is_string(), "27 files match");
    let many: String = (0..51).map(|i| format!("ids=f{i}&")).collect();
    assert_error(&api.get(&format!("/v1/files?{many}")).await, 400, "InvalidQuery");
    assert_error(&api.get("/v1/files?indexed=maybe").await, 400, "InvalidQuery");
    assert_error(&api.get("/v1/files?sortField=color").await, 400, "InvalidQuery");
}

#[tokio::test]
async fn update_changes_metadata_never_status() {
    let api = start().await;
    let file = stored(&api, "u.txt", "abc", false, json!({ "keep": "1", "drop": "2" })).await;
    let before = file["updatedAt"].as_str().unwrap().to_string();
    let soon = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let r = api
        .put(
            &format!("/v1/files/{}", id(&file)),
            json!({ "tags": { "drop": null, "new": "3" }, "accessPolicies": ["integrations"], "expiresAt": soon }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    let f = &r.body["file"];
    assert_eq!(f["tags"], json!({ "keep": "1", "new": "3" }));
    assert_eq!(f["status"], "upload_completed");
    assert_eq!(f["size"], 3);
    assert_eq!(f["accessPolicies"], json!(["integrations"]));
    assert!(f["expiresAt"].is_string());
    assert!(f["updatedAt"].as_str().unwrap() > before.as_str());
    let r = api
        .put(&format!("/v1/files/{}", id(&file)), json!({ "expiresAt": null }))
        .await;
    assert!(r.body["file"].get("expiresAt").is_none());
    for bad in [
        json!({ "expiresAt": "2001-01-01T00:00:00Z" }),
        json!({ "expiresAt": "not a date" }),
        json!({ "status": "upload_completed" }),
        json!({ "tags": { "a": 1 } }),
    ] {
        assert_error(
            &api.put(&format!("/v1/files/{}", id(&file)), bad).await,
            400,
            "InvalidPayload",
        );
    }
}

#[tokio::test]
async fn expired_files_are_deleted() {
    let api = start().await;
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let file = upsert(&api, json!({ "key": "temp.txt", "size": 1, "expiresAt": at })).await;
    assert!(file["expiresAt"].is_string());
    let deadline = Instant::now() + Duration::from_secs(5);
    while get_file(&api, &id(&file)).await.status == 200 {
        assert!(Instant::now() < deadline, "the file never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_error(&get_file(&api, &id(&file)).await, 404, "ResourceNotFound");
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    assert_error(
        &api.put("/v1/files", json!({ "key": "p", "size": 1, "expiresAt": past }))
            .await,
        400,
        "InvalidPayload",
    );
}

#[tokio::test]
async fn content_type_owner_and_re_upsert() {
    let api = start().await;
    for (key, ct) in [
        ("a.json", "application/json"),
        ("b.jpg", "image/jpeg"),
        ("c.csv", "text/csv"),
        ("noext", "application/octet-stream"),
    ] {
        assert_eq!(upsert(&api, json!({ "key": key, "size": 1 })).await["contentType"], ct);
    }
    let f = upsert(
        &api,
        json!({ "key": "x.txt", "size": 1, "contentType": "text/markdown" }),
    )
    .await;
    assert_eq!(f["contentType"], "text/markdown");
    let r = api
        .http
        .put(api.url("/v1/files"))
        .bearer_auth(&api.token)
        .header("x-bot-id", &api.bot)
        .header("x-integration-id", "intver_1")
        .header("x-integration-name", "telegram")
        .header("x-integration-alias", "tg")
        .json(&json!({ "key": "int.txt", "size": 1 }))
        .send()
        .await
        .unwrap();
    let r = into_reply(r).await;
    assert_eq!(
        r.body["file"]["owner"],
        json!({ "type": "integration", "name": "telegram", "alias": "tg" })
    );
    let r = api
        .http
        .put(api.url("/v1/files"))
        .bearer_auth(&api.token)
        .header("x-bot-id", &api.bot)
        .header("x-user-id", "user_1")
        .json(&json!({ "key": "usr.txt", "size": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        into_reply(r).await.body["file"]["owner"],
        json!({ "type": "user", "id": "user_1" })
    );

    // Re-upsert: same id, content erased, old URLs dead, passages gone.
    let old = stored(&api, "doc.md", "walrus tusks", true, json!({ "v": "1" })).await;
    assert_eq!(
        api.get("/v1/files/search?query=walrus").await.body["passages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let new = upsert(&api, json!({ "key": "doc.md", "size": 2, "tags": { "v": "2" } })).await;
    assert_eq!(new["id"], old["id"]);
    assert_eq!(new["createdAt"], old["createdAt"]);
    assert_eq!(new["status"], "upload_pending");
    assert_eq!(new["size"], Value::Null);
    assert_eq!(new["tags"], json!({ "v": "2" }));
    assert_eq!(new["index"], false);
    assert_eq!(fetch(&api, old["url"].as_str().unwrap()).await.status(), 404);
    assert_eq!(
        api.get("/v1/files/search?query=walrus").await.body["passages"],
        json!([])
    );
    for bad in [
        json!({ "key": "", "size": 1 }),
        json!({ "key": "k", "size": 1.5 }),
        json!({ "key": "k" }),
    ] {
        assert_error(&api.put("/v1/files", bad).await, 400, "InvalidPayload");
    }
}

#[tokio::test]
async fn bots_are_isolated_and_only_content_urls_skip_the_token() {
    let api = start().await;
    let seeds = api.server.seeds().clone();
    let file = stored(&api, "mine.md", "secret aardvark", true, json!({})).await;
    let other = |method: Method, path: String| {
        let api = &api;
        let bot = seeds.other_bot_id.clone();
        async move { api.call_as(&api.token, &bot, method, &path, None).await }
    };
    assert_error(
        &other(Method::GET, format!("/v1/files/{}", id(&file))).await,
        404,
        "ResourceNotFound",
    );
    assert_error(
        &other(Method::DELETE, format!("/v1/files/{}", id(&file))).await,
        404,
        "ResourceNotFound",
    );
    assert_eq!(other(Method::GET, "/v1/files".into()).await.body["files"], json!([]));
    assert_eq!(
        other(Method::GET, "/v1/files/search?query=aardvark".into()).await.body["passages"],
        json!([])
    );
    let r = api
        .call_as(
            &seeds.other_workspace_token,
            &seeds.bot_id,
            Method::GET,
            "/v1/files",
            None,
        )
        .await;
    assert_error(&r, 403, "Forbidden");
    // The API needs the token; the content URL does not, and ignores one.
    let r = into_reply(
        api.http
            .get(api.url("/v1/files"))
            .header("x-bot-id", &api.bot)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&r, 401, "Unauthorized");
    let url = file["url"].as_str().unwrap();
    assert_eq!(fetch(&api, url).await.status(), 200);
    // A content URL made for one bot does not open another bot's space.
    let moved = url.replace(&seeds.bot_id, &seeds.other_bot_id);
    assert_error(&error_of(fetch(&api, &moved).await).await, 403, "Forbidden");
    // Wrong method on a content URL: 405 in the API's error shape.
    let r = error_of(api.http.post(url).send().await.unwrap()).await;
    assert_error(&r, 405, "MethodNotFound");
}

#[tokio::test]
async fn the_runner_never_sends_the_token_to_an_upload_url_of_another_origin() {
    let double = double::start().await;
    let config = ServerConfig {
        files: FilesConfig {
            public_origin: Some(double.url.clone()),
            ..FilesConfig::default()
        },
        ..ServerConfig::default()
    };
    let scenario = "\
name: upload elsewhere
steps:
  - name: upsert
    request:
      method: PUT
      path: /v1/files
      body: { key: elsewhere.txt, size: 2 }
    capture: { up: $.file.uploadUrl }
  - name: upload with the default headers
    request:
      method: PUT
      path: '{{up}}'
      raw_body: hi
      content_type: text/plain
    expect_error: { status: 404, type: ResourceNotFound }
  - name: a step that asks to send the token there is refused
    request:
      method: PUT
      path: '{{up}}'
      headers: { authorization: 'Bearer {{token}}' }
      raw_body: hi
";
    let dir = std::env::temp_dir().join(format!("bpharness-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("upload-elsewhere.yaml");
    std::fs::write(&path, scenario).unwrap();
    let plan = RunPlan {
        target: bpharness::target::TargetSpec::embedded(config),
        ..RunPlan::default()
    };
    let report = run_paths(&[path.to_str().unwrap()], plan).await;
    assert_eq!(report.outcome, Outcome::Failed);
    let failed = failed_checks(&report);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].0, "template");
    assert!(
        failed[0].1.contains("refusing to send the target's token"),
        "{failed:#?}"
    );

    let heads = double.seen.lock().unwrap().heads.clone();
    assert_eq!(
        heads.len(),
        1,
        "only the first upload reached the other origin: {heads:#?}"
    );
    let head = heads[0].to_ascii_lowercase();
    assert!(head.starts_with("put /_storage/"), "{head}");
    assert!(!head.contains("authorization"), "{head}");
    assert!(!head.contains("x-bot-id"), "{head}");
    assert!(!head.contains("bp_pat_"), "{head}");
    assert!(head.contains("content-type: text/plain"), "{head}");
}

#[tokio::test]
async fn the_files_scenarios_catch_each_file_fault() {
    let plan = RunPlan {
        paths: ["files", "files-indexing", "files-listing", "files-uploads"]
            .iter()
            .map(|n| format!("{}/scenarios/contract/{n}.yaml", env!("CARGO_MANIFEST_DIR")).into())
            .collect(),
        ..RunPlan::default()
    };
    let faults: Vec<Fault> = [
        "file-status-skips-indexing-pending",
        "file-status-reverses",
        "search-returns-deleted",
        "upload-size-not-checked",
    ]
    .iter()
    .map(|n| n.parse().unwrap())
    .collect();
    let (_, report) = selftest(&plan, &faults, &[], |_| {}).await.expect("selftest runs");
    assert!(report.false_positives.is_empty(), "{:#?}", report.false_positives);
    for verdict in &report.verdicts {
        assert!(
            verdict.caught(),
            "{} caught by {:?}, missed {:?}",
            verdict.fault,
            verdict.caught_by,
            verdict.missed
        );
    }
}
