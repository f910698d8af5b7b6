//! `bpharness fuzz`: requests generated from the contract. Cases come from the request
//! schemas, the parameters table and the bot's declarations (`generate`, `plan`, `world`);
//! each answer gets a verdict (`checks`); stateful sequences are derived from the
//! catalogue (`stateful`); failures are shrunk, saved and replayed (`shrink`); `run` puts it
//! together into a `RunReport`, so `fuzz` has the reporters and exit codes of `run`.

mod case;
mod checks;
mod generate;
mod plan;
mod run;
mod shrink;
mod stateful;
mod world;

pub use self::case::{Body, Case, Intent, Phase, Rule};
pub use self::checks::{allowed_refusals, same};
pub use self::run::{Failure, FuzzPlan, FuzzSummary, PhaseCount, curl_of, fuzz};
pub use self::shrink::{Saved, load as load_corpus};
pub use self::stateful::{Resource, resources};
