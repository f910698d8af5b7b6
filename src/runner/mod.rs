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

// What `load` reuses, so a step under load is built and checked as in a run.
pub(crate) use self::checks::{Expectation, check_response};
pub(crate) use self::exec::Ctx;
pub(crate) use self::http::{Http, Outgoing, Received, TransportError};
pub(crate) use self::run::{Target, context, probe, resolve_target};
pub(crate) use self::step::{assertions, capture_value, expectation};
