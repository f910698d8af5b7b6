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
