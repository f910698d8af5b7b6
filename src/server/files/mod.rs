//! The files API's inner parts: records and their lazily computed status (`model`), content
//! types and passages (`content`), the tags filter (`filter`), BM25 search (`search`) and
//! the signed content URLs (`signing`). The HTTP handlers live in `routes/files.rs` and
//! `routes/storage.rs`.

pub mod content;
pub mod filter;
pub mod model;
pub mod search;
pub mod signing;

pub use self::filter::TagFilter;
pub use self::model::{FileRules, FileStatus, FileStore, Links, Owner, StoredFile};
pub use self::search::{Document, SearchQuery, search};
pub use self::signing::{Grant, Purpose, Signer, UrlStyle};
