//! The embedded reference server: an in-memory implementation of the Botpress Cloud API,
//! faithful to the documentation, that `run` and `load` target when no `--target` is given
//! and that every test runs against. It names itself on every answer ([`IDENTITY_HEADER`]);
//! its second personality, the "other server" ([`ServerConfig::other_server`]), does not.

mod auth;
mod body;
mod bots;
mod config;
mod error;
pub mod fault;
mod files;
mod front;
mod ids;
mod index;
mod limit;
mod paging;
mod query;
mod ratelimit;
mod routes;
mod spawn;
mod state;
mod store;
mod tables;
mod variant;

pub use self::bots::{SUITE_DEFINITION_YAML, suite_definition};
pub use self::config::{FilesConfig, ServerConfig};
pub use self::error::ApiError;
pub use self::ratelimit::RateLimit;
pub use self::routes::{BUILT_IN_ACTIONS, app, router};
pub use self::spawn::{ServerHandle, spawn, spawn_local};
pub use self::state::{AppState, Seeds};
pub use self::variant::{IDENTITY_HEADER, IDENTITY_VALUE, REFUSE_EVERY, Variant};
