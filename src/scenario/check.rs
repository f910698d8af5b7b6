//! Semantic checks on a parsed scenario: the rules serde cannot express.
//!
//! Each finding points at the offending key or value. Variables are checked in run order
//! (vars, then setup → steps → teardown): a `{{name}}` must be a built-in, a declared var, a
//! capture of an earlier step, or `i` inside a step with `repeat`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diag::{ScenarioError, ScenarioErrorKind, did_you_mean, suggest};
use super::load::{LoadOptions, LoadedScenario, ResponseSchemas, step_path};
use super::locate::KeyPath;
use super::model::{AssertOp, Assertion, Paginate, Poll, Request, Section, Step};
use super::source::Span;
use super::template::{self, BUILTIN_VARS, REPEAT_INDEX_VAR, TemplateError};
use crate::api::{ERROR_TYPES, ErrorType};

/// Values accepted by the `type` assertion operator.
pub const JSON_TYPES: [&str; 7] = ["string", "number", "integer", "boolean", "array", "object", "null"];

/// Where response schemas live inside a schema set.
pub const RESPONSE_SCHEMA_DIR: &str = "responses";

/// Run every check; findings in file order (empty when the scenario is sound).
///
/// Explicit `schema:` names must be response schemas of the set in `options`; error types
/// must be in the catalogue of `crate::api`.
#[must_use]
pub fn check(loaded: &LoadedScenario, options: &LoadOptions) -> Vec<ScenarioError> {
    let mut checker = Checker {
        loaded,
        errors: Vec::new(),
        schemas: options.response_schemas.as_ref(),
    };
    checker.scenario();
    let mut errors = checker.errors;
    errors.sort_by_key(|e| (e.line, e.col));
    errors
}

/// The wire names of the error types the API returns.
fn error_type_names() -> impl Iterator<Item = &'static str> + Clone {
    ERROR_TYPES.iter().map(|t| t.name())
}

/// Variables visible at a point of the scenario.
struct Scope<'a> {
    known: BTreeSet<&'a str>,
    /// Variables captured by this or a later step: name → (step name, step path).
    later: BTreeMap<&'a str, (&'a str, KeyPath)>,
}

struct Checker<'a> {
    loaded: &'a LoadedScenario,
    errors: Vec<ScenarioError>,
    schemas: Option<&'a ResponseSchemas>,
}

impl<'a> Checker<'a> {
    fn error(&self, span: Span, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(ScenarioErrorKind::Check, &self.loaded.source, span, message)
    }

    fn push(&mut self, error: ScenarioError) {
        self.errors.push(error);
    }

    fn value_span(&self, path: &KeyPath) -> Span {
        self.loaded.locations.nearest(path).value
    }

    fn key_span(&self, path: &KeyPath) -> Span {
        self.loaded.locations.nearest(path).key_or_value()
    }

    /// The first character of the value at `path`.
    fn start_of(&self, path: &KeyPath) -> Span {
        Span::point(self.value_span(path).start)
    }

    /// The span of `range` (bytes of `text`) inside the value at `path`, when the value is
    /// written verbatim in the source; else the whole value.
    fn sub_span(&self, path: &KeyPath, text: &str, range: std::ops::Range<usize>, key: bool) -> Span {
        let span = if key {
            self.key_span(path)
        } else {
            self.value_span(path)
        };
        let raw = self.loaded.source.slice(span);
        if !text.is_empty()
            && let Some(at) = raw.find(text)
        {
            return Span::new(span.start + at + range.start, span.start + at + range.end);
        }
        if let Some(needle) = text.get(range)
            && !needle.is_empty()
            && let Some(at) = raw.find(needle)
        {
            return Span::new(span.start + at, span.start + at + needle.len());
        }
        span
    }

    fn scenario(&mut self) {
        let scenario = &self.loaded.scenario;
        let builtins: BTreeSet<&str> = BUILTIN_VARS.into_iter().collect();
        let vars_path = KeyPath::root().key("vars");
        let vars_scope = Scope {
            known: builtins.clone(),
            later: BTreeMap::new(),
        };
        for (name, value) in &scenario.vars {
            let path = vars_path.key(name);
            self.var_name(name, &path);
            self.templates_in_value(value, &path, &vars_scope);
        }

        self.requires(&scenario.requires, &KeyPath::root().key("requires"));
        let steps: Vec<(Section, usize, &Step)> = scenario.all_steps().collect();
        let mut known = builtins;
        known.extend(scenario.vars.keys().map(String::as_str));
        for (position, &(section, index, step)) in steps.iter().enumerate() {
            let mut later = BTreeMap::new();
            for &(s, i, later_step) in &steps[position..] {
                for name in later_step.capture.keys().chain(later_step.capture_all.keys()) {
                    later
                        .entry(name.as_str())
                        .or_insert((later_step.name.as_str(), step_path(s, i)));
                }
            }
            let mut step_known = known.clone();
            if step.repeat.is_some() {
                step_known.insert(REPEAT_INDEX_VAR);
            }
            let scope = Scope {
                known: step_known,
                later,
            };
            self.step(step, &step_path(section, index), &scope);
            known.extend(step.capture.keys().map(String::as_str));
            known.extend(step.capture_all.keys().map(String::as_str));
        }
    }

    fn var_name(&mut self, name: &str, path: &KeyPath) {
        if !template::is_var_name(name) {
            let error = self.error(
                self.key_span(path),
                format!("`{name}` cannot be used as a variable name"),
            );
            self.push(error.with_hint("use letters, digits and `_`, not starting with a digit"));
        }
    }

    fn step(&mut self, step: &'a Step, path: &KeyPath, scope: &Scope<'a>) {
        let name = &step.name;
        let kinds: Vec<&str> = [
            ("request", step.request.is_some()),
            ("paginate", step.paginate.is_some()),
            ("poll", step.poll.is_some()),
        ]
        .into_iter()
        .filter_map(|(kind, present)| present.then_some(kind))
        .collect();
        match kinds.as_slice() {
            [] => {
                let error = self.error(self.start_of(path), format!("step `{name}` has no action"));
                self.push(error.with_hint("add one of `request`, `paginate` or `poll`"));
            }
            [_] => {}
            [first, second, ..] => {
                let error = self.error(
                    self.key_span(&path.key(second)),
                    format!("step `{name}` has both `{first}` and `{second}`"),
                );
                self.push(error.with_hint("a step does exactly one of `request`, `paginate` or `poll`"));
            }
        }
        if step.expect.is_some() && step.expect_error.is_some() {
            let error = self.error(
                self.key_span(&path.key("expect_error")),
                format!("step `{name}` has both `expect` and `expect_error`"),
            );
            self.push(error.with_hint("a response is either a success or an error: keep one"));
        }
        match step.repeat {
            Some(_) if step.request.is_none() => {
                let error = self.error(
                    self.key_span(&path.key("repeat")),
                    "`repeat` is only allowed with `request`",
                );
                self.push(error);
            }
            Some(0) => {
                let error = self.error(self.value_span(&path.key("repeat")), "`repeat` must be at least 1");
                self.push(error);
            }
            _ => {}
        }
        if !step.capture_all.is_empty() && step.repeat.is_none() {
            let error = self.error(
                self.key_span(&path.key("capture_all")),
                "`capture_all` is only allowed with `repeat`",
            );
            self.push(error.with_hint("use `capture` to keep a value of a single response"));
        }

        if let Some(request) = &step.request {
            self.request(request, &path.key("request"), scope);
        }
        if let Some(paginate) = &step.paginate {
            self.paginate(paginate, &path.key("paginate"), scope);
        }
        if let Some(poll) = &step.poll {
            self.poll(poll, &path.key("poll"), scope);
        }
        if let Some(expect) = &step.expect {
            let expect_path = path.key("expect");
            if let Some(status) = expect.status
                && !(100..=599).contains(&status)
            {
                let error = self.error(
                    self.value_span(&expect_path.key("status")),
                    format!("`{status}` is not an HTTP status code"),
                );
                self.push(error.with_hint("expected a number from 100 to 599"));
            }
            if let Some(schema) = &expect.schema {
                self.schema_name(schema, &expect_path.key("schema"));
            }
            for (index, assertion) in expect.assert.iter().enumerate() {
                self.assertion(assertion, &expect_path.key("assert").index(index), scope);
            }
        }
        if let Some(expect_error) = &step.expect_error {
            let error_path = path.key("expect_error");
            if !(400..=599).contains(&expect_error.status) {
                let error = self.error(
                    self.value_span(&error_path.key("status")),
                    format!("`{}` is not an error status code", expect_error.status),
                );
                self.push(error.with_hint("expected a number from 400 to 599"));
            }
            let kind = &expect_error.r#type;
            if ErrorType::from_name(kind).is_none() {
                let error = self.error(
                    self.value_span(&error_path.key("type")),
                    format!("unknown error type `{kind}`"),
                );
                self.push(error.with_hint(suggest(kind, error_type_names())));
            }
            for (index, kind) in expect_error.accept_types.iter().enumerate() {
                if ErrorType::from_name(kind).is_none() {
                    let error = self.error(
                        self.value_span(&error_path.key("accept_types").index(index)),
                        format!("unknown error type `{kind}`"),
                    );
                    self.push(error.with_hint(suggest(kind, error_type_names())));
                }
            }
            if let Some(text) = &expect_error.message_contains {
                self.template_str(text, &error_path.key("message_contains"), scope, false);
            }
        }
        self.captures(step, path);
        self.requires(&step.requires, &path.key("requires"));
    }

    /// Every `requires` name is one of the capability catalogue's.
    fn requires(&mut self, names: &[String], path: &KeyPath) {
        for (index, name) in names.iter().enumerate() {
            if crate::target::capability::find(name).is_none() {
                let error = self.error(
                    self.value_span(&path.index(index)),
                    format!("unknown requirement `{name}`"),
                );
                self.push(error.with_hint(suggest(name, crate::target::capability::names())));
            }
        }
    }

    fn captures(&mut self, step: &Step, path: &KeyPath) {
        for (field, map) in [("capture", &step.capture), ("capture_all", &step.capture_all)] {
            for (name, source) in map {
                let entry = path.key(field).key(name);
                self.var_name(name, &entry);
                self.capture_source(source, &entry);
            }
        }
        for name in step.capture_all.keys() {
            if step.capture.contains_key(name) {
                let error = self.error(
                    self.key_span(&path.key("capture_all").key(name)),
                    format!("`{name}` is captured by both `capture` and `capture_all`"),
                );
                self.push(error);
            }
        }
        let captured: Vec<&str> = step
            .capture
            .keys()
            .chain(step.capture_all.keys())
            .map(String::as_str)
            .collect();
        for (index, name) in step.secret.iter().enumerate() {
            if !captured.contains(&name.as_str()) {
                let error = self.error(
                    self.value_span(&path.key("secret").index(index)),
                    format!("secret `{name}` is not captured by this step"),
                );
                let hint = did_you_mean(name, captured.iter().copied())
                    .unwrap_or_else(|| "`secret` lists variables of this step's `capture` or `capture_all`".to_owned());
                self.push(error.with_hint(hint));
            }
        }
    }

    fn capture_source(&mut self, source: &str, path: &KeyPath) {
        if source == "status" {
            return;
        }
        if let Some(name) = source.strip_prefix("header:") {
            if !is_header_name(name.trim()) {
                let error = self.error(
                    self.value_span(path),
                    format!("invalid header name `{}` in capture source", name.trim()),
                );
                self.push(error.with_hint("expected `header:<Name>`, e.g. `header:x-request-id`"));
            }
            return;
        }
        if source.starts_with('$') {
            self.json_path(source, path);
            return;
        }
        let error = self.error(self.value_span(path), format!("invalid capture source `{source}`"));
        let guess = format!("$.{}", source.trim_start_matches('.'));
        let hint = if !source.is_empty() && serde_json_path::JsonPath::parse(&guess).is_ok() {
            format!("did you mean `{guess}`?")
        } else {
            "expected a JSONPath (`$.id`), `header:<Name>` or `status`".to_owned()
        };
        self.push(error.with_hint(hint));
    }

    fn json_path(&mut self, text: &str, path: &KeyPath) {
        if let Err(err) = serde_json_path::JsonPath::parse(text) {
            // The position is 1-based; past the end means "missing something at the end".
            let at = err.position().saturating_sub(1).min(text.len());
            let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            let span = self.sub_span(path, text, at..end, false);
            let error = self.error(span, format!("invalid JSONPath `{text}`: {}", err.message()));
            self.push(error);
        }
    }

    fn schema_name(&mut self, name: &str, path: &KeyPath) {
        let Some(schemas) = self.schemas else {
            return;
        };
        if schemas.names.iter().any(|n| n == name) {
            return;
        }
        let hint = did_you_mean(name, schemas.names.iter().map(String::as_str))
            .unwrap_or_else(|| format!("no `{RESPONSE_SCHEMA_DIR}/{name}.json` in {}", schemas.origin));
        let error = self.error(self.value_span(path), format!("unknown response schema `{name}`"));
        self.push(error.with_hint(hint));
    }

    fn request(&mut self, request: &'a Request, path: &KeyPath, scope: &Scope<'a>) {
        let path_key = path.key("path");
        self.template_str(&request.path, &path_key, scope, false);
        let absolute = request.path.starts_with("http://") || request.path.starts_with("https://");
        if !request.path.starts_with('/') && !request.path.starts_with("{{") && !absolute {
            let error = self.error(
                self.value_span(&path_key),
                format!("request path `{}` must start with `/`", request.path),
            );
            self.push(error.with_hint("or be an absolute http:// or https:// URL, sent as is"));
        }
        for (key, value) in &request.query {
            let entry = path.key("query").key(key);
            self.template_str(key, &entry, scope, true);
            self.templates_in_value(value, &entry, scope);
        }
        for (name, value) in &request.headers {
            let entry = path.key("headers").key(name);
            if !is_header_name(name) {
                let error = self.error(self.key_span(&entry), format!("invalid header name `{name}`"));
                self.push(error);
            }
            if let Some(value) = value {
                self.template_str(value, &entry, scope, false);
            }
        }
        if let Some(body) = &request.body {
            self.templates_in_value(body, &path.key("body"), scope);
        }
        if let Some(raw) = &request.raw_body {
            self.template_str(raw, &path.key("raw_body"), scope, false);
            if request.body.is_some() {
                let error = self.error(
                    self.key_span(&path.key("raw_body")),
                    "a request has either `body` or `raw_body`, not both",
                );
                self.push(error);
            }
        }
        if let Some(content_type) = &request.content_type {
            self.template_str(content_type, &path.key("content_type"), scope, false);
        }
    }

    fn paginate(&mut self, paginate: &'a Paginate, path: &KeyPath, scope: &Scope<'a>) {
        self.request(&paginate.request, &path.key("request"), scope);
        if paginate.items.trim().is_empty() {
            let error = self.error(self.value_span(&path.key("items")), "`items` is empty");
            self.push(error.with_hint("name the key of the item list, e.g. `users`"));
        }
        if paginate.max_pages == 0 {
            let error = self.error(
                self.value_span(&path.key("max_pages")),
                "`max_pages` must be at least 1",
            );
            self.push(error);
        }
        if paginate.page_limit == Some(0) {
            let error = self.error(
                self.value_span(&path.key("page_limit")),
                "`page_limit` must be at least 1",
            );
            self.push(error);
        }
        if let Some(min_pages) = paginate.min_pages
            && min_pages > paginate.max_pages
        {
            let error = self.error(
                self.value_span(&path.key("min_pages")),
                format!(
                    "`min_pages` ({min_pages}) is above `max_pages` ({})",
                    paginate.max_pages
                ),
            );
            self.push(error);
        }
        for (field, ids) in [
            ("expect_ids", &paginate.expect_ids),
            ("absent_ids", &paginate.absent_ids),
        ] {
            let Some(ids) = ids else { continue };
            let ids_path = path.key(field);
            self.templates_in_value(ids, &ids_path, scope);
            let single_placeholder = ids.as_str().is_some_and(
                |text| matches!(template::placeholders(text).as_slice(), [(_, range)] if *range == (0..text.len())),
            );
            if !ids.is_array() && !single_placeholder {
                let error = self.error(
                    self.value_span(&ids_path),
                    format!("`{field}` must be a list or a single `{{{{var}}}}`"),
                );
                self.push(error);
            }
        }
        if let Some(schema) = &paginate.schema {
            self.schema_name(schema, &path.key("schema"));
        }
    }

    fn poll(&mut self, poll: &'a Poll, path: &KeyPath, scope: &Scope<'a>) {
        self.request(&poll.request, &path.key("request"), scope);
        self.json_path(&poll.field, &path.key("field"));
        for (index, value) in poll.until.iter().enumerate() {
            self.template_str(value, &path.key("until").index(index), scope, false);
        }
        if poll.until.is_empty() {
            let error = self.error(self.key_span(&path.key("until")), "`until` needs at least one value");
            self.push(error);
        }
        if poll.interval_ms == 0 {
            let error = self.error(
                self.value_span(&path.key("interval_ms")),
                "`interval_ms` must be at least 1",
            );
            self.push(error);
        }
        if poll.timeout_ms < poll.interval_ms {
            let error = self.error(
                self.value_span(&path.key("timeout_ms")),
                format!(
                    "`timeout_ms` ({}) is below `interval_ms` ({})",
                    poll.timeout_ms, poll.interval_ms
                ),
            );
            self.push(error);
        }
        for state in &poll.terminal {
            if poll.transitions.get(state).is_some_and(|to| !to.is_empty()) {
                let error = self.error(
                    self.key_span(&path.key("transitions").key(state)),
                    format!("terminal state `{state}` has transitions out of it"),
                );
                self.push(error.with_hint("a state listed in `terminal` cannot be left"));
            }
        }
        if let Some(schema) = &poll.schema {
            self.schema_name(schema, &path.key("schema"));
        }
    }

    fn assertion(&mut self, assertion: &'a Assertion, path: &KeyPath, scope: &Scope<'a>) {
        match (&assertion.path, &assertion.header) {
            (Some(_), Some(_)) => {
                let error = self.error(
                    self.key_span(&path.key("header")),
                    "an assertion has either `path` or `header`, not both",
                );
                self.push(error);
            }
            (None, None) => {
                let error = self.error(self.start_of(path), "an assertion needs `path` or `header`");
                self.push(error.with_hint("`path` is a JSONPath into the body, `header` a header name"));
            }
            _ => {}
        }
        if let Some(json_path) = &assertion.path {
            self.json_path(json_path, &path.key("path"));
        }
        if let Some(header) = &assertion.header
            && !is_header_name(header)
        {
            let error = self.error(
                self.value_span(&path.key("header")),
                format!("invalid header name `{header}`"),
            );
            self.push(error);
        }
        let op = assertion.op;
        let value_path = path.key("value");
        let Some(value) = &assertion.value else {
            if op != AssertOp::Exists {
                let error = self.error(
                    self.value_span(&path.key("op")),
                    format!("operator `{op}` needs a `value`"),
                );
                self.push(error);
            }
            return;
        };
        self.templates_in_value(value, &value_path, scope);
        let is_template = value
            .as_str()
            .is_some_and(|text| !template::placeholders(text).is_empty());
        let wrong = |expected: &str| format!("operator `{op}` needs {expected} as `value`");
        let problem = match op {
            AssertOp::Exists if !value.is_boolean() => Some(wrong("`true` or `false`")),
            AssertOp::Count if !is_template && value.as_u64().is_none() => Some(wrong("a non-negative integer")),
            AssertOp::Type if !is_template && !value.as_str().is_some_and(|t| JSON_TYPES.contains(&t)) => {
                let error = self.error(self.value_span(&value_path), wrong("a JSON type name"));
                let hint = match value.as_str() {
                    Some(text) => suggest(text, JSON_TYPES),
                    None => suggest("", JSON_TYPES),
                };
                self.push(error.with_hint(hint));
                None
            }
            AssertOp::Matches => match value.as_str() {
                None => Some(wrong("a regular expression string")),
                Some(_) if is_template => None,
                Some(pattern) => regex::Regex::new(pattern).err().map(|err| {
                    let text = err.to_string();
                    let reason = text
                        .lines()
                        .rev()
                        .find_map(|line| line.strip_prefix("error: "))
                        .unwrap_or(text.as_str())
                        .to_owned();
                    format!("invalid regex `{pattern}`: {reason}")
                }),
            },
            _ => None,
        };
        if let Some(message) = problem {
            let error = self.error(self.value_span(&value_path), message);
            self.push(error);
        }
    }

    fn templates_in_value(&mut self, value: &Value, path: &KeyPath, scope: &Scope<'a>) {
        match value {
            Value::String(text) => self.template_str(text, path, scope, false),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.templates_in_value(item, &path.index(index), scope);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let entry = path.key(key);
                    self.template_str(key, &entry, scope, true);
                    self.templates_in_value(item, &entry, scope);
                }
            }
            _ => {}
        }
    }

    /// Check the placeholders of a string (the value at `path`, or its key when `key`).
    fn template_str(&mut self, text: &str, path: &KeyPath, scope: &Scope<'a>, key: bool) {
        if let Err(TemplateError::Malformed { range, reason }) = template::validate(text) {
            let span = self.sub_span(path, text, range, key);
            let error = self.error(span, format!("malformed placeholder: {reason}"));
            self.push(error.with_hint(r"write `\{{` for a literal `{{`"));
        }
        for (name, range) in template::placeholders(text) {
            if scope.known.contains(name) {
                continue;
            }
            let span = self.sub_span(path, text, range, key);
            let error = if self.loaded.scenario.vars.contains_key(name) {
                // Declared vars are known everywhere but in `vars` itself.
                self.error(span, format!("`vars` cannot use the variable `{name}`"))
                    .with_hint("values in `vars` may use only built-in variables")
            } else if let Some((step, step_at)) = scope.later.get(name) {
                let (line, _) = self.loaded.location(step_at);
                self.error(span, format!("variable `{name}` is used before it is captured"))
                    .with_hint(format!("`{name}` is captured by step `{step}` at line {line}"))
            } else {
                let hint = did_you_mean(name, scope.known.iter().copied())
                    .unwrap_or_else(|| "define it under `vars` or capture it in an earlier step".to_owned());
                self.error(span, format!("unknown variable `{name}`")).with_hint(hint)
            };
            self.push(error);
        }
    }
}

/// Whether `name` is a valid HTTP header name (an RFC 9110 token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::scenario::load::{Format, parse_source};
    use crate::scenario::source::SourceFile;

    /// The fixtures' response schemas, as `--schemas tests/fixtures/schemas` gives them.
    fn fixture_schemas() -> LoadOptions {
        LoadOptions::with_schemas(
            &crate::contract::SchemaSet::load_dir(std::path::Path::new("tests/fixtures/schemas")).unwrap(),
        )
    }

    fn findings(text: &str) -> Vec<String> {
        let loaded = parse_source(SourceFile::new("t.yaml", text), Format::Yaml).unwrap();
        check(&loaded, &fixture_schemas())
            .into_iter()
            .map(|e| {
                let hint = e.hint.map(|h| format!(" ({h})")).unwrap_or_default();
                format!("{}:{}:{} {}{hint}", e.line, e.col, e.len, e.message)
            })
            .collect()
    }

    fn step(body: &str) -> String {
        let body: String = body.lines().map(|l| format!("    {l}\n")).collect();
        format!("name: t\nsteps:\n  - name: s\n{body}")
    }

    const GET: &str = "request: {method: GET, path: /v1/x}";

    #[rstest]
    #[case::sound(&step(GET), &[])]
    #[case::no_action(&step("repeat: 2"), &[
        "3:5:0 step `s` has no action (add one of `request`, `paginate` or `poll`)",
        "4:5:6 `repeat` is only allowed with `request`",
    ])]
    #[case::two_actions(&step(&format!("{GET}\npoll: {{request: {{method: GET, path: /x}}, field: $.s, until: [ok]}}")), &[
        "5:5:4 step `s` has both `request` and `poll` (a step does exactly one of `request`, `paginate` or `poll`)",
    ])]
    #[case::expect_both(&step(&format!("{GET}\nexpect: {{status: 200}}\nexpect_error: {{status: 404, type: ResourceNotFound}}")), &[
        "6:5:12 step `s` has both `expect` and `expect_error` (a response is either a success or an error: keep one)",
    ])]
    #[case::capture_all_without_repeat(&step(&format!("{GET}\ncapture_all: {{ids: $.id}}")), &[
        "5:5:11 `capture_all` is only allowed with `repeat` (use `capture` to keep a value of a single response)",
    ])]
    #[case::unknown_var(&step("request: {method: GET, path: '/v1/{{bot_idd}}'}"), &[
        "4:39:11 unknown variable `bot_idd` (did you mean `bot_id`?)",
    ])]
    #[case::repeat_index(&step("repeat: 3\nrequest: {method: GET, path: '/v1/{{i}}'}"), &[])]
    #[case::index_without_repeat(&step("request: {method: GET, path: '/v1/{{i}}'}"), &[
        "4:39:5 unknown variable `i` (define it under `vars` or capture it in an earlier step)",
    ])]
    #[case::malformed(&step("request: {method: GET, path: '/v1/{{a b}}'}"), &[
        "4:39:7 malformed placeholder: a variable name is letters, digits and `_` (write `\\{{` for a literal `{{`)",
    ])]
    #[case::path_without_slash(&step("request: {method: GET, path: v1/x}"), &[
        "4:34:4 request path `v1/x` must start with `/` (or be an absolute http:// or https:// URL, sent as is)",
    ])]
    #[case::absolute_url(&step("request: {method: PUT, path: 'https://storage.example/up?sig=1'}"), &[])]
    #[case::bad_capture(&step(&format!("{GET}\ncapture: {{id: id}}")), &[
        "5:19:2 invalid capture source `id` (did you mean `$.id`?)",
    ])]
    #[case::header_capture(&step(&format!("{GET}\ncapture: {{rid: 'header:x-request-id', code: status}}")), &[])]
    #[case::secret(&step(&format!("{GET}\ncapture: {{tok: $.token}}\nsecret: [tk]")), &[
        "6:14:2 secret `tk` is not captured by this step (did you mean `tok`?)",
    ])]
    #[case::op_without_value(&step(&format!("{GET}\nexpect: {{assert: [{{path: $.a, op: '=='}}]}}")), &[
        "5:39:4 operator `==` needs a `value`",
    ])]
    #[case::exists_without_value(&step(&format!("{GET}\nexpect: {{assert: [{{path: $.a, op: exists}}]}}")), &[])]
    #[case::path_and_header(&step(&format!("{GET}\nexpect: {{assert: [{{path: $.a, header: x, op: exists}}]}}")), &[
        "5:35:6 an assertion has either `path` or `header`, not both",
    ])]
    #[case::bad_regex(&step(&format!("{GET}\nexpect: {{assert: [{{path: $.a, op: matches, value: '(ab'}}]}}")), &[
        "5:55:5 invalid regex `(ab`: unclosed group",
    ])]
    #[case::bad_type(&step(&format!("{GET}\nexpect: {{assert: [{{path: $.a, op: type, value: strng}}]}}")), &[
        "5:52:5 operator `type` needs a JSON type name as `value` (did you mean `string`?)",
    ])]
    #[case::bad_status(&step(&format!("{GET}\nexpect: {{status: 42}}")), &[
        "5:22:2 `42` is not an HTTP status code (expected a number from 100 to 599)",
    ])]
    #[case::error_type(&step(&format!("{GET}\nexpect_error: {{status: 404, type: ResourceNotFond}}")), &[
        "5:39:15 unknown error type `ResourceNotFond` (did you mean `ResourceNotFound`?)",
    ])]
    #[case::schema(&step(&format!("{GET}\nexpect: {{schema: getUsr}}")), &[
        "5:22:6 unknown response schema `getUsr` (did you mean `getUser`?)",
    ])]
    #[case::poll_rules(&step("poll: {request: {method: GET, path: /x}, field: $.s, until: [], interval_ms: 10, timeout_ms: 5, terminal: [done], transitions: {done: [busy]}}"), &[
        "4:58:5 `until` needs at least one value",
        "4:98:1 `timeout_ms` (5) is below `interval_ms` (10)",
        "4:133:4 terminal state `done` has transitions out of it (a state listed in `terminal` cannot be left)",
    ])]
    #[case::paginate_rules(&step("paginate: {request: {method: GET, path: /x}, items: users, max_pages: 2, min_pages: 3, expect_ids: 'x{{ids}}'}"), &[
        "4:89:1 `min_pages` (3) is above `max_pages` (2)",
        "4:104:10 `expect_ids` must be a list or a single `{{var}}`",
        "4:106:7 unknown variable `ids` (define it under `vars` or capture it in an earlier step)",
    ])]
    fn step_checks(#[case] text: &str, #[case] expected: &[&str]) {
        assert_eq!(findings(text), expected, "{text}");
    }

    #[rstest]
    fn variables_follow_run_order() {
        let text = "\
name: t
vars:
  label: 'bot-{{run_id}}'
  oops: '{{label}}'
setup:
  - name: make
    request: {method: POST, path: '/v1/{{later}}'}
    capture: {made: $.id}
steps:
  - name: use
    request: {method: GET, path: '/v1/{{made}}/{{label}}'}
    capture: {later: $.id}
teardown:
  - name: clean
    request: {method: DELETE, path: '/v1/{{later}}/{{made}}'}
";
        assert_eq!(
            findings(text),
            [
                "4:10:9 `vars` cannot use the variable `label` (values in `vars` may use only built-in variables)",
                "7:40:9 variable `later` is used before it is captured (`later` is captured by step `use` at line 10)",
            ]
        );
    }

    #[rstest]
    fn schema_check_is_skipped_without_a_schema_set() {
        let text = step(&format!("{GET}\nexpect: {{schema: anything}}"));
        let loaded = parse_source(SourceFile::new("t.yaml", text), Format::Yaml).unwrap();
        let none = LoadOptions { response_schemas: None };
        assert!(check(&loaded, &none).is_empty());
    }

    #[rstest]
    fn schema_names_come_from_the_set_in_use() {
        let text = step(&format!("{GET}\nexpect: {{schema: getUser}}"));
        let loaded = parse_source(SourceFile::new("t.yaml", text), Format::Yaml).unwrap();
        assert!(check(&loaded, &LoadOptions::default()).is_empty(), "built in");
        let text = step(&format!("{GET}\nexpect: {{schema: getBotLogs}}"));
        let loaded = parse_source(SourceFile::new("t.yaml", text), Format::Yaml).unwrap();
        assert!(check(&loaded, &LoadOptions::default()).is_empty(), "built in");
        let errors = check(&loaded, &fixture_schemas());
        assert_eq!(errors.len(), 1, "the fixtures have no getBotLogs");
        let hint = errors[0].hint.clone().unwrap_or_default();
        assert!(hint.contains("tests/fixtures/schemas"), "{hint}");
    }

    #[rstest]
    #[case("x-bot-id", true)]
    #[case("Content-Type", true)]
    #[case("bad header", false)]
    #[case("", false)]
    fn header_names(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(is_header_name(name), ok);
    }
}
