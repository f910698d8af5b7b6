//! Every check the runner can report, by id, with what it verifies. Reports, README and
//! `selftest` speak of checks by these ids.

/// (id, what it verifies).
pub const CHECKS: &[(&str, &str)] = &[
    (
        "status",
        "the HTTP status is the expected one (the operation's documented success status by default)",
    ),
    ("no-5xx", "no server error unless one was expected"),
    (
        "no-redirect",
        "no redirect (never followed: it would carry the token to another host)",
    ),
    ("content-type", "the response says Content-Type: application/json"),
    ("json", "the body is present and parses as JSON"),
    (
        "schema",
        "a success body matches the operation's schema in schemas/responses/",
    ),
    (
        "schema-extra",
        "no field beyond the schema (a warning, a failure under --strict)",
    ),
    (
        "error-body",
        "an error body matches schemas/error.json (id, code, type, message)",
    ),
    (
        "error-body-extra",
        "no field beyond the error schema (a warning, a failure under --strict)",
    ),
    ("error-code", "the error body's code equals the HTTP status"),
    (
        "error-catalogue",
        "the error type is in the catalogue and the catalogue gives it this status",
    ),
    ("error-type", "the error type is the one the scenario expects"),
    (
        "error-message",
        "the error message mentions what the scenario expects (only with the error-wording capability)",
    ),
    (
        "rate-limit",
        "a 429 is waited out within the run's budget (--max-retry-wait); an exhausted budget fails",
    ),
    ("assert", "a scenario assertion on a body value or a header"),
    ("capture", "a value the scenario captures is there"),
    ("template", "the request could be built (every variable defined)"),
    (
        "transport",
        "an answer came back: no timeout, reset, unparsable response or oversized body",
    ),
    (
        "page-termination",
        "a walk ends within max_pages and never gets the same nextToken twice",
    ),
    ("page-size", "no page holds more items than the documented limit"),
    ("page-unique", "no item appears twice across the pages of a walk"),
    (
        "page-order",
        "items are in the requested order across pages (newest first by default)",
    ),
    ("page-expected", "every id the scenario created is found in the walk"),
    ("page-absent", "no deleted or filtered-out id is found in the walk"),
    (
        "page-count",
        "the walk spans at least min_pages pages / min_items items",
    ),
    (
        "poll-initial",
        "the first observed status is a starting state, or one the graph leads to from one",
    ),
    (
        "poll-transition",
        "every status change is allowed by the declared graph (states between two reads may go unseen, unless every_state)",
    ),
    ("poll-terminal", "nothing leaves a terminal state"),
    ("poll-field", "the polled status field is present"),
    ("poll-timeout", "the awaited status is reached before the deadline"),
    (
        "positive-accepted",
        "fuzz: valid input is accepted, or refused only for a reason the docs allow (unknown id, duplicate, limits, undeclared keys)",
    ),
    (
        "negative-refused",
        "fuzz: input that breaks one rule of the contract is refused with 400 (404/413/415 where the catalogue says so)",
    ),
    ("auth-required", "fuzz: the same request without a token is 401"),
    (
        "scope-isolated",
        "fuzz: from another bot's scope, nothing of this bot's resource shows (404)",
    ),
    (
        "echo",
        "fuzz: a free-form value sent (payload, input) comes back the same, numbers compared as doubles",
    ),
    (
        "sequence",
        "fuzz: get finds what create made, a list contains it, get-or-create twice gives it, get after delete is 404",
    ),
    ("fuzz", "fuzz: every check of a passing case held (counted, not listed)"),
    (
        "cleanup",
        "the cleanup ledger deleted what the scenario created (leaks are warnings)",
    ),
];

/// Whether `id` is a known check.
pub fn is_check(id: &str) -> bool {
    CHECKS.iter().any(|(c, _)| *c == id)
}
