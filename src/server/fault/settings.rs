//! Faults that change a setting rather than a message.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::server::files::FileRules;

use super::Fault;

/// The page size the server uses: the documented 20, or 25 with `page-too-large`.
pub fn page_size(faults: &BTreeSet<Fault>, configured: usize) -> usize {
    if faults.contains(&Fault::PageTooLarge) {
        25
    } else {
        configured
    }
}

/// With `token-not-bound`, page tokens are not bound to the bot and the filters.
pub fn loose_page_tokens(faults: &BTreeSet<Fault>) -> bool {
    faults.contains(&Fault::TokenNotBound)
}

/// How long a bot deployment takes: the configured delay, or never with
/// `bot-stuck-deploying`.
pub fn deploy_delay(faults: &BTreeSet<Fault>, configured: Duration) -> Option<Duration> {
    (!faults.contains(&Fault::BotStuckDeploying)).then_some(configured)
}

/// How long an event stays pending before it is processed: the configured delay, or
/// never with `event-stuck-pending`.
pub fn event_delay(faults: &BTreeSet<Fault>, configured: Duration) -> Option<Duration> {
    (!faults.contains(&Fault::EventStuckPending)).then_some(configured)
}

/// How files behave under the file faults: `file-status-skips-indexing-pending` makes
/// indexing instant, so the first read after the upload delay is already
/// `indexing_completed`; `upload-size-not-checked` and `search-returns-deleted` switch off
/// a rule.
pub fn file_rules(faults: &BTreeSet<Fault>, mut rules: FileRules) -> FileRules {
    if faults.contains(&Fault::FileStatusSkipsIndexingPending) {
        rules.indexing_delay = std::time::Duration::ZERO;
    }
    if faults.contains(&Fault::UploadSizeNotChecked) {
        rules.check_upload_size = false;
    }
    if faults.contains(&Fault::SearchReturnsDeleted) {
        rules.keep_deleted_passages = true;
    }
    rules
}
