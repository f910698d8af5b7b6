//! Exit codes, in one documented place (README "Exit codes").

/// Every check passed.
pub const OK: u8 = 0;
/// At least one check failed.
pub const CHECK_FAILED: u8 = 1;
/// Usage error: bad flags or arguments (clap's own code).
pub const USAGE: u8 = 2;
/// A scenario or schema file is invalid; nothing was sent.
pub const INVALID_INPUT: u8 = 3;
/// The target could not be reached.
pub const UNREACHABLE: u8 = 4;
/// A load run finished, and at least one of its thresholds was breached.
pub const THRESHOLD_BREACHED: u8 = 5;
/// Internal error: a bug in bpharness.
pub const INTERNAL: u8 = 70;
