//! Fault injection: the reference server can break its own contract on purpose, one named
//! fault at a time, so tests and `selftest` prove that each check of the harness can fail.
//!
//! Every fault lives here: most as rewrites of the request before routing or of the
//! response after it (`layer.rs`), a few as settings the server reads at start
//! (`settings.rs`). Handlers know nothing of faults.

mod catalogue;
mod layer;
mod settings;

pub use self::catalogue::{FAULTS, Family, Fault, fuzz_faults, suite_faults};
pub use self::layer::wrap;
pub use self::settings::{deploy_delay, event_delay, file_rules, loose_page_tokens, page_size};
