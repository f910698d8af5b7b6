//! Files: upsert, get, list, update metadata, delete, search.
//!
//! `upsertFile` answers an `uploadUrl` that this server serves itself (`routes/storage.rs`);
//! the status then moves on as `files::model` describes. Limits: a declared `size` over the
//! maximum file size is `LimitExceeded` (413, a hard limit that no plan raises); a file that
//! would take the bot's stored bytes over its quota is `QuotaExceeded` (403, a soft quota
//! that a plan could raise).

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::ErrorType;
use crate::server::auth::BotCtx;
use crate::server::body::RawBody;
use crate::server::error::{ApiError, ApiResult};
use crate::server::files::content::guess_content_type;
use crate::server::files::{Document, FileRules, FileStatus, Links, Owner, SearchQuery, StoredFile, TagFilter, search};
use crate::server::ids::{Timestamp, new_id};
use crate::server::paging::{Direction, TextKey};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::Tags;

use super::listing::respond;
use super::reply::{self, PathIds, nullable};

/// Longest expiry `upsertFile` and `updateFileMetadata` accept.
const MAX_EXPIRY_DAYS: i64 = 90;
/// `searchFiles` `limit`: default and largest value.
pub const SEARCH_LIMIT_DEFAULT: usize = 10;
pub const SEARCH_LIMIT_MAX: usize = 50;
/// `searchFiles` `contextDepth`: default (the spec's) and largest value.
const CONTEXT_DEPTH_DEFAULT: usize = 1;
const CONTEXT_DEPTH_MAX: usize = 10;
/// `listFiles` `ids`: most ids in one request.
const MAX_IDS: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpsertFile {
    key: String,
    #[serde(default)]
    tags: Tags,
    size: f64,
    #[serde(default)]
    index: bool,
    access_policies: Option<Vec<String>>,
    content_type: Option<String>,
    expires_at: Option<String>,
    #[serde(default)]
    public_content_immediately_accessible: bool,
    #[serde(default)]
    metadata: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateFile {
    metadata: Option<Map<String, Value>>,
    tags: Option<BTreeMap<String, Option<String>>>,
    access_policies: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    expires_at: Option<Option<String>>,
}

/// The origin content URLs are made with: the configured one, else the one this request
/// was sent to.
pub struct Origin(pub String);

impl FromRequestParts<AppState> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(origin) = &state.file_rules().public_origin {
            return Ok(Origin(origin.trim_end_matches('/').to_string()));
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            // A Host that is not a plain host[:port] is not copied into URLs.
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
            })
            .unwrap_or("localhost");
        Ok(Origin(format!("http://{host}")))
    }
}

fn links<'a>(state: &'a AppState, origin: &'a Origin, now: Timestamp) -> Links<'a> {
    let ttl = state.file_rules().download_url_ttl;
    let expires = now.0 + chrono::Duration::from_std(ttl).unwrap_or_default();
    // Whole seconds, rounded up: a URL never dies before its time to live.
    let expires = expires.timestamp() + i64::from(expires.timestamp_subsec_nanos() > 0);
    Links {
        signer: state.signer(),
        origin: &origin.0,
        expires,
    }
}

/// Who is upserting: an integration (`x-integration-*`), a user (`x-user-id`) or the bot.
fn owner(headers: &HeaderMap, bot: &str) -> Owner {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    if header("x-integration-id").is_some() || header("x-integration-name").is_some() {
        Owner {
            kind: "integration",
            id: None,
            name: header("x-integration-name"),
            alias: header("x-integration-alias"),
        }
    } else if let Some(user) = header("x-user-id") {
        Owner {
            kind: "user",
            id: Some(user),
            name: None,
            alias: None,
        }
    } else {
        Owner {
            kind: "bot",
            id: Some(bot.to_string()),
            name: None,
            alias: None,
        }
    }
}

fn whole_bytes(size: f64) -> ApiResult<u64> {
    if size.is_finite() && size >= 0.0 && size.fract() == 0.0 && size <= 9_007_199_254_740_991.0 {
        Ok(size as u64)
    } else {
        Err(ApiError::invalid_payload(format!(
            "body.size: must be a whole, non-negative number of bytes, got {size}"
        )))
    }
}

fn expiry(text: &str, now: Timestamp) -> ApiResult<Timestamp> {
    let at = Timestamp::parse(text)
        .ok_or_else(|| ApiError::invalid_payload(format!("body.expiresAt: {text:?} is not an ISO 8601 date-time")))?;
    if at <= now || at.0 > now.0 + chrono::Duration::days(MAX_EXPIRY_DAYS) {
        return Err(ApiError::invalid_payload(format!(
            "body.expiresAt: must be in the future and at most {MAX_EXPIRY_DAYS} days ahead, got {text}"
        )));
    }
    Ok(at)
}

fn too_large(size: u64, rules: &FileRules) -> ApiError {
    ApiError::new(
        ErrorType::LimitExceeded,
        format!(
            "a file of {size} bytes is over the maximum file size of {} bytes",
            rules.max_file_bytes
        ),
    )
}

pub async fn upsert(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    origin: Origin,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<Response> {
    let body: UpsertFile = body.parse("upsertFile")?;
    let rules = state.file_rules();
    if body.key.trim().is_empty() {
        return Err(ApiError::invalid_payload("body.key: must not be empty"));
    }
    let size = whole_bytes(body.size)?;
    if size > rules.max_file_bytes {
        return Err(too_large(size, rules));
    }
    let now = Timestamp::now();
    let expires_at = body.expires_at.as_deref().map(|t| expiry(t, now)).transpose()?;
    let content_type = body
        .content_type
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| guess_content_type(&body.key).to_string());
    let mut data = bot.data.write().expect("bot data poisoned");
    let files = &mut data.files;
    files.settle(now, rules);
    let existing = files.by_key.get(&body.key).cloned();
    let stored = files.stored_bytes(existing.as_deref());
    if stored + size > rules.bot_quota_bytes {
        return Err(ApiError::new(
            ErrorType::QuotaExceeded,
            format!(
                "the bot stores {stored} bytes; {size} more would exceed its storage quota of {} bytes",
                rules.bot_quota_bytes
            ),
        ));
    }
    let id = existing.unwrap_or_else(|| new_id("file"));
    let previous = files.by_id.remove(&id);
    let file = StoredFile {
        id: id.clone(),
        bot_id: bot.id.clone(),
        key: body.key.clone(),
        content_type,
        tags: body.tags,
        metadata: body.metadata,
        created_at: previous.as_ref().map_or(now, |p| p.created_at),
        updated_at: previous.as_ref().map_or(now, |p| Timestamp::after(p.updated_at)),
        access_policies: body.access_policies.unwrap_or_default(),
        index: body.index,
        status: FileStatus::UploadPending,
        failed_reason: None,
        expires_at,
        owner: owner(&headers, &bot.id),
        declared_size: size,
        generation: previous.as_ref().map_or(1, |p| p.generation + 1),
        content: None,
        uploaded_at: None,
        indexing_due: None,
        passages: Vec::new(),
        public_immediately: body.public_content_immediately_accessible,
        seq: previous.as_ref().map_or_else(|| state.store().next_seq(), |p| p.seq),
    };
    files.by_key.insert(body.key, id.clone());
    let file = files.by_id.entry(id).insert_entry(file).into_mut();
    Ok(reply::one(
        StatusCode::OK,
        "file",
        &file.view(&links(&state, &origin, now), true),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    origin: Origin,
    ids: PathIds,
) -> ApiResult<Response> {
    let now = Timestamp::now();
    let mut data = bot.data.write().expect("bot data poisoned");
    data.files.settle(now, state.file_rules());
    let file = data
        .files
        .by_id
        .get(ids.get(0))
        .ok_or_else(|| ApiError::not_found("file", ids.get(0)))?;
    Ok(reply::one(
        StatusCode::OK,
        "file",
        &file.view(&links(&state, &origin, now), false),
    ))
}

fn flag(q: &QueryParams, key: &str) -> ApiResult<Option<bool>> {
    match q.get(key) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::invalid_query(format!(
            "{key} must be true or false, got {other:?}"
        ))),
    }
}

fn number(q: &QueryParams, key: &str, default: usize, range: std::ops::RangeInclusive<usize>) -> ApiResult<usize> {
    let Some(text) = q.get(key) else {
        return Ok(default);
    };
    text.parse::<usize>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
        ApiError::invalid_query(format!(
            "{key} must be a whole number from {} to {}, got {text:?}",
            range.start(),
            range.end()
        ))
    })
}

pub async fn list(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    origin: Origin,
    q: QueryParams,
) -> ApiResult<Response> {
    let sort = q
        .choice("sortField", &["key", "size", "createdAt", "updatedAt", "status"])?
        .unwrap_or("createdAt");
    let direction = Direction::parse(q.choice("sortDirection", &["asc", "desc"])?);
    let tags = TagFilter::read(&q, "tags")?;
    let wanted_ids = q.list("ids");
    if wanted_ids.len() > MAX_IDS {
        return Err(ApiError::invalid_query(format!(
            "ids holds {} ids, at most {MAX_IDS} are allowed",
            wanted_ids.len()
        )));
    }
    let indexed = flag(&q, "indexed")?;
    let now = Timestamp::now();
    let links = links(&state, &origin, now);
    let mut data = bot.data.write().expect("bot data poisoned");
    data.files.settle(now, state.file_rules());
    let items = data
        .files
        .by_id
        .values()
        .filter(|f| tags.admits(&f.tags))
        .filter(|f| wanted_ids.is_empty() || wanted_ids.contains(&f.id))
        .filter(|f| indexed.is_none_or(|i| f.index == i))
        .map(|f| {
            let (text, number) = match sort {
                "key" => (f.key.clone(), 0),
                "status" => (f.status.as_str().to_string(), 0),
                "size" => (String::new(), f.size().map_or(-1, |s| s as i64)),
                "updatedAt" => (String::new(), f.updated_at.millis()),
                _ => (String::new(), f.created_at.millis()),
            };
            (
                TextKey {
                    text,
                    number,
                    seq: f.seq,
                },
                f.view(&links, false),
            )
        })
        .collect();
    respond(&state, &bot.id, "listFiles", &q, direction, "files", items)
}

pub async fn update(
    State(state): State<AppState>,
    BotCtx(bot): BotCtx,
    origin: Origin,
    ids: PathIds,
    body: RawBody,
) -> ApiResult<Response> {
    let body: UpdateFile = body.parse("updateFileMetadata")?;
    let now = Timestamp::now();
    let expires_at = match &body.expires_at {
        Some(Some(text)) => Some(Some(expiry(text, now)?)),
        Some(None) => Some(None),
        None => None,
    };
    let mut data = bot.data.write().expect("bot data poisoned");
    data.files.settle(now, state.file_rules());
    let file = data
        .files
        .by_id
        .get_mut(ids.get(0))
        .ok_or_else(|| ApiError::not_found("file", ids.get(0)))?;
    for (k, v) in body.tags.unwrap_or_default() {
        match v {
            Some(v) => file.tags.insert(k, v),
            None => file.tags.remove(&k),
        };
    }
    for (k, v) in body.metadata.unwrap_or_default() {
        if v.is_null() {
            file.metadata.remove(&k);
        } else {
            file.metadata.insert(k, v);
        }
    }
    if let Some(policies) = body.access_policies {
        file.access_policies = policies;
    }
    if let Some(expires_at) = expires_at {
        file.expires_at = expires_at;
    }
    file.updated_at = Timestamp::after(file.updated_at);
    Ok(reply::one(
        StatusCode::OK,
        "file",
        &file.view(&links(&state, &origin, now), false),
    ))
}

pub async fn delete(State(state): State<AppState>, BotCtx(bot): BotCtx, ids: PathIds) -> ApiResult<Response> {
    let rules = state.file_rules();
    let mut data = bot.data.write().expect("bot data poisoned");
    data.files.settle(Timestamp::now(), rules);
    data.files
        .remove(ids.get(0), rules)
        .ok_or_else(|| ApiError::not_found("file", ids.get(0)))?;
    Ok(reply::empty())
}

pub async fn search_files(State(state): State<AppState>, BotCtx(bot): BotCtx, q: QueryParams) -> ApiResult<Response> {
    let query = q
        .get("query")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_query("query is required and must not be empty"))?
        .to_string();
    let consolidate = flag(&q, "consolidate")?.unwrap_or(false);
    let search_query = SearchQuery {
        query,
        tags: TagFilter::read(&q, "tags")?,
        limit: number(&q, "limit", SEARCH_LIMIT_DEFAULT, 1..=SEARCH_LIMIT_MAX)?,
        context_depth: number(&q, "contextDepth", CONTEXT_DEPTH_DEFAULT, 0..=CONTEXT_DEPTH_MAX)?,
        // The spec: withContext is unsupported and includeBreadcrumb ignored with consolidate.
        with_context: flag(&q, "withContext")?.unwrap_or(false) && !consolidate,
        include_breadcrumb: flag(&q, "includeBreadcrumb")?.unwrap_or(false) && !consolidate,
    };
    let mut data = bot.data.write().expect("bot data poisoned");
    data.files.settle(Timestamp::now(), state.file_rules());
    let files = &data.files;
    let refs: Vec<_> = files
        .by_id
        .values()
        .filter(|f| f.status == FileStatus::IndexingCompleted)
        .map(|f| (f.file_ref(), f.passages.as_slice()))
        .collect();
    let documents: Vec<Document<'_>> = refs
        .iter()
        .map(|(file, passages)| Document { file, passages })
        .chain(files.ghosts.iter().map(|g| Document {
            file: &g.file,
            passages: &g.passages,
        }))
        .collect();
    let hits = search(&documents, &search_query);
    Ok(reply::one(StatusCode::OK, "passages", &hits))
}
