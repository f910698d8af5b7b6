//! What a reference server is started with.

use std::collections::BTreeSet;
use std::time::Duration;

use super::fault::Fault;
use super::ratelimit::RateLimit;

/// Settings of one reference server. `Default` is what `bpharness serve` and the embedded
/// target use.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Tokens allowed into the primary workspace. Empty: one random token is made.
    pub tokens: Vec<String>,
    /// Largest request body accepted (bytes); more is `PayloadTooLarge`.
    pub max_body_bytes: usize,
    /// Items per page of every `meta.nextToken` list (the docs: 20).
    pub page_size: usize,
    /// How long a scheduled event waits when its `schedule.delay` is not given.
    pub default_schedule_delay: Duration,
    /// Contract violations switched on (`--fault`); empty for a faithful server.
    pub faults: BTreeSet<Fault>,
    /// A token bucket per bearer token (`--rate-limit`); `None`: no limit.
    pub rate_limit: Option<RateLimit>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tokens: Vec::new(),
            max_body_bytes: 5 * 1024 * 1024,
            page_size: 20,
            default_schedule_delay: Duration::from_millis(0),
            faults: BTreeSet::new(),
            rate_limit: None,
        }
    }
}
