//! What a reference server is started with.

use std::collections::BTreeSet;
use std::time::Duration;

use super::fault::Fault;
use super::ratelimit::RateLimit;
use super::variant::Variant;

/// Records of each kind (users, conversations, messages, events) a bot keeps by default.
pub const DEFAULT_MAX_RECORDS: usize = 20_000;

/// Settings of one reference server. `Default` is what `bpharness serve` and the embedded
/// target use; [`ServerConfig::other_server`] is the other personality (`serve --variant
/// other`).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Which server this is: the reference server, or the "other server" that differs
    /// only where the docs leave freedom (`variant.rs`).
    pub variant: Variant,
    /// Tokens allowed into the primary workspace. Empty: one random token is made.
    pub tokens: Vec<String>,
    /// Largest request body accepted (bytes); more is `PayloadTooLarge`.
    pub max_body_bytes: usize,
    /// Items per page of every `meta.nextToken` list (the docs: 20).
    pub page_size: usize,
    /// How long a scheduled event waits when its `schedule.delay` is not given.
    pub default_schedule_delay: Duration,
    /// How long a bot stays `deploying` after createBot or an updateBot that changes its
    /// code.
    pub deploy_delay: Duration,
    /// How long an event stays `pending` before it is `processed` (or `ignored`).
    pub event_delay: Duration,
    /// The files API: limits, delays and URL lifetimes.
    pub files: FilesConfig,
    /// Contract violations switched on (`--fault`); empty for a faithful server.
    pub faults: BTreeSet<Fault>,
    /// A token bucket per bearer token (`--rate-limit`); `None`: no limit.
    pub rate_limit: Option<RateLimit>,
    /// How long a client may take to send a request head; a slower one is disconnected,
    /// so it cannot hold a connection forever.
    pub header_read_timeout: Duration,
    /// Requests handled at once; one more is answered 429 `RateLimited` with `Retry-After`.
    pub max_in_flight: usize,
    /// Users, conversations, messages and events kept per bot, each; past that the oldest
    /// of the kind are evicted, so sustained writes cannot grow the server without bound.
    pub max_records: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            variant: Variant::Reference,
            tokens: Vec::new(),
            max_body_bytes: 5 * 1024 * 1024,
            page_size: 20,
            default_schedule_delay: Duration::from_millis(0),
            deploy_delay: Duration::from_millis(50),
            event_delay: Duration::from_millis(50),
            files: FilesConfig::default(),
            faults: BTreeSet::new(),
            rate_limit: None,
            header_read_timeout: Duration::from_secs(10),
            max_in_flight: 1024,
            max_records: DEFAULT_MAX_RECORDS,
        }
    }
}

impl ServerConfig {
    /// The "other server": a conformant server that is not the reference one. Same API,
    /// same seeds (three bots with the suite's definition, tokens, workspaces), but no
    /// identity header, other error wording, a `429` now and then, storage URLs on another
    /// origin, no built-in actions, no activity made from API traffic, and slower state
    /// machines (deploy 1.2 s, events, uploads and indexing 1 s). See `variant.rs`.
    pub fn other_server() -> Self {
        ServerConfig {
            variant: Variant::Other,
            deploy_delay: Duration::from_millis(1200),
            event_delay: Duration::from_secs(1),
            files: FilesConfig {
                upload_delay: Duration::from_secs(1),
                indexing_delay: Duration::from_secs(1),
                ..FilesConfig::default()
            },
            ..ServerConfig::default()
        }
    }
}

/// Settings of the files API.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// Largest file (bytes), declared or uploaded: a hard limit (`LimitExceeded`).
    pub max_file_bytes: u64,
    /// Bytes of uploaded content one bot may keep: a soft quota (`QuotaExceeded`).
    pub bot_quota_bytes: u64,
    /// How long an accepted upload reads `upload_pending` before it moves on, as when the
    /// storage notifies the API after the fact.
    pub upload_delay: Duration,
    /// How long a file stays `indexing_pending` before its indexing ends.
    pub indexing_delay: Duration,
    /// Lifetime of the signed `url` of a file without `public_content`.
    pub download_url_ttl: Duration,
    /// Origin put in front of `uploadUrl` and `url` (`http://host:port`); `None`: the
    /// origin the request was sent to (its `Host` header).
    pub public_origin: Option<String>,
}

impl Default for FilesConfig {
    /// The quota is below the largest file on purpose, as on a small plan: a scenario
    /// reaches both refusals by declaring a size, without uploading megabytes.
    fn default() -> Self {
        FilesConfig {
            max_file_bytes: 100 * 1024 * 1024,
            bot_quota_bytes: 50 * 1024 * 1024,
            upload_delay: Duration::from_millis(50),
            indexing_delay: Duration::from_millis(300),
            download_url_ttl: Duration::from_secs(3600),
            public_origin: None,
        }
    }
}
