//! What a reference server is started with.

use std::collections::BTreeSet;
use std::time::Duration;

use super::fault::Fault;

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
    /// How long a client may take to send a request head; a slower one is disconnected,
    /// so it cannot hold a connection forever.
    pub header_read_timeout: Duration,
    /// Requests handled at once; one more is answered 429 `RateLimited` with `Retry-After`.
    pub max_in_flight: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            tokens: Vec::new(),
            max_body_bytes: 5 * 1024 * 1024,
            page_size: 20,
            default_schedule_delay: Duration::from_millis(0),
            faults: BTreeSet::new(),
            header_read_timeout: Duration::from_secs(10),
            max_in_flight: 1024,
        }
    }
}
