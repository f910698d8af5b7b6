//! Bots as the admin API sees them: the Bot record and its changes, the definition the
//! runtime API follows (tags, states, events), and the activity (logs, issues, analytics)
//! that runtime traffic leaves behind.

mod activity;
mod analytics;
mod changes;
mod definition;
mod journal;
mod record;

pub use self::activity::{Activity, IssueEvent, LogLine};
pub use self::analytics::{MAX_DAYS, Record as AnalyticsRecord, days, records};
pub use self::changes::BotChanges;
pub use self::definition::{
    SUITE_DEFINITION_YAML, Tagged, check_state, check_tags, declare_suite_definition, event_declared, suite_definition,
};
pub use self::journal::{bot_of, record, recorded_operation};
pub use self::record::BotRecord;
