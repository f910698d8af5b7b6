//! The bot definition the suite relies on (`scenarios/bot-definition.yaml`): the tags of
//! users, conversations and messages, the states and the event types its scenarios use.
//!
//! The docs restrict tags to those "defined previously by the Bot" and states to those
//! "declared inside the bot definition", so a conformant server may refuse anything else.
//! Bots the run creates carry this definition; a bot given by id is read first and what it
//! lacks is listed (and added with `--configure-bot`).

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The definition, parsed once (the same file the reference server gives its own bots).
#[must_use]
pub fn suite_definition() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(crate::server::suite_definition)
}

/// The tag sections of a definition, as createBot names them.
const TAGGED: [&str; 3] = ["user", "conversation", "message"];

/// What `bot` (a getBot `bot` object) lacks of `wanted`: `user tag "suite"`,
/// `state "profile"`, `event type "ping"`...
#[must_use]
pub fn missing(wanted: &Value, bot: &Value) -> Vec<String> {
    let keys = |v: &Value, pointer: &str| -> Vec<String> {
        v.pointer(pointer)
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut lacking = Vec::new();
    for section in TAGGED {
        let pointer = format!("/{section}/tags");
        let have = keys(bot, &pointer);
        for key in keys(wanted, &pointer) {
            if !have.contains(&key) {
                lacking.push(format!("{section} tag \"{key}\""));
            }
        }
    }
    for (pointer, what) in [("/states", "state"), ("/events", "event type")] {
        let have = keys(bot, pointer);
        for key in keys(wanted, pointer) {
            let same_type =
                || bot.pointer(&format!("{pointer}/{key}/type")) == wanted.pointer(&format!("{pointer}/{key}/type"));
            if !have.contains(&key) || (what == "state" && !same_type()) {
                lacking.push(format!("{what} \"{key}\""));
            }
        }
    }
    lacking
}

/// The declarations a request relies on, named as [`missing`] names them: the tag keys it
/// sets on a user, conversation or message, the state it addresses, the event type it
/// creates. Only literal names count (a templated key cannot be known before the run).
#[must_use]
pub fn needs(method: &str, path: &str, body: Option<&Value>) -> Vec<String> {
    let path = path.split('?').next().unwrap_or(path);
    let mut out = Vec::new();
    let section = if path.starts_with("/v1/chat/users") {
        Some("user")
    } else if path.starts_with("/v1/chat/conversations") && !path.contains("/participants") {
        Some("conversation")
    } else if path.starts_with("/v1/chat/messages") {
        Some("message")
    } else {
        None
    };
    let writes = matches!(method, "POST" | "PUT" | "PATCH");
    if let (Some(section), true) = (section, writes)
        && let Some(tags) = body.and_then(|b| b.get("tags")).and_then(Value::as_object)
    {
        out.extend(
            tags.keys()
                .filter(|k| !k.contains("{{"))
                .map(|k| format!("{section} tag \"{k}\"")),
        );
    }
    if let Some(rest) = path.strip_prefix("/v1/chat/states/")
        && let Some(name) = rest.split('/').nth(2)
        && !name.is_empty()
        && !name.contains("{{")
    {
        out.push(format!("state \"{name}\""));
    }
    if method == "POST"
        && path == "/v1/chat/events"
        && let Some(kind) = body.and_then(|b| b.get("type")).and_then(Value::as_str)
        && !kind.contains("{{")
    {
        out.push(format!("event type \"{kind}\""));
    }
    out
}

/// An updateBot body that adds `wanted` to a bot, keeping what it declares already
/// (updateBot merges these maps key by key).
#[must_use]
pub fn update_body(wanted: &Value) -> Value {
    let mut body = Map::new();
    for key in TAGGED.iter().copied().chain(["states", "events"]) {
        if let Some(v) = wanted.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_suite_definition_parses_and_declares_each_section() {
        let d = suite_definition();
        for section in TAGGED {
            assert!(
                d.pointer(&format!("/{section}/tags")).is_some_and(Value::is_object),
                "{section}"
            );
        }
        assert!(d["states"].is_object() && d["events"].is_object());
    }

    #[test]
    fn the_suite_definition_matches_its_schema() {
        let validator = crate::contract::SchemaSet::embedded()
            .validator("bot-definition.schema.json")
            .expect("the schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(suite_definition())
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn needs_names_the_declarations_a_request_uses() {
        let body = json!({"tags": {"suite": "x", "{{dyn}}": "y"}, "type": "ping"});
        assert_eq!(needs("POST", "/v1/chat/users", Some(&body)), ["user tag \"suite\""]);
        assert_eq!(
            needs("PUT", "/v1/chat/conversations/conv_1", Some(&body)),
            ["conversation tag \"suite\""]
        );
        assert!(needs("GET", "/v1/chat/users?tags.suite=x", None).is_empty());
        assert!(needs("POST", "/v1/chat/conversations/c/participants", Some(&body)).is_empty());
        assert_eq!(needs("POST", "/v1/chat/events", Some(&body)), ["event type \"ping\""]);
        assert_eq!(
            needs("POST", "/v1/chat/states/user/{{user_id}}/profile", Some(&json!({}))),
            ["state \"profile\""]
        );
        assert!(needs("GET", "/v1/chat/states/user/u/{{name}}", None).is_empty());
    }

    #[test]
    fn missing_lists_tags_states_and_events_a_bot_lacks() {
        let wanted = json!({
            "user": {"tags": {"suite": {}}}, "conversation": {"tags": {}}, "message": {"tags": {"late": {}}},
            "states": {"profile": {"type": "user"}, "room": {"type": "conversation"}},
            "events": {"ping": {}}
        });
        let bot = json!({
            "user": {"tags": {"suite": {}}}, "message": {"tags": {}},
            "states": {"profile": {"type": "user"}, "room": {"type": "user"}}, "events": {}
        });
        assert_eq!(
            missing(&wanted, &bot),
            ["message tag \"late\"", "state \"room\"", "event type \"ping\""]
        );
        assert!(missing(&wanted, &wanted).is_empty());
        assert_eq!(update_body(&wanted).as_object().unwrap().len(), 5);
    }
}
