//! File content behind capability URLs: `PUT …/upload` takes the bytes once, `GET
//! …/content` serves them until the URL expires, `GET …/public` serves them while the file
//! has `public_content`.
//!
//! Mounted outside the bearer-token layer, under `/_storage/{botId}/{fileId}/…`, the way
//! the real API hands out pre-signed storage URLs: the official client PUTs to `uploadUrl`
//! with only `Content-Type` (plus `x-amz-tagging: public=true` for public files), no
//! `Authorization`. The signature (`files::signing`) is what grants access, so it is
//! checked before anything is looked up. Refusals use the API's error body:
//!
//! | situation | answer |
//! |---|---|
//! | signature missing, wrong or tampered | 403 `Forbidden` |
//! | download URL past its `expires` | 403 `Forbidden` (message says expired) |
//! | upload URL of an earlier upsert (generation) | 403 `Forbidden` |
//! | bot or file unknown, deleted, or expired | 404 `ResourceNotFound` |
//! | no content yet, or a download URL of replaced content | 404 `ResourceNotFound` |
//! | a second upload to the same URL | 409 `AlreadyExists` |
//! | upload without `x-amz-tagging: public=true` when `publicContentImmediatelyAccessible` | 403 `Forbidden` |
//! | upload longer than the maximum file size | 413 `LimitExceeded`, file `upload_failed` |
//! | upload length differs from the declared `size` | 400 `InvalidPayload`, file `upload_failed` |
//! | upload takes the bot over its storage quota | 403 `QuotaExceeded`, file `upload_failed` |
//! | public URL of a file without `public_content` | 403 `Forbidden` |

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::ErrorType;
use crate::server::error::{ApiError, ApiResult};
use crate::server::files::{FileStatus, Grant, Purpose, StoredFile};
use crate::server::ids::Timestamp;
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use crate::server::store::BotSpace;

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorType::Forbidden, message)
}

fn not_found(file: &str) -> ApiError {
    ApiError::not_found("file", file)
}

fn bot(state: &AppState, bot: &str, file: &str) -> ApiResult<std::sync::Arc<BotSpace>> {
    state.store().bot(bot).ok_or_else(|| not_found(file))
}

/// Checks the signature of a URL for `purpose`; every query value it covers must be there.
fn verify(state: &AppState, q: &QueryParams, purpose: Purpose, bot: &str, file: &str) -> ApiResult<(u64, i64)> {
    let invalid = || forbidden("the signature of this URL is missing or not valid");
    let generation = match purpose {
        Purpose::Public => 0,
        _ => q.get("generation").and_then(|g| g.parse().ok()).ok_or_else(invalid)?,
    };
    let expires = match purpose {
        Purpose::Download => q.get("expires").and_then(|e| e.parse().ok()).ok_or_else(invalid)?,
        _ => 0,
    };
    let signature = q.get("signature").ok_or_else(invalid)?;
    let grant = Grant {
        purpose,
        bot,
        file,
        generation,
        expires,
    };
    if !state.signer().verify(&grant, signature) {
        return Err(invalid());
    }
    Ok((generation, expires))
}

/// Marks the upload of `generation` failed, if that upload is still the current one.
fn fail(space: &BotSpace, file: &str, generation: u64, reason: &str) {
    let mut data = space.data.write().expect("bot data poisoned");
    if let Some(f) = data.files.by_id.get_mut(file)
        && f.generation == generation
        && f.status == FileStatus::UploadPending
    {
        f.fail_upload(reason);
    }
}

/// The file as an upload of `generation` may still write it.
fn open_for_upload<'a>(
    files: &'a mut std::collections::HashMap<String, StoredFile>,
    id: &str,
    generation: u64,
) -> ApiResult<&'a mut StoredFile> {
    let file = files.get_mut(id).ok_or_else(|| not_found(id))?;
    if file.generation != generation {
        return Err(forbidden(
            "this upload URL is for an earlier version of the file; use the uploadUrl of the latest upsertFile",
        ));
    }
    if file.status != FileStatus::UploadPending || file.uploaded_at.is_some() {
        return Err(ApiError::new(
            ErrorType::AlreadyExists,
            format!(
                "this upload URL was already used (file {id:?} is {}); upsert the file again to upload new content",
                file.status.as_str()
            ),
        ));
    }
    Ok(file)
}

pub async fn upload(
    State(state): State<AppState>,
    Path((bot_id, file_id)): Path<(String, String)>,
    q: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (generation, _) = verify(&state, &q, Purpose::Upload, &bot_id, &file_id)?;
    accept_upload(&state, &bot_id, &file_id, generation, &headers, body).await
}

/// An upload whose URL was verified: the content of `generation` of the file.
pub async fn accept_upload(
    state: &AppState,
    bot_id: &str,
    file_id: &str,
    generation: u64,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let space = bot(state, bot_id, file_id)?;
    let rules = state.file_rules();
    let declared = {
        let mut data = space.data.write().expect("bot data poisoned");
        data.files.settle(Timestamp::now(), rules);
        let file = open_for_upload(&mut data.files.by_id, file_id, generation)?;
        let tagged_public = headers
            .get("x-amz-tagging")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split('&').any(|t| t.trim() == "public=true"));
        if file.public_immediately && !tagged_public {
            return Err(forbidden(
                "publicContentImmediatelyAccessible: the upload must carry the header x-amz-tagging: public=true",
            ));
        }
        file.declared_size
    };
    let limit = rules.max_file_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let over = |n: u64| {
        let reason = format!("the upload is over the maximum file size of {limit} bytes (got {n} bytes or more)");
        fail(&space, file_id, generation, &reason);
        ApiError::new(ErrorType::LimitExceeded, reason)
    };
    if let Some(n) = announced.filter(|n| *n > limit) {
        return Err(over(n));
    }
    let bytes: Bytes = to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| over(limit + 1))?;
    let length = bytes.len() as u64;
    let mut data = space.data.write().expect("bot data poisoned");
    let stored_elsewhere = data.files.stored_bytes(Some(file_id));
    let file = open_for_upload(&mut data.files.by_id, file_id, generation)?;
    if rules.check_upload_size && length != declared {
        let reason = format!("the upload has {length} bytes but the file was upserted with size {declared}");
        file.fail_upload(reason.clone());
        return Err(ApiError::invalid_payload(reason));
    }
    if stored_elsewhere + length > rules.bot_quota_bytes {
        let reason = format!(
            "storage quota exceeded: the bot stores {stored_elsewhere} bytes, {length} more would exceed its {} bytes",
            rules.bot_quota_bytes
        );
        file.fail_upload(reason.clone());
        return Err(ApiError::new(ErrorType::QuotaExceeded, reason));
    }
    let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
    file.content = Some(bytes);
    let now = Timestamp::now();
    file.uploaded_at = Some(now);
    file.updated_at = Timestamp::after(file.updated_at);
    file.settle(now, rules);
    let mut response = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

fn serve(file: &StoredFile) -> ApiResult<Response> {
    let Some(bytes) = file.content.clone().filter(|_| file.readable()) else {
        return Err(ApiError::new(
            ErrorType::ResourceNotFound,
            format!(
                "file {:?} has no content to serve (status {})",
                file.id,
                file.status.as_str()
            ),
        ));
    };
    let content_type =
        HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

pub async fn download(
    State(state): State<AppState>,
    Path((bot_id, file_id)): Path<(String, String)>,
    q: QueryParams,
) -> ApiResult<Response> {
    let (generation, expires) = verify(&state, &q, Purpose::Download, &bot_id, &file_id)?;
    serve_download(&state, &bot_id, &file_id, generation, expires)
}

/// A download whose URL was verified: the content of `generation`, until `expires`.
pub fn serve_download(
    state: &AppState,
    bot_id: &str,
    file_id: &str,
    generation: u64,
    expires: i64,
) -> ApiResult<Response> {
    let now = Timestamp::now();
    if now.0.timestamp() >= expires {
        let at = chrono::DateTime::from_timestamp(expires, 0).map_or_else(|| expires.to_string(), |t| t.to_rfc3339());
        return Err(forbidden(format!(
            "this URL expired at {at}; getFile gives a fresh one"
        )));
    }
    let space = bot(state, bot_id, file_id)?;
    let mut data = space.data.write().expect("bot data poisoned");
    data.files.settle(now, state.file_rules());
    let file = data.files.by_id.get(file_id).ok_or_else(|| not_found(file_id))?;
    if file.generation != generation {
        return Err(ApiError::new(
            ErrorType::ResourceNotFound,
            format!("the content this URL was made for was replaced by an upsert of file {file_id:?}"),
        ));
    }
    serve(file)
}

pub async fn public(
    State(state): State<AppState>,
    Path((bot_id, file_id)): Path<(String, String)>,
    q: QueryParams,
) -> ApiResult<Response> {
    verify(&state, &q, Purpose::Public, &bot_id, &file_id)?;
    serve_public(&state, &bot_id, &file_id)
}

/// A public download whose URL was verified: the content while the file is public.
pub fn serve_public(state: &AppState, bot_id: &str, file_id: &str) -> ApiResult<Response> {
    let space = bot(state, bot_id, file_id)?;
    let mut data = space.data.write().expect("bot data poisoned");
    data.files.settle(Timestamp::now(), state.file_rules());
    let file = data.files.by_id.get(file_id).ok_or_else(|| not_found(file_id))?;
    if !file.is_public() {
        return Err(forbidden(format!(
            "file {file_id:?} is not public (its accessPolicies lack public_content)"
        )));
    }
    serve(file)
}
