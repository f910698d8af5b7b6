//! The runner: executes scenarios against a target and produces a `RunReport`, sending
//! `RunEvent`s as it goes. It never prints.

mod assert;
mod catalogue;
mod checks;
mod diff;
mod exec;
mod http;
mod ledger;
mod paginate;
mod poll;
mod provision;
mod redact;
mod run;
mod scenario;
mod step;

pub use self::catalogue::{CHECKS, is_check};
pub use self::http::{encode_component, encode_query};
pub use self::redact::{MASK, Redactor};
pub use self::run::{RunError, RunPlan, load, run};
