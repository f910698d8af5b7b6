//! The target of a run: flags and `BP_*` variables → a [`TargetSpec`] → a ready [`Target`]
//! (the embedded reference server started, or a remote server reached), with what it can
//! do beyond the docs ([`Capabilities`]) and the ids the run uses, bots made as needed.
//! `run`, `load`, `capture`, `drift` and `selftest` all go through here; the runner never
//! starts a server itself.

mod args;
pub mod capability;
pub mod definition;
mod provision;
mod resolve;

pub use self::args::TargetArgs;
pub use self::capability::{CAPABILITIES, Capabilities, Capability};
pub use self::resolve::{Target, TargetError, TargetKind, TargetSpec};
