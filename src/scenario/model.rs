//! The scenario file model: what a YAML or JSON scenario file deserializes into.
//!
//! The same types serve both formats. Every struct denies unknown fields so a typo in a key
//! is an error rather than a silently ignored setting, and the field names are a contract
//! that the runner, the reports and `schemas/scenario.schema.json` depend on. Rules that span
//! several fields (exactly one step kind, `repeat` only with `request`…) are not expressible
//! in serde and live in `check.rs`.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One scenario file: variables, then `setup`, `steps` and `teardown` run in that order.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in reports.
    pub name: String,
    /// What the scenario checks, for people reading reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form labels used to select scenarios.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// What every step needs beyond the documentation (a behaviour of the reference server
    /// such as `ranking`, or an input such as `other-workspace`); steps are skipped, with
    /// the reason, against a target without it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Variables usable as `{{name}}` in every step; values may use built-in variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, Value>,
    /// Steps that prepare the state the scenario needs; a failure here skips `steps`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<Step>,
    /// The steps under test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// Clean-up steps, run even when earlier steps fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teardown: Vec<Step>,
}

impl Scenario {
    /// The steps of one section.
    #[must_use]
    pub fn section(&self, section: Section) -> &[Step] {
        match section {
            Section::Setup => &self.setup,
            Section::Steps => &self.steps,
            Section::Teardown => &self.teardown,
        }
    }

    /// Every step in run order (setup, steps, teardown) with its section and index.
    pub fn all_steps(&self) -> impl Iterator<Item = (Section, usize, &Step)> {
        Section::ALL.into_iter().flat_map(move |section| {
            self.section(section)
                .iter()
                .enumerate()
                .map(move |(index, step)| (section, index, step))
        })
    }
}

/// The three lists of steps in a scenario, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// `setup:`
    Setup,
    /// `steps:`
    Steps,
    /// `teardown:`
    Teardown,
}

impl Section {
    /// All sections in run order.
    pub const ALL: [Section; 3] = [Section::Setup, Section::Steps, Section::Teardown];

    /// The key of the section in a scenario file.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Setup => "setup",
            Section::Steps => "steps",
            Section::Teardown => "teardown",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step: exactly one of `request`, `paginate` or `poll`, then expectations and captures.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Name shown in reports; unique names make reports easier to read.
    pub name: String,
    /// Send one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Walk every page of a list endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paginate: Option<Paginate>,
    /// Repeat a request until a field reaches one of the `until` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<Poll>,
    /// What this step needs beyond the documentation, on top of the scenario's `requires`;
    /// skipped, with the reason, against a target without it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Send the `request` this many times; `{{i}}` is the 0-based iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Expected successful response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Expected error response, in the API's error body shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_error: Option<ExpectError>,
    /// Variables to set from the response: name → `$.json.path`, `header:<Name>` or `status`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
    /// Like `capture`, but collects the value of every `repeat` iteration into an array.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture_all: BTreeMap<String, String>,
    /// Names of variables captured by this step whose values are redacted in reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret: Vec<String>,
}

/// What a step does, borrowed from a [`Step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepAction<'a> {
    /// A single request (possibly repeated).
    Request(&'a Request),
    /// A paginated walk.
    Paginate(&'a Paginate),
    /// A polling loop.
    Poll(&'a Poll),
}

impl Step {
    /// The step's action, or `None` when the step has none or several (rejected by the checks).
    #[must_use]
    pub fn action(&self) -> Option<StepAction<'_>> {
        match (&self.request, &self.paginate, &self.poll) {
            (Some(request), None, None) => Some(StepAction::Request(request)),
            (None, Some(paginate), None) => Some(StepAction::Paginate(paginate)),
            (None, None, Some(poll)) => Some(StepAction::Poll(poll)),
            _ => None,
        }
    }
}

/// An HTTP request; every string may use `{{var}}` templates.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path below the API base URL, starting with `/`; or an absolute `http://` or
    /// `https://` URL (such as a captured `uploadUrl`), sent as is. The default headers
    /// (`authorization`, scope ids) go only to URLs of the target's own origin, and the
    /// target's token is never sent to another origin.
    pub path: String,
    /// Query parameters: an object value is sent tags-style (`tags.key=value`), an array as
    /// repeated keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, Value>,
    /// Extra headers; `null` removes a default header such as `authorization` or `x-bot-id`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Option<String>>,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Body sent as is, for malformed-payload tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
    /// `content-type` header for the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The API operationId; normally inferred from the method and path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// HTTP methods used by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method as sent on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Expectations on a successful response.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Expected status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `false` for a response that is not a JSON API answer (file content, a storage
    /// upload): the content-type, json and schema checks are skipped.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub json: bool,
    /// The exact body expected, as text; may use `{{var}}` templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// operationId whose response schema the body must match; inferred when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Assertions on the body and headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assert: Vec<Assertion>,
}

fn yes() -> bool {
    true
}

fn is_yes(value: &bool) -> bool {
    *value
}

/// One assertion on a body value (`path`) or a header (`header`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// JSONPath into the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Response header name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Comparison operator.
    pub op: AssertOp,
    /// Expected value; may use `{{var}}` templates. Optional only for `exists` (default `true`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// Assertion operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub enum AssertOp {
    /// Equal (JSON equality).
    #[serde(rename = "==")]
    Eq,
    /// Not equal.
    #[serde(rename = "!=")]
    Ne,
    /// Less than (numbers, or strings compared lexically).
    #[serde(rename = "<")]
    Lt,
    /// Less than or equal.
    #[serde(rename = "<=")]
    Le,
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    Ge,
    /// The value is present (`value: true`, the default) or absent (`value: false`).
    #[serde(rename = "exists")]
    Exists,
    /// A string contains a substring, or an array contains an element.
    #[serde(rename = "contains")]
    Contains,
    /// A string matches a regular expression.
    #[serde(rename = "matches")]
    Matches,
    /// An array or object has this many entries.
    #[serde(rename = "count")]
    Count,
    /// The JSON type: `string`, `number`, `integer`, `boolean`, `array`, `object` or `null`.
    #[serde(rename = "type")]
    Type,
}

impl AssertOp {
    /// The operator as written in scenario files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AssertOp::Eq => "==",
            AssertOp::Ne => "!=",
            AssertOp::Lt => "<",
            AssertOp::Le => "<=",
            AssertOp::Gt => ">",
            AssertOp::Ge => ">=",
            AssertOp::Exists => "exists",
            AssertOp::Contains => "contains",
            AssertOp::Matches => "matches",
            AssertOp::Count => "count",
            AssertOp::Type => "type",
        }
    }
}

impl fmt::Display for AssertOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Expected error response: status plus the API error body's `type` and `message`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    /// Expected status code.
    pub status: u16,
    /// Expected error `type`, e.g. `ResourceNotFound`.
    pub r#type: String,
    /// Other error types a conformant server may answer for the same refusal, where the
    /// docs leave the type open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept_types: Vec<String>,
    /// A substring the error `message` must contain; wording is not in the contract, so it
    /// is checked only against targets with the `error-wording` capability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
}

/// Walk a list endpoint page by page, checking pagination invariants.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Paginate {
    /// The request for the first page.
    pub request: Request,
    /// Key of the item list in each page, e.g. `users`.
    pub items: String,
    /// How the next page is requested.
    #[serde(default)]
    pub style: PageStyle,
    /// Stop (and fail) after this many pages.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Page size sent as `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_limit: Option<u32>,
    /// Expected order of the items across pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// Item field that identifies an item (duplicates across pages fail).
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// Ids that must appear: an array, or a `{{var}}` holding one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_ids: Option<Value>,
    /// Ids that must not appear: an array, or a `{{var}}` holding one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent_ids: Option<Value>,
    /// At least this many pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pages: Option<u32>,
    /// At least this many items in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u32>,
    /// operationId whose response schema every page must match; inferred when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

fn default_max_pages() -> u32 {
    100
}

fn default_id_field() -> String {
    "id".to_owned()
}

/// Pagination styles found in the API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageStyle {
    /// `meta.nextToken` in the body, sent back as `nextToken`.
    #[default]
    MetaNextToken,
    /// `nextToken` at the top of the body, sent back as `nextToken`.
    NextToken,
    /// `offset`/`limit` query parameters.
    Offset,
}

/// Expected ordering of paginated items.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// Item field to compare, e.g. `createdAt`.
    pub field: String,
    /// Ascending or descending.
    pub direction: Direction,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// Repeat a request until a status field reaches a final value, checking its transitions.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// The request sent on every attempt.
    pub request: Request,
    /// JSONPath of the status value in the body.
    pub field: String,
    /// Stop when the value is one of these.
    pub until: Vec<String>,
    /// Pause between attempts, in milliseconds.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Give up (and fail) after this many milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Allowed moves: state → states it may move to. Empty allows any move.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transitions: BTreeMap<String, Vec<String>>,
    /// States the resource may start in; empty allows any. The first read may also show a
    /// state `transitions` lead to from one of them (the earlier ones went unseen).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initial: Vec<String>,
    /// States nothing may leave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terminal: Vec<String>,
    /// Every state on the way must be observed. By default a move that skips states the graph
    /// allows in between passes (the reads were too far apart to see them); with this set it
    /// fails, for a server that holds each state at least one `interval_ms`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_state: bool,
    /// operationId whose response schema every attempt must match; inferred when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

fn default_interval_ms() -> u64 {
    50
}

fn default_timeout_ms() -> u64 {
    5000
}

/// The `$id` of `schemas/scenario.schema.json`.
pub const SCENARIO_SCHEMA_ID: &str = "https://bpharness.invalid/schemas/scenario.schema.json";

/// The JSON Schema of the scenario format (draft 2020-12), generated from these types.
#[must_use]
pub fn scenario_schema() -> Value {
    let schema = schemars::schema_for!(Scenario).to_value();
    // Put the header keys first so the checked-in file reads top-down.
    let Value::Object(mut rest) = schema else {
        return schema;
    };
    let mut ordered = serde_json::Map::new();
    for key in ["$schema", "title", "description"] {
        if let Some(value) = rest.remove(key) {
            ordered.insert(key.to_owned(), value);
        }
        if key == "$schema" {
            debug_assert!(SCENARIO_SCHEMA_ID.starts_with(crate::contract::SCHEMA_BASE));
            // A stable identity for editors and registries, the same base as every schema of
            // the set (`crate::contract::SCHEMA_BASE`).
            ordered.insert("$id".to_owned(), Value::String(SCENARIO_SCHEMA_ID.to_owned()));
        }
    }
    ordered.extend(rest);
    Value::Object(ordered)
}

/// A field that is there, even as `null`, is `Some`: `value: null` asserts null, while an
/// absent `value` is `None`.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::json;

    use super::*;

    fn minimal() -> Value {
        json!({
            "name": "minimal",
            "steps": [{"name": "list", "request": {"method": "GET", "path": "/v1/chat/users"}}]
        })
    }

    #[rstest]
    fn defaults_are_filled() {
        let scenario: Scenario = serde_json::from_value(minimal()).unwrap();
        assert!(scenario.tags.is_empty());
        assert!(scenario.vars.is_empty());
        assert!(scenario.setup.is_empty());
        let step = &scenario.steps[0];
        assert!(matches!(step.action(), Some(StepAction::Request(r)) if r.method == Method::Get));
        assert!(step.capture.is_empty());
    }

    #[rstest]
    #[case("==", AssertOp::Eq)]
    #[case("!=", AssertOp::Ne)]
    #[case("<", AssertOp::Lt)]
    #[case("<=", AssertOp::Le)]
    #[case(">", AssertOp::Gt)]
    #[case(">=", AssertOp::Ge)]
    #[case("exists", AssertOp::Exists)]
    #[case("contains", AssertOp::Contains)]
    #[case("matches", AssertOp::Matches)]
    #[case("count", AssertOp::Count)]
    #[case("type", AssertOp::Type)]
    fn assert_ops_round_trip(#[case] text: &str, #[case] op: AssertOp) {
        let parsed: AssertOp = serde_json::from_value(json!(text)).unwrap();
        assert_eq!(parsed, op);
        assert_eq!(op.as_str(), text);
        assert_eq!(serde_json::to_value(op).unwrap(), json!(text));
    }

    #[rstest]
    fn paginate_and_poll_defaults() {
        let paginate: Paginate = serde_json::from_value(json!({
            "request": {"method": "GET", "path": "/v1/chat/users"},
            "items": "users"
        }))
        .unwrap();
        assert_eq!(paginate.style, PageStyle::MetaNextToken);
        assert_eq!(paginate.max_pages, 100);
        assert_eq!(paginate.id_field, "id");
        let poll: Poll = serde_json::from_value(json!({
            "request": {"method": "GET", "path": "/v1/admin/bots/x"},
            "field": "$.bot.status",
            "until": ["active"]
        }))
        .unwrap();
        assert_eq!((poll.interval_ms, poll.timeout_ms), (50, 5000));
    }

    #[rstest]
    fn expect_error_type_is_named_type() {
        let value = json!({"status": 404, "type": "ResourceNotFound"});
        let parsed: ExpectError = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(parsed.r#type, "ResourceNotFound");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    }

    #[rstest]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_value::<Step>(json!({"name": "x", "expct": {}})).unwrap_err();
        assert!(err.to_string().contains("unknown field `expct`"), "{err}");
    }

    #[rstest]
    fn all_steps_runs_in_section_order() {
        let mut scenario: Scenario = serde_json::from_value(minimal()).unwrap();
        scenario.setup = scenario.steps.clone();
        scenario.teardown = scenario.steps.clone();
        let order: Vec<_> = scenario.all_steps().map(|(s, i, _)| (s, i)).collect();
        assert_eq!(
            order,
            [(Section::Setup, 0), (Section::Steps, 0), (Section::Teardown, 0)]
        );
    }

    #[rstest]
    fn schema_is_draft_2020_12() {
        let schema = scenario_schema();
        assert_eq!(schema["$schema"], json!("https://json-schema.org/draft/2020-12/schema"));
        assert!(schema["$defs"]["Step"].is_object());
    }
}
