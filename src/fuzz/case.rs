//! One generated test case: the request (path, query, headers, body), the phase that made
//! it and what it is meant to be (valid input, or one rule broken on purpose). Cases are
//! plain data so they can be shrunk, saved to the corpus and replayed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{Operation, find_operation};
use crate::runner::{Outgoing, encode_component, encode_query};

/// Which phase made a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Failures saved by an earlier run, sent first.
    Replay,
    Positive,
    Negative,
    Coverage,
    Stateful,
}

impl Phase {
    pub const GENERATED: [Phase; 4] = [Phase::Positive, Phase::Negative, Phase::Coverage, Phase::Stateful];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Replay => "replay",
            Phase::Positive => "positive",
            Phase::Negative => "negative",
            Phase::Coverage => "coverage",
            Phase::Stateful => "stateful",
        }
    }

    /// Parses a `--phases` item.
    pub fn parse(text: &str) -> Result<Phase, String> {
        Phase::GENERATED
            .into_iter()
            .find(|p| p.name() == text.trim())
            .ok_or_else(|| format!("unknown phase {text:?}; known: positive, negative, coverage, stateful"))
    }
}

/// What the input is, for the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Intent {
    /// Valid by the contract: to be accepted, or refused only for a reason the docs allow.
    Valid,
    /// One rule broken: to be refused.
    Invalid { rule: Rule, at: String },
    /// Sent without the bearer token: 401.
    NoToken,
    /// Sent for another bot (or workspace) than the one that owns the resource: nothing of
    /// it may show.
    OtherScope,
}

/// The rule a negative case breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    WrongType,
    MissingRequired,
    OutsideEnum,
    TooLong,
    TooShort,
    TooLarge,
    TooSmall,
    TooManyItems,
    UnknownProperty,
    MalformedJson,
    WrongContentType,
    BadQuery,
    MissingQuery,
}

impl Rule {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Rule::WrongType => "wrong-type",
            Rule::MissingRequired => "missing-required",
            Rule::OutsideEnum => "outside-enum",
            Rule::TooLong => "too-long",
            Rule::TooShort => "too-short",
            Rule::TooLarge => "too-large",
            Rule::TooSmall => "too-small",
            Rule::TooManyItems => "too-many-items",
            Rule::UnknownProperty => "unknown-property",
            Rule::MalformedJson => "malformed-json",
            Rule::WrongContentType => "wrong-content-type",
            Rule::BadQuery => "bad-query",
            Rule::MissingQuery => "missing-query",
        }
    }
}

/// The body of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum Body {
    None,
    Json {
        value: Value,
    },
    /// Bytes sent as they are (malformed JSON), with this content type.
    Raw {
        text: String,
        content_type: String,
    },
}

/// A scope header: which one, and whose id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Own,
    Other,
}

/// One request to send, and what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub operation: String,
    pub phase: Phase,
    pub intent: Intent,
    /// Values of the path parameters, in template order.
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, Value)>,
    pub body: Body,
    /// Send the bearer token.
    pub token: bool,
    pub scope: Scope,
    /// A short label (`positive #3`, `coverage name=""`).
    pub label: String,
    /// The body uses a tag key the bot does not declare (README "Bot definitions": refused
    /// with InvalidPayload), so that refusal is allowed for this case only.
    #[serde(default)]
    pub undeclared: bool,
}

impl Case {
    #[must_use]
    pub fn op(&self) -> &'static Operation {
        find_operation(&self.operation).expect("cases name catalogue operations")
    }

    /// The path with its parameters filled in, percent-encoded.
    #[must_use]
    pub fn path(&self) -> String {
        let mut path = self.op().path.to_string();
        for (name, value) in &self.path_params {
            path = path.replace(&format!("{{{name}}}"), &encode_component(value));
        }
        path
    }

    /// The request as sent to `base`, with `token` and the scope ids of the run.
    #[must_use]
    pub fn outgoing(&self, base: &str, env: &Env) -> Outgoing {
        let op = self.op();
        let query = encode_query(&self.query);
        let mut url = format!("{base}{}", self.path());
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let mut headers = Vec::new();
        if self.token {
            headers.push(("authorization".to_string(), format!("Bearer {}", env.token)));
        }
        let scope = match (op.scope, self.scope) {
            (crate::api::Scope::Bot, Scope::Own) => ("x-bot-id", env.bot_id.clone()),
            (crate::api::Scope::Bot, Scope::Other) => ("x-bot-id", env.other_bot_id.clone()),
            (crate::api::Scope::Workspace, Scope::Own) => ("x-workspace-id", env.workspace_id.clone()),
            (crate::api::Scope::Workspace, Scope::Other) => ("x-workspace-id", env.other_workspace_id.clone()),
        };
        if let Some(id) = scope.1 {
            headers.push((scope.0.to_string(), id));
        }
        let body = match &self.body {
            Body::None => None,
            Body::Json { value } => {
                headers.push(("content-type".into(), "application/json".into()));
                Some(serde_json::to_vec(value).unwrap_or_default())
            }
            Body::Raw { text, content_type } => {
                headers.push(("content-type".into(), content_type.clone()));
                Some(text.clone().into_bytes())
            }
        };
        Outgoing {
            method: op.method.to_string(),
            url,
            headers,
            body,
        }
    }

    /// The JSON body, when the case sends one.
    #[must_use]
    pub fn body_value(&self) -> Option<&Value> {
        match &self.body {
            Body::Json { value } => Some(value),
            _ => None,
        }
    }

    /// What the case is, in a few words: `valid`, `wrong-type at /name`, `no token`.
    #[must_use]
    pub fn meaning(&self) -> String {
        match &self.intent {
            Intent::Valid => "valid input".into(),
            Intent::Invalid { rule, at } if at.is_empty() => rule.name().to_string(),
            Intent::Invalid { rule, at } => format!("{} at {at}", rule.name()),
            Intent::NoToken => "no token".into(),
            Intent::OtherScope => "another bot's scope".into(),
        }
    }
}

/// The ids and token a run sends cases with.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub token: String,
    pub bot_id: Option<String>,
    pub workspace_id: Option<String>,
    pub other_bot_id: Option<String>,
    pub other_workspace_id: Option<String>,
}

impl Env {
    /// The id of another bot (or workspace) for `op`'s scope, when the run has one.
    #[must_use]
    pub fn other_scope(&self, op: &Operation) -> Option<&str> {
        match op.scope {
            crate::api::Scope::Bot => self.other_bot_id.as_deref(),
            crate::api::Scope::Workspace => self.other_workspace_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_case_becomes_the_request_the_official_client_would_send() {
        let case = Case {
            operation: "getParticipant".into(),
            phase: Phase::Positive,
            intent: Intent::Valid,
            path_params: vec![("id".into(), "c 1".into()), ("userId".into(), "u/1".into())],
            query: vec![("tags".into(), json!({"a": "b"}))],
            body: Body::None,
            token: true,
            scope: Scope::Own,
            label: "t".into(),
            undeclared: false,
        };
        let env = Env {
            token: "tok".into(),
            bot_id: Some("bot".into()),
            ..Env::default()
        };
        let out = case.outgoing("http://h", &env);
        assert_eq!(
            out.url,
            "http://h/v1/chat/conversations/c%201/participants/u%2F1?tags.a=b"
        );
        assert_eq!(out.headers[0], ("authorization".into(), "Bearer tok".into()));
        assert_eq!(out.headers[1], ("x-bot-id".into(), "bot".into()));
        let back: Case = serde_json::from_str(&serde_json::to_string(&case).unwrap()).unwrap();
        assert_eq!(back, case);
    }
}
