//! The catalogue of faults: contract violations a real server could ship, each switched on
//! by name. Every fault names the check family that must catch it; `bpharness selftest`
//! proves that it does.

use std::fmt;
use std::str::FromStr;

/// The kind of check that should turn red when a fault is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    SuccessStatus,
    Shape,
    Headers,
    ErrorBody,
    Pagination,
    Filters,
    StateMachine,
    Semantics,
    Security,
    Limits,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::SuccessStatus => "success status",
            Family::Shape => "envelope and field shapes",
            Family::Headers => "headers",
            Family::ErrorBody => "error bodies",
            Family::Pagination => "pagination",
            Family::Filters => "filters",
            Family::StateMachine => "state machine",
            Family::Semantics => "semantics",
            Family::Security => "security",
            Family::Limits => "limits",
        }
    }
}

macro_rules! faults {
    ($($variant:ident = $name:literal, $family:ident, [$($check:literal),*], $what:literal;)*) => {
        /// One named contract violation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault { $($variant,)* }

        /// Every fault, in catalogue order.
        pub const FAULTS: &[Fault] = &[$(Fault::$variant,)*];

        impl Fault {
            /// The name used with `--fault`.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            pub fn family(self) -> Family {
                match self { $(Fault::$variant => Family::$family,)* }
            }

            /// The checks that must fail with the fault on (ids of `runner::CHECKS`);
            /// `selftest` proves each of them does.
            pub fn expected_checks(self) -> &'static [&'static str] {
                match self { $(Fault::$variant => &[$($check),*],)* }
            }

            /// What the fault breaks, in one line.
            pub fn description(self) -> &'static str {
                match self { $(Fault::$variant => $what,)* }
            }
        }
    };
}

faults! {
    CreateReturns200 = "create-returns-200", SuccessStatus, ["status"],
        "createUser, createConversation, createEvent and createMessage answer 200 instead of 201";
    GetOrCreateReturns201 = "get-or-create-returns-201", SuccessStatus, ["status"],
        "get-or-create operations answer 201 instead of 200";
    UserMissingCreatedAt = "user-missing-created-at", Shape, ["schema", "capture"],
        "user objects lack the required createdAt";
    MessagePayloadString = "message-payload-string", Shape, ["schema", "assert"],
        "message payload is a JSON string instead of an object";
    NonIsoTimestamps = "non-iso-timestamps", Shape, ["schema"],
        "createdAt/updatedAt are HTTP dates, not ISO 8601";
    NullChannel = "null-channel", Shape, ["schema", "assert"],
        "conversation channel is null";
    EventMissingFailureReason = "event-missing-failure-reason", Shape, ["schema", "assert"],
        "events lack failureReason (required, nullable)";
    StateMissingMeta = "state-missing-meta", Shape, ["schema", "assert"],
        "getState and getOrSetState answer without meta";
    ListMissingMeta = "list-missing-meta", Shape, ["schema", "page-expected", "page-count"],
        "list responses lack the required meta object";
    ExtraField = "extra-field", Shape, ["schema-extra"],
        "user objects carry an undocumented internalNote field (caught under --strict)";
    TextContentType = "text-content-type", Headers, ["content-type"],
        "success responses say Content-Type text/plain";
    RateLimitNoRetryAfter = "rate-limit-no-retry-after", Headers, [],
        "429 RateLimited answers come without Retry-After (caught by bpharness load, with the rate limiter on)";
    ErrorWithoutId = "error-without-id", ErrorBody, ["error-body"],
        "error bodies lack id";
    ErrorCodeMismatch = "error-code-mismatch", ErrorBody, ["error-body", "error-code"],
        "error body code differs from the HTTP status";
    ErrorUnknownType = "error-unknown-type", ErrorBody, ["error-body", "error-catalogue", "error-type"],
        "ResourceNotFound is sent as type NotFound, outside the catalogue";
    ErrorWrongType = "error-wrong-type", ErrorBody, ["error-type"],
        "InvalidPayload is sent as InvalidQuery (same status, wrong type for the situation)";
    PlainTextErrors = "plain-text-errors", ErrorBody, ["content-type", "json"],
        "errors are plain text, not the JSON error body";
    VagueErrorMessages = "vague-error-messages", ErrorBody, ["error-message"],
        "InvalidPayload messages no longer name the offending field";
    BadInput500 = "bad-input-500", ErrorBody, ["status", "no-5xx", "error-type"],
        "invalid bodies crash the handler: 500 Internal instead of 400";
    PageDropsNextToken = "page-drops-next-token", Pagination, ["page-expected", "page-count"],
        "list pages never carry meta.nextToken, so walks stop after the first page";
    PageRepeatsToken = "page-repeats-token", Pagination, ["page-termination", "page-expected", "page-count"],
        "the nextToken of a later page is the one that was sent, so the walk never advances";
    PageNeverEnds = "page-never-ends", Pagination, ["page-termination", "page-unique", "page-order"],
        "the last page still carries a nextToken, which leads back to the first page";
    PageDuplicatesItem = "page-duplicates-item", Pagination, ["assert", "page-size", "page-unique", "page-order"],
        "every page repeats its first item at the end";
    PageSkipsItem = "page-skips-item", Pagination, ["page-expected", "page-count"],
        "every page after the first drops its first item";
    PageWrongOrder = "page-wrong-order", Pagination, ["page-order"],
        "items within each page are in reverse order";
    PageTooLarge = "page-too-large", Pagination, ["page-size", "page-count"],
        "pages hold 25 items, over the documented 20";
    IgnoreTagFilter = "ignore-tag-filter", Filters, ["assert", "page-absent"],
        "the tags filter of list operations is ignored";
    IgnoreConversationFilter = "ignore-conversation-filter", Filters, ["assert", "page-absent"],
        "the conversationId filter of listMessages and listUsers is ignored";
    EventStuckScheduled = "event-stuck-scheduled", StateMachine, ["poll-timeout"],
        "scheduled events never move on to pending";
    EventStuckPending = "event-stuck-pending", StateMachine, ["poll-timeout"],
        "events are never processed: status stays pending";
    FileStatusSkipsIndexingPending = "file-status-skips-indexing-pending", StateMachine, ["poll-transition"],
        "an upload with index: true goes straight from upload_pending to indexing_completed";
    FileStatusReverses = "file-status-reverses", StateMachine, ["assert"],
        "an indexed file reads indexing_pending again after it was seen indexing_completed";
    DeleteIsNoop = "delete-is-noop", Semantics, ["status", "assert"],
        "deletes answer {} but delete nothing: use after delete still answers 200";
    GetOrCreateAlwaysCreates = "get-or-create-always-creates", Semantics, ["assert"],
        "get-or-create never finds the existing record";
    UpdatedAtFrozen = "updated-at-frozen", Semantics, ["assert"],
        "updates do not move updatedAt";
    EmptyTagNotUnset = "empty-tag-not-unset", Semantics, ["assert"],
        "a tag sent with an empty string on update is not removed";
    PatchReplacesState = "patch-replaces-state", Semantics, ["status"],
        "patchState replaces the payload instead of merging";
    GetOrSetOverwrites = "get-or-set-overwrites", Semantics, ["assert"],
        "getOrSetState overwrites an existing state";
    SearchReturnsDeleted = "search-returns-deleted", Semantics, ["assert"],
        "searchFiles still returns the passages of deleted files";
    UploadSizeNotChecked = "upload-size-not-checked", Limits, ["status", "content-type", "json"],
        "an upload whose length differs from the declared size is accepted";
    AuthNotEnforced = "auth-not-enforced", Security, ["status"],
        "requests without a valid token are served";
    CrossBotReads = "cross-bot-reads", Security, ["status"],
        "a record another bot of the same token owns is served by id";
    TokenNotBound = "token-not-bound", Security, ["status"],
        "a nextToken is accepted with another bot or other filters";
    MissingBotIdDefaults = "missing-bot-id-defaults", Security, ["status"],
        "a request without x-bot-id acts for the token's first bot";
    TableFilterNeIgnored = "table-filter-ne-ignored", Filters, ["assert"],
        "the $ne operator of table filters is ignored: rows it should exclude come back";
    TableOffsetIgnored = "table-offset-ignored", Pagination, ["page-termination", "page-unique", "page-order", "page-expected"],
        "findTableRows ignores offset, so every page repeats the first";
    TableUpsertDuplicates = "table-upsert-duplicates", Semantics, ["assert"],
        "upsertTableRows inserts every row, duplicating the ones it should update";
    TableRenameLosesData = "table-rename-loses-data", Semantics, ["assert"],
        "renameTableColumn drops the column and adds an empty one: its values are lost";
    TableDuplicateNameAllowed = "table-duplicate-name-allowed", Semantics, ["status"],
        "createTable accepts a name another table of the bot already has";
    BotStuckDeploying = "bot-stuck-deploying", StateMachine, ["poll-timeout"],
        "a bot deployment never ends: status stays deploying";
    BotLogsMetaToken = "bot-logs-meta-token", Pagination, ["schema-extra", "page-count"],
        "getBotLogs pages with meta.nextToken instead of the top-level nextToken";
    AnalyticsIgnoresRange = "analytics-ignores-range", Filters, ["assert"],
        "getBotAnalytics answers records for days outside startDate..endDate";
    IssueNotDeleted = "issue-not-deleted", Semantics, ["assert"],
        "deleteBotIssue answers {} but the issue stays";
    WorkspaceNotEnforced = "workspace-not-enforced", Security, ["status"],
        "admin requests may name a workspace the token may not enter";
    NonAsciiTag500 = "non-ascii-tag-500", ErrorBody, ["no-5xx", "positive-accepted"],
        "a tag key outside ASCII crashes the handler: 500 Internal (only generated input sends one)";
    LongNameAccepted = "long-name-accepted", Limits, ["negative-refused"],
        "a user name over the documented 200 characters is cut to 200 and accepted instead of refused";
    MissingRequiredAccepted = "missing-required-accepted", Shape, ["negative-refused"],
        "createMessage without its required type is accepted (type text assumed)";
    UnknownPropertyAccepted = "unknown-property-accepted", Shape, ["negative-refused"],
        "createConversation drops unknown fields instead of refusing them";
    BigNumberMangled = "big-number-mangled", Shape, ["echo"],
        "integers beyond 2^53 in payloads come back as strings";
}

impl Fault {
    /// Whether the scenario suite (`run`, `selftest`) can catch the fault. A fault that
    /// needs the rate limiter, which runs leave off, is caught by `bpharness load`; the
    /// faults only generated input reveals, by `bpharness fuzz`.
    pub fn caught_by_suite(self) -> bool {
        !matches!(self, Fault::RateLimitNoRetryAfter) && self.only_fuzz().is_none()
    }

    /// The fuzz-only faults: none of the suite's requests trips them.
    fn only_fuzz(self) -> Option<()> {
        matches!(
            self,
            Fault::NonAsciiTag500
                | Fault::LongNameAccepted
                | Fault::MissingRequiredAccepted
                | Fault::UnknownPropertyAccepted
                | Fault::BigNumberMangled
        )
        .then_some(())
    }

    /// The checks that must fail when `bpharness fuzz` runs with the fault on (empty: fuzz
    /// is not asked to catch it). `selftest` proves each of them does.
    pub fn fuzz_expected_checks(self) -> &'static [&'static str] {
        match self {
            Fault::BadInput500 => &["no-5xx", "negative-refused", "status"],
            Fault::AuthNotEnforced => &["auth-required"],
            Fault::CrossBotReads => &["scope-isolated"],
            Fault::DeleteIsNoop | Fault::GetOrCreateAlwaysCreates => &["sequence"],
            f if f.only_fuzz().is_some() => f.expected_checks(),
            _ => &[],
        }
    }
}

/// The faults `selftest` runs `fuzz` against.
pub fn fuzz_faults() -> Vec<Fault> {
    FAULTS
        .iter()
        .copied()
        .filter(|f| !f.fuzz_expected_checks().is_empty())
        .collect()
}

/// The faults `selftest` runs the suite against: those the suite can catch.
pub fn suite_faults() -> Vec<Fault> {
    FAULTS.iter().copied().filter(|f| f.caught_by_suite()).collect()
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FAULTS.iter().copied().find(|f| f.name() == s).ok_or_else(|| {
            let names: Vec<&str> = FAULTS.iter().map(|f| f.name()).collect();
            format!("unknown fault {s:?}; known faults: {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for f in FAULTS {
            assert!(seen.insert(f.name()), "{f}");
            assert_eq!(f.name().parse::<Fault>(), Ok(*f));
        }
        assert!("nope".parse::<Fault>().is_err());
    }
}
