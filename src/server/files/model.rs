//! A bot's files: the records, their content, their status computed on read, and the
//! rules (limits, delays, URL lifetimes) they follow.
//!
//! No background task moves a file along. Each record keeps the time its upload was
//! accepted; `settle` applies every transition that is due by the time of the read
//! (`upload_pending` → `upload_completed` or `indexing_pending` after the upload delay,
//! `indexing_pending` → `indexing_completed` or `indexing_failed` after the indexing delay,
//! expired files removed), the way `Event::settle` moves scheduled events.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::server::config::FilesConfig;
use crate::server::ids::Timestamp;
use crate::server::store::Tags;

use super::content::{self, Passage};
use super::signing::{Grant, Purpose, Signer};

/// How files behave on this server: from the configuration, adjusted by faults.
#[derive(Debug, Clone)]
pub struct FileRules {
    pub max_file_bytes: u64,
    pub bot_quota_bytes: u64,
    pub upload_delay: Duration,
    pub indexing_delay: Duration,
    pub download_url_ttl: Duration,
    pub public_origin: Option<String>,
    /// Refuse an upload whose length differs from the declared `size`.
    pub check_upload_size: bool,
    /// Keep the passages of deleted files searchable (a fault, never the default).
    pub keep_deleted_passages: bool,
}

impl From<&FilesConfig> for FileRules {
    fn from(config: &FilesConfig) -> Self {
        FileRules {
            max_file_bytes: config.max_file_bytes,
            bot_quota_bytes: config.bot_quota_bytes,
            upload_delay: config.upload_delay,
            indexing_delay: config.indexing_delay,
            download_url_ttl: config.download_url_ttl,
            public_origin: config.public_origin.clone(),
            check_upload_size: true,
            keep_deleted_passages: false,
        }
    }
}

/// `File.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    UploadPending,
    UploadFailed,
    UploadCompleted,
    IndexingPending,
    IndexingFailed,
    IndexingCompleted,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::UploadPending => "upload_pending",
            FileStatus::UploadFailed => "upload_failed",
            FileStatus::UploadCompleted => "upload_completed",
            FileStatus::IndexingPending => "indexing_pending",
            FileStatus::IndexingFailed => "indexing_failed",
            FileStatus::IndexingCompleted => "indexing_completed",
        }
    }
}

/// `File.owner`: who upserted the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// The `file` reference of a search passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRef {
    pub id: String,
    pub key: String,
    pub content_type: String,
    pub metadata: Map<String, Value>,
    pub tags: Tags,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One file of a bot.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: String,
    pub bot_id: String,
    pub key: String,
    pub content_type: String,
    pub tags: Tags,
    pub metadata: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub access_policies: Vec<String>,
    pub index: bool,
    pub status: FileStatus,
    pub failed_reason: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub owner: Owner,
    /// `size` as upserted: what the upload must match.
    pub declared_size: u64,
    /// Bumped by every upsert: upload and download URLs of earlier content stop working.
    pub generation: u64,
    /// The bytes, once an upload was accepted.
    pub content: Option<Bytes>,
    /// When the upload was accepted (the status moves on `upload_delay` later).
    pub uploaded_at: Option<Timestamp>,
    /// When indexing ends, while `indexing_pending`.
    pub indexing_due: Option<Timestamp>,
    pub passages: Vec<Passage>,
    /// The upload must carry `x-amz-tagging: public=true`.
    pub public_immediately: bool,
    pub seq: u64,
}

fn later(at: Timestamp, by: Duration) -> Timestamp {
    Timestamp(at.0 + chrono::Duration::from_std(by).unwrap_or_default())
}

impl StoredFile {
    /// Applies every transition due at `now`.
    pub fn settle(&mut self, now: Timestamp, rules: &FileRules) {
        loop {
            match self.status {
                FileStatus::UploadPending => {
                    let Some(due) = self.uploaded_at.map(|at| later(at, rules.upload_delay)) else {
                        return;
                    };
                    if due > now {
                        return;
                    }
                    self.updated_at = self.updated_at.max(due);
                    if self.index {
                        self.status = FileStatus::IndexingPending;
                        // Indexing starts when the upload's end is first seen, so every
                        // reader sees indexing_pending at least once, however late it reads.
                        self.indexing_due = Some(later(due.max(now), rules.indexing_delay));
                    } else {
                        self.status = FileStatus::UploadCompleted;
                    }
                }
                FileStatus::IndexingPending => {
                    let Some(due) = self.indexing_due.filter(|due| *due <= now) else {
                        return;
                    };
                    self.updated_at = self.updated_at.max(due);
                    self.indexing_due = None;
                    let bytes = self.content.clone().unwrap_or_default();
                    match content::passages(&self.content_type, &bytes) {
                        Ok(passages) => {
                            self.passages = passages;
                            self.status = FileStatus::IndexingCompleted;
                        }
                        Err(reason) => {
                            self.failed_reason = Some(reason);
                            self.status = FileStatus::IndexingFailed;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// `size`: the stored length once the upload completed, `null` before.
    pub fn size(&self) -> Option<u64> {
        match self.status {
            FileStatus::UploadPending | FileStatus::UploadFailed => None,
            _ => self.content.as_ref().map(|c| c.len() as u64),
        }
    }

    /// Bytes this file takes from the bot's quota.
    pub fn stored_bytes(&self) -> u64 {
        match self.status {
            FileStatus::UploadFailed => 0,
            _ => self.content.as_ref().map_or(0, |c| c.len() as u64),
        }
    }

    pub fn is_public(&self) -> bool {
        self.access_policies.iter().any(|p| p == "public_content")
    }

    /// Whether the content can be downloaded (uploaded and past `upload_pending`).
    pub fn readable(&self) -> bool {
        self.content.is_some() && !matches!(self.status, FileStatus::UploadPending | FileStatus::UploadFailed)
    }

    pub fn file_ref(&self) -> FileRef {
        FileRef {
            id: self.id.clone(),
            key: self.key.clone(),
            content_type: self.content_type.clone(),
            metadata: self.metadata.clone(),
            tags: self.tags.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Marks the current upload failed.
    pub fn fail_upload(&mut self, reason: impl Into<String>) {
        self.status = FileStatus::UploadFailed;
        self.failed_reason = Some(reason.into());
        self.content = None;
        self.uploaded_at = None;
        self.updated_at = Timestamp::after(self.updated_at);
    }

    /// The file as the API shows it; `upload` adds `uploadUrl`.
    pub fn view(&self, links: &Links<'_>, upload: bool) -> FileView<'_> {
        let url = if self.is_public() {
            links.url(Grant {
                purpose: Purpose::Public,
                bot: &self.bot_id,
                file: &self.id,
                generation: 0,
                expires: 0,
            })
        } else {
            links.url(Grant {
                purpose: Purpose::Download,
                bot: &self.bot_id,
                file: &self.id,
                generation: self.generation,
                expires: links.expires,
            })
        };
        let upload_url = upload.then(|| {
            links.url(Grant {
                purpose: Purpose::Upload,
                bot: &self.bot_id,
                file: &self.id,
                generation: self.generation,
                expires: 0,
            })
        });
        FileView {
            id: &self.id,
            bot_id: &self.bot_id,
            key: &self.key,
            url,
            size: self.size(),
            content_type: &self.content_type,
            tags: &self.tags,
            metadata: &self.metadata,
            created_at: self.created_at,
            updated_at: self.updated_at,
            access_policies: &self.access_policies,
            index: self.index,
            status: self.status,
            failed_status_reason: self.failed_reason.as_deref(),
            expires_at: self.expires_at,
            owner: &self.owner,
            indexing_stack: (self.status == FileStatus::IndexingCompleted).then_some("v2"),
            upload_url,
        }
    }
}

/// What URLs in a response are made with.
pub struct Links<'a> {
    pub signer: &'a Signer,
    pub origin: &'a str,
    /// Unix seconds at which download URLs made now expire.
    pub expires: i64,
}

impl Links<'_> {
    fn url(&self, grant: Grant<'_>) -> String {
        self.signer.url(self.origin, &grant)
    }
}

/// The JSON of a File.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileView<'a> {
    id: &'a str,
    bot_id: &'a str,
    key: &'a str,
    url: String,
    size: Option<u64>,
    content_type: &'a str,
    tags: &'a Tags,
    metadata: &'a Map<String, Value>,
    created_at: Timestamp,
    updated_at: Timestamp,
    access_policies: &'a [String],
    index: bool,
    status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed_status_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<Timestamp>,
    owner: &'a Owner,
    #[serde(skip_serializing_if = "Option::is_none")]
    indexing_stack: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload_url: Option<String>,
}

/// Passages left behind by a deleted file (only with `keep_deleted_passages`).
#[derive(Debug, Clone)]
pub struct Ghost {
    pub file: FileRef,
    pub passages: Vec<Passage>,
}

/// Every file of one bot, by id and by key.
#[derive(Debug, Default)]
pub struct FileStore {
    pub by_id: HashMap<String, StoredFile>,
    /// key → id: keys are unique per bot.
    pub by_key: HashMap<String, String>,
    pub ghosts: Vec<Ghost>,
}

impl FileStore {
    /// Settles every file at `now` and removes the expired ones.
    pub fn settle(&mut self, now: Timestamp, rules: &FileRules) {
        let expired: Vec<String> = self
            .by_id
            .values()
            .filter(|f| f.expires_at.is_some_and(|at| at <= now))
            .map(|f| f.id.clone())
            .collect();
        for id in expired {
            self.remove(&id, rules);
        }
        for file in self.by_id.values_mut() {
            file.settle(now, rules);
        }
    }

    /// Removes a file with its content and passages; `None` if there is no such file.
    pub fn remove(&mut self, id: &str, rules: &FileRules) -> Option<StoredFile> {
        let file = self.by_id.remove(id)?;
        self.by_key.remove(&file.key);
        if rules.keep_deleted_passages && !file.passages.is_empty() {
            self.ghosts.push(Ghost {
                file: file.file_ref(),
                passages: file.passages.clone(),
            });
        }
        Some(file)
    }

    /// Bytes stored by every file but `except`.
    pub fn stored_bytes(&self, except: Option<&str>) -> u64 {
        self.by_id
            .values()
            .filter(|f| Some(f.id.as_str()) != except)
            .map(StoredFile::stored_bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> FileRules {
        FileRules {
            upload_delay: Duration::from_millis(50),
            indexing_delay: Duration::from_millis(300),
            ..FileRules::from(&FilesConfig::default())
        }
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp(chrono::DateTime::from_timestamp_millis(1_700_000_000_000 + ms).unwrap())
    }

    fn file(index: bool, content_type: &str, bytes: &'static [u8]) -> StoredFile {
        StoredFile {
            id: "file_1".into(),
            bot_id: "bot_1".into(),
            key: "k".into(),
            content_type: content_type.into(),
            tags: Tags::new(),
            metadata: Map::new(),
            created_at: at(0),
            updated_at: at(0),
            access_policies: Vec::new(),
            index,
            status: FileStatus::UploadPending,
            failed_reason: None,
            expires_at: None,
            owner: Owner {
                kind: "bot",
                id: Some("bot_1".into()),
                name: None,
                alias: None,
            },
            declared_size: bytes.len() as u64,
            generation: 1,
            content: Some(Bytes::from_static(bytes)),
            uploaded_at: Some(at(10)),
            indexing_due: None,
            passages: Vec::new(),
            public_immediately: false,
            seq: 1,
        }
    }

    #[test]
    fn status_moves_at_the_due_times_and_no_sooner() {
        let rules = rules();
        let mut f = file(true, "text/plain", b"one\n\ntwo");
        f.settle(at(59), &rules);
        assert_eq!((f.status, f.size()), (FileStatus::UploadPending, None));
        f.settle(at(60), &rules);
        assert_eq!((f.status, f.size()), (FileStatus::IndexingPending, Some(8)));
        assert_eq!(f.updated_at, at(60));
        f.settle(at(359), &rules);
        assert_eq!(f.status, FileStatus::IndexingPending);
        f.settle(at(360), &rules);
        assert_eq!(f.status, FileStatus::IndexingCompleted);
        assert_eq!(f.passages.len(), 2);
        assert_eq!(f.updated_at, at(360));
        // A late first read still sees indexing_pending, for the indexing delay.
        let mut late = file(true, "text/plain", b"x");
        late.settle(at(10_000), &rules);
        assert_eq!((late.status, late.updated_at), (FileStatus::IndexingPending, at(60)));
        late.settle(at(10_299), &rules);
        assert_eq!(late.status, FileStatus::IndexingPending);
        late.settle(at(10_300), &rules);
        assert_eq!(late.status, FileStatus::IndexingCompleted);
        let mut plain = file(false, "image/png", b"x");
        plain.settle(at(10_000), &rules);
        assert_eq!(plain.status, FileStatus::UploadCompleted);
        let mut binary = file(true, "image/png", b"x");
        binary.settle(at(60), &rules);
        binary.settle(at(10_000), &rules);
        assert_eq!(binary.status, FileStatus::IndexingFailed);
        assert!(binary.failed_reason.as_deref().unwrap().contains("image/png"));
        // Nothing moves without an accepted upload.
        let mut waiting = file(true, "text/plain", b"x");
        waiting.uploaded_at = None;
        waiting.settle(at(10_000), &rules);
        assert_eq!(waiting.status, FileStatus::UploadPending);
    }

    #[test]
    fn expired_files_go_and_deleted_passages_stay_only_under_the_fault_rule() {
        let mut rules = rules();
        let mut store = FileStore::default();
        let mut f = file(true, "text/plain", b"word");
        f.expires_at = Some(at(1_000));
        store.by_key.insert(f.key.clone(), f.id.clone());
        store.by_id.insert(f.id.clone(), f);
        store.settle(at(60), &rules);
        store.settle(at(500), &rules);
        assert_eq!(store.stored_bytes(None), 4);
        assert_eq!(store.by_id["file_1"].status, FileStatus::IndexingCompleted);
        store.settle(at(1_000), &rules);
        assert!(store.by_id.is_empty() && store.by_key.is_empty() && store.ghosts.is_empty());

        rules.keep_deleted_passages = true;
        let mut f = file(true, "text/plain", b"word");
        f.settle(at(60), &rules);
        f.settle(at(10_000), &rules);
        store.by_id.insert(f.id.clone(), f);
        assert!(store.remove("file_1", &rules).is_some());
        assert_eq!(store.ghosts.len(), 1);
        assert!(store.remove("file_1", &rules).is_none());
    }
}
