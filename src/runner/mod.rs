//! The runner: executes scenarios against a target and produces a `RunReport`, sending
//! `RunEvent`s as it goes. It never prints.

mod assert;
mod catalogue;
mod checks;
mod diff;
mod exec;
mod gate;
mod http;
mod ledger;
mod paginate;
mod poll;
mod redact;
mod retry;
mod run;
mod scenario;
mod step;

pub use self::catalogue::{CHECKS, is_check};
pub use self::http::{encode_component, encode_query};
pub use self::redact::{MASK, Redactor};
pub use self::retry::{RetryBudget, Verdict, Waited, retry_after};
pub use self::run::{DEFAULT_MAX_RETRY_WAIT, RunError, RunPlan, load, run};
pub(crate) use self::run::{Released, release_target};

// What `load` reuses, so a step under load is built and checked as in a run.
pub(crate) use self::checks::{Expectation, check_response, fail, pass};
pub(crate) use self::exec::{Built, Ctx, curl_line};
pub use self::http::{Http, Outgoing, Received, TransportError};
pub(crate) use self::ledger::Ledger;
pub use self::ledger::created_id_pointer;
pub(crate) use self::run::context;
pub(crate) use self::step::{Exchanged, Shape, assertions, capture_into, capture_value, exchange, expectation};
