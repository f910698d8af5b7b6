//! `AppState`: configuration, store, page signer and the seeded ids, shared by every handler.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Semaphore;

use super::bots::{BotRecord, declare_suite_definition};
use super::config::ServerConfig;
use super::fault::{self, Fault};
use super::files::{FileRules, Signer, UrlStyle};
use super::ids::{Timestamp, new_id};
use super::paging::Pager;
use super::store::Store;
use super::variant::Variant;

/// The ids and tokens a fresh server starts with, printed by `serve` and used by `run`.
/// Its three bots are deployed and carry the suite's bot definition
/// (`scenarios/bot-definition.yaml`).
#[derive(Debug, Clone)]
pub struct Seeds {
    /// Tokens allowed into the primary workspace (both of its bots).
    pub tokens: Vec<String>,
    pub workspace_id: String,
    pub bot_id: String,
    /// A second bot of the primary workspace: same token, separate data.
    pub other_bot_id: String,
    /// A workspace the primary tokens may not enter, with its own token and bot.
    pub other_workspace_id: String,
    pub other_workspace_token: String,
    pub other_workspace_bot_id: String,
}

struct Inner {
    config: ServerConfig,
    store: Store,
    pager: Pager,
    signer: Signer,
    files: FileRules,
    seeds: Seeds,
    /// One permit per request being handled (`ServerConfig::max_in_flight`).
    in_flight: Arc<Semaphore>,
    /// How long a bot deployment takes; `None`: forever (the `bot-stuck-deploying` fault).
    deploy_delay: Option<Duration>,
    /// How long an event stays pending; `None`: forever (the `event-stuck-pending` fault).
    event_delay: Option<Duration>,
}

/// Cheap to clone: one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// A server with its two workspaces, three bots (with the suite's definition) and
    /// tokens in place.
    pub fn new(config: ServerConfig) -> Self {
        let store = Store::default();
        let tokens = if config.tokens.is_empty() {
            vec![random_token()]
        } else {
            config.tokens.clone()
        };
        let seeds = Seeds {
            tokens: tokens.clone(),
            workspace_id: new_id("wkspace"),
            bot_id: new_id("bot"),
            other_bot_id: new_id("bot"),
            other_workspace_id: new_id("wkspace"),
            other_workspace_token: random_token(),
            other_workspace_bot_id: new_id("bot"),
        };
        for token in &tokens {
            store.add_token(token, &seeds.workspace_id);
        }
        store.add_token(&seeds.other_workspace_token, &seeds.other_workspace_id);
        let now = Timestamp::now();
        for (bot, workspace) in [
            (&seeds.bot_id, &seeds.workspace_id),
            (&seeds.other_bot_id, &seeds.workspace_id),
            (&seeds.other_workspace_bot_id, &seeds.other_workspace_id),
        ] {
            let mut record = BotRecord::deployed(bot, workspace, now, store.next_seq());
            declare_suite_definition(&mut record);
            store.add_bot(record);
        }
        let key: [u8; 32] = rand::rng().random();
        let page_size = fault::page_size(&config.faults, config.page_size);
        let pager = Pager::new(key, page_size, fault::loose_page_tokens(&config.faults));
        let deploy_delay = fault::deploy_delay(&config.faults, config.deploy_delay);
        let event_delay = fault::event_delay(&config.faults, config.event_delay);
        let style = match config.variant {
            Variant::Reference => UrlStyle::Reference,
            Variant::Other => UrlStyle::S3 {
                ttl_secs: config.files.download_url_ttl.as_secs(),
            },
        };
        let signer = Signer::new(rand::rng().random()).with_style(style);
        let files = fault::file_rules(&config.faults, FileRules::from(&config.files));
        let in_flight = Arc::new(Semaphore::new(config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS)));
        AppState(Arc::new(Inner {
            in_flight,
            config,
            store,
            pager,
            signer,
            files,
            seeds,
            deploy_delay,
            event_delay,
        }))
    }

    pub fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn pager(&self) -> &Pager {
        &self.0.pager
    }

    /// Signs and checks the content URLs of files.
    pub fn signer(&self) -> &Signer {
        &self.0.signer
    }

    /// How files behave: limits, delays, URL lifetimes.
    pub fn file_rules(&self) -> &FileRules {
        &self.0.files
    }

    pub fn seeds(&self) -> &Seeds {
        &self.0.seeds
    }

    /// When a deployment starting `now` ends (`None`: never).
    pub fn deploy_due(&self, now: Timestamp) -> Option<Timestamp> {
        let delay = chrono::Duration::from_std(self.0.deploy_delay?).unwrap_or_default();
        Some(Timestamp(now.0 + delay))
    }

    /// When an event that becomes pending at `pending_at` is done (`None`: never).
    pub fn event_done(&self, pending_at: Timestamp) -> Option<Timestamp> {
        let delay = chrono::Duration::from_std(self.0.event_delay?).unwrap_or_default();
        // An event scheduled at the end of time is never done.
        pending_at.0.checked_add_signed(delay).map(Timestamp)
    }

    /// Which server this is.
    pub fn variant(&self) -> Variant {
        self.0.config.variant
    }

    pub fn in_flight(&self) -> &Arc<Semaphore> {
        &self.0.in_flight
    }

    pub fn faults(&self) -> &BTreeSet<Fault> {
        &self.0.config.faults
    }
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("bp_pat_{hex}")
}
