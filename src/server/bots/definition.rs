//! A bot's definition is followed: the tag keys, state names and event types it declares
//! (`user.tags`, `conversation.tags`, `message.tags`, `states`, `events` of createBot and
//! updateBot) are the only ones the runtime API takes. Every choice is here:
//!
//! - **Tags.** The docs: "The set of Tags available on a User is restricted by the list of
//!   Tags defined previously by the Bot" (the same sentence for conversations and
//!   messages). So a key the bot does not declare, sent by create, get-or-create or update
//!   of a user, conversation or message, is 400 `InvalidPayload` naming the key, whatever
//!   its value (unsetting with `""` included: the key is not available at all). The tag
//!   *filters* of the list operations are not checked: the docs restrict what can be
//!   attached, not what can be asked for, and a filter on an undeclared key simply matches
//!   nothing. Tags of bots, files and tables are free (no definition covers them).
//! - **States.** The docs: a state's name "is declared inside the bot definition". setState,
//!   getOrSetState and patchState of a name the bot does not declare, or declares with
//!   another `type` than the path's, are 400 `InvalidPayload` naming it (a body-and-path
//!   validation failure, like a field outside an enum). A bot definition may only declare
//!   `conversation`, `user`, `bot` and `task` states, so an `integration` or `workflow`
//!   state can never be written through a bot. getState does not consult the definition:
//!   a state that cannot be declared cannot have been written, so it is 404
//!   `ResourceNotFound` like any state never set (and a state written before its
//!   declaration was removed still reads).
//! - **Events.** createEvent of a type the bot does not declare is accepted: the docs say
//!   the payload is "defined by the integration installed on your bot or one of the
//!   default events created by our API", so types outside the bot's own `events` exist.
//!   Nothing in the bot can handle it, so it ends `ignored` instead of `processed` (see
//!   `Event::settle`); the outcome is decided when the event is created.
//!
//! The server's own bots (`Seeds`) carry the suite's definition, `scenarios/bot-definition.yaml`,
//! embedded at build time; bots made by createBot carry what their body declares.

use serde_json::Value;

use crate::server::error::{ApiError, ApiResult};
use crate::server::store::{BotSpace, Tags};

use super::changes::BotChanges;
use super::record::{BotRecord, TagDefinitions};

/// The suite's bot definition, as the file holds it: a createBot body fragment.
pub const SUITE_DEFINITION_YAML: &str = include_str!("../../../scenarios/bot-definition.yaml");

/// The suite's bot definition as JSON (a createBot / updateBot body).
pub fn suite_definition() -> Value {
    let mut options = serde_saphyr::Options::default();
    // `n`, `y`, `no`, `on`… are tag keys and titles here, not YAML 1.1 booleans.
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(SUITE_DEFINITION_YAML, options)
        .expect("scenarios/bot-definition.yaml is valid YAML")
}

/// Gives `bot` the suite's definition (the seeded bots).
pub fn declare_suite_definition(bot: &mut BotRecord) {
    let changes: BotChanges =
        serde_json::from_value(suite_definition()).expect("scenarios/bot-definition.yaml is a createBot body");
    changes
        .apply(bot)
        .expect("scenarios/bot-definition.yaml is a valid bot definition");
}

/// What a tag is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    User,
    Conversation,
    Message,
}

impl Tagged {
    fn name(self) -> &'static str {
        match self {
            Tagged::User => "user",
            Tagged::Conversation => "conversation",
            Tagged::Message => "message",
        }
    }

    fn definitions(self, bot: &BotRecord) -> &TagDefinitions {
        match self {
            Tagged::User => &bot.user,
            Tagged::Conversation => &bot.conversation,
            Tagged::Message => &bot.message,
        }
    }
}

/// Every key of `tags` is declared by the bot for `what`.
pub fn check_tags(bot: &BotSpace, what: Tagged, tags: &Tags) -> ApiResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let record = bot.record.read().expect("bot record poisoned");
    let declared = &what.definitions(&record).tags;
    match tags.keys().find(|key| !declared.contains_key(*key)) {
        None => Ok(()),
        Some(key) => Err(ApiError::invalid_payload(format!(
            "body.tags.{key}: tag {key:?} is not declared by the bot (its {}.tags declares {})",
            what.name(),
            listing(declared.keys())
        ))),
    }
}

/// The bot declares a state `name` of type `kind` (setState, getOrSetState, patchState).
pub fn check_state(bot: &BotSpace, kind: &str, name: &str) -> ApiResult<()> {
    let record = bot.record.read().expect("bot record poisoned");
    match record.states.get(name) {
        Some(def) if def.kind == kind => Ok(()),
        Some(def) => Err(ApiError::invalid_payload(format!(
            "state {name:?} is declared by the bot with type {:?}, not {kind:?}",
            def.kind
        ))),
        None => {
            let same_type = record.states.iter().filter(|(_, d)| d.kind == kind).map(|(n, _)| n);
            Err(ApiError::invalid_payload(format!(
                "state {name:?} is not declared by the bot (its {kind} states: {})",
                listing(same_type)
            )))
        }
    }
}

/// Whether the bot declares events of type `kind`: one it does not declare ends `ignored`.
pub fn event_declared(bot: &BotSpace, kind: &str) -> bool {
    bot.record
        .read()
        .expect("bot record poisoned")
        .events
        .contains_key(kind)
}

fn listing<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ids::Timestamp;

    #[test]
    fn the_suite_definition_applies_to_a_bot() {
        let mut bot = BotRecord::deployed("bot_01ABCDEFGHJKMNPQRSTVWXYZ01", "ws", Timestamp::now(), 1);
        declare_suite_definition(&mut bot);
        assert!(!bot.user.tags.is_empty());
        assert!(!bot.conversation.tags.is_empty());
        assert!(!bot.message.tags.is_empty());
        assert!(!bot.states.is_empty());
        assert!(!bot.events.is_empty());
        // YAML 1.1 booleans stay strings.
        let definition = suite_definition();
        for (key, def) in definition["user"]["tags"].as_object().unwrap() {
            assert!(def["title"].is_string(), "{key}: {def}");
        }
    }
}
