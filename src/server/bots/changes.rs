//! What createBot and updateBot may change, checked before anything is written.
//!
//! Both bodies deserialize into [`BotChanges`]: their request schemas (checked first by
//! `RawBody::parse`) already decide which fields each operation accepts. Then, in order:
//! names of states, events and actions (`InvalidIdentifier`), every JSON Schema the bot
//! declares (`InvalidJsonSchema`), integrations and plugins (`ReferenceNotFound`: the
//! reference server has no integration hub), and the configuration data against its
//! schema (`InvalidDataFormat`). Only then is the record changed, all at once.
//!
//! Map entries sent as `null` remove the entry; `attributes` of events and actions merge
//! into the existing definition's; tags merge and an empty string removes one.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::ErrorType;
use crate::server::error::{ApiError, ApiResult};
use crate::server::routes::reply::nullable;
use crate::server::store::Tags;

use super::record::{
    ActionDefinition, BotRecord, Configuration, Cron, EventDefinition, Media, RecurringEvent, SchemaHolder,
    StateDefinition, TagDefinition,
};

type Entries<T> = BTreeMap<String, Option<T>>;

#[derive(Debug, Default, Deserialize)]
pub struct TagDefinitionsIn {
    #[serde(default)]
    tags: Entries<TagDefinition>,
}

#[derive(Debug, Deserialize)]
pub struct EventIn {
    title: Option<String>,
    description: Option<String>,
    schema: Map<String, Value>,
    #[serde(default)]
    attributes: Entries<String>,
}

#[derive(Debug, Deserialize)]
pub struct ActionIn {
    title: Option<String>,
    description: Option<String>,
    billable: Option<bool>,
    cacheable: Option<bool>,
    input: SchemaHolder,
    output: SchemaHolder,
    #[serde(default)]
    attributes: Entries<String>,
}

#[derive(Debug, Deserialize)]
pub struct RecurringIn {
    schedule: Cron,
    #[serde(rename = "type")]
    kind: String,
    payload: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct ConfigurationIn {
    data: Option<Map<String, Value>>,
    schema: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionsIn {
    events: Option<Entries<Map<String, Value>>>,
}

/// The body of createBot or updateBot.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotChanges {
    #[serde(default)]
    states: Entries<StateDefinition>,
    #[serde(default)]
    events: Entries<EventIn>,
    #[serde(default)]
    recurring_events: Entries<RecurringIn>,
    subscriptions: Option<SubscriptionsIn>,
    #[serde(default)]
    actions: Entries<ActionIn>,
    configuration: Option<ConfigurationIn>,
    user: Option<TagDefinitionsIn>,
    conversation: Option<TagDefinitionsIn>,
    message: Option<TagDefinitionsIn>,
    tags: Option<Tags>,
    code: Option<String>,
    name: Option<String>,
    description: Option<String>,
    medias: Option<Vec<Media>>,
    #[serde(default, deserialize_with = "nullable")]
    url: Option<Option<String>>,
    dev: Option<bool>,
    authentication: Option<String>,
    blocked: Option<bool>,
    max_execution_time: Option<i64>,
    always_alive: Option<bool>,
    #[serde(default)]
    integrations: Entries<Value>,
    #[serde(default)]
    plugins: Entries<Value>,
    layers: Option<Vec<String>>,
    // `shouldMergePlugins` is documented as unused: the schema admits it, serde skips it.
}

/// The naming rule of ERRORS.md: a lowercase letter first, then letters or digits, 2 to
/// 100 characters in all.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    (2..=100).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

fn check_identifier(field: &str, name: &str) -> ApiResult<()> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorType::InvalidIdentifier,
            format!(
                "{field}.{name}: an identifier starts with a lowercase letter and holds 2 to 100 letters or digits"
            ),
        ))
    }
}

/// Compiles a JSON Schema the caller declared; a schema that cannot be compiled (unknown
/// type, malformed keyword, unresolvable `$ref`) is `InvalidJsonSchema`.
pub fn compile(field: &str, schema: &Map<String, Value>) -> ApiResult<jsonschema::Validator> {
    jsonschema::validator_for(&Value::Object(schema.clone())).map_err(|e| {
        ApiError::new(
            ErrorType::InvalidJsonSchema,
            format!("{field} is not a valid JSON Schema: {e}"),
        )
    })
}

fn merge_attributes(old: Option<&BTreeMap<String, String>>, update: Entries<String>) -> BTreeMap<String, String> {
    let mut out = old.cloned().unwrap_or_default();
    for (k, v) in update {
        match v {
            Some(v) => out.insert(k, v),
            None => out.remove(&k),
        };
    }
    out
}

fn apply_entries<In, Out>(
    target: &mut BTreeMap<String, Out>,
    update: Entries<In>,
    mut make: impl FnMut(&str, In, Option<&Out>) -> Out,
) {
    for (key, entry) in update {
        match entry {
            Some(value) => {
                let made = make(&key, value, target.get(&key));
                target.insert(key, made);
            }
            None => {
                target.remove(&key);
            }
        }
    }
}

fn apply_tag_definitions(target: &mut super::record::TagDefinitions, update: Option<TagDefinitionsIn>) {
    if let Some(update) = update {
        apply_entries(&mut target.tags, update.tags, |_, def, _| def);
    }
}

impl BotChanges {
    /// Everything that can be refused, before anything is written.
    fn validate(&self) -> ApiResult<()> {
        for (field, names) in [
            ("states", live_keys(&self.states)),
            ("events", live_keys(&self.events)),
            ("actions", live_keys(&self.actions)),
        ] {
            for name in names {
                check_identifier(field, &name)?;
            }
        }
        for (name, def) in live(&self.states) {
            compile(&format!("states.{name}.schema"), &def.schema)?;
        }
        for (name, def) in live(&self.events) {
            compile(&format!("events.{name}.schema"), &def.schema)?;
        }
        for (name, def) in live(&self.actions) {
            compile(&format!("actions.{name}.input.schema"), &def.input.schema)?;
            compile(&format!("actions.{name}.output.schema"), &def.output.schema)?;
        }
        if let Some(schema) = self.configuration.as_ref().and_then(|c| c.schema.as_ref()) {
            compile("configuration.schema", schema)?;
        }
        for (field, entries) in [("integrations", &self.integrations), ("plugins", &self.plugins)] {
            if let Some((key, _)) = live(entries).next() {
                return Err(ApiError::new(
                    ErrorType::ReferenceNotFound,
                    format!("{field}.{key}: the reference server has no integration hub, so nothing can be installed"),
                ));
            }
        }
        Ok(())
    }

    /// The configuration after this change, its data checked against its schema.
    fn configuration(&mut self, current: &Configuration) -> ApiResult<Option<Configuration>> {
        let Some(update) = self.configuration.take() else {
            return Ok(None);
        };
        let next = Configuration {
            data: update.data.unwrap_or_else(|| current.data.clone()),
            schema: update.schema.unwrap_or_else(|| current.schema.clone()),
        };
        let validator = compile("configuration.schema", &next.schema)?;
        let data = Value::Object(next.data.clone());
        if let Some(error) = validator.iter_errors(&data).next() {
            return Err(ApiError::new(
                ErrorType::InvalidDataFormat,
                format!("configuration.data does not match configuration.schema: {error}"),
            ));
        }
        Ok(Some(next))
    }

    /// Validates, then writes the changes into `bot`. Returns whether `code` changed (a
    /// new deployment).
    pub fn apply(mut self, bot: &mut BotRecord) -> ApiResult<bool> {
        self.validate()?;
        let configuration = self.configuration(&bot.configuration)?;
        if let Some(configuration) = configuration {
            bot.configuration = configuration;
        }
        apply_entries(&mut bot.states, self.states, |_, def, _| def);
        apply_entries(&mut bot.events, self.events, |_, e, old| EventDefinition {
            title: e.title,
            description: e.description,
            schema: e.schema,
            attributes: merge_attributes(old.map(|o| &o.attributes), e.attributes),
        });
        apply_entries(&mut bot.actions, self.actions, |_, a, old| ActionDefinition {
            title: a.title,
            description: a.description,
            billable: a.billable,
            cacheable: a.cacheable,
            input: a.input,
            output: a.output,
            attributes: merge_attributes(old.map(|o| &o.attributes), a.attributes),
        });
        apply_entries(&mut bot.recurring_events, self.recurring_events, |_, r, _| {
            RecurringEvent {
                schedule: r.schedule,
                kind: r.kind,
                payload: r.payload,
                failed_attempts: 0,
                last_failure_reason: None,
            }
        });
        if let Some(subscriptions) = self.subscriptions {
            bot.subscriptions.events = subscriptions.events.map(|update| {
                let mut events = bot.subscriptions.events.take().unwrap_or_default();
                apply_entries(&mut events, update, |_, e, _| e);
                events
            });
        }
        apply_tag_definitions(&mut bot.user, self.user);
        apply_tag_definitions(&mut bot.conversation, self.conversation);
        apply_tag_definitions(&mut bot.message, self.message);
        if let Some(tags) = &self.tags {
            bot.merge_tags(tags);
        }
        let code_changed = self.code.as_ref().is_some_and(|code| *code != bot.code);
        if let Some(code) = self.code {
            bot.code = code;
        }
        if let Some(name) = self.name {
            bot.name = name;
        }
        if let Some(description) = self.description {
            bot.description = Some(description);
        }
        if let Some(medias) = self.medias {
            bot.medias = medias;
        }
        if let Some(url) = self.url {
            bot.url = url;
        }
        if let Some(dev) = self.dev {
            bot.dev = dev;
        }
        if let Some(authentication) = self.authentication {
            bot.authentication = Some(authentication);
        }
        if let Some(blocked) = self.blocked {
            bot.blocked = blocked;
        }
        if let Some(ms) = self.max_execution_time {
            bot.max_execution_time = Some(ms);
        }
        if let Some(always_alive) = self.always_alive {
            bot.always_alive = always_alive;
        }
        if let Some(layers) = self.layers {
            bot.layers = layers;
        }
        Ok(code_changed)
    }
}

fn live<T>(entries: &Entries<T>) -> impl Iterator<Item = (&String, &T)> {
    entries.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
}

fn live_keys<T>(entries: &Entries<T>) -> Vec<String> {
    live(entries).map(|(k, _)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::server::ids::Timestamp;

    fn changes(body: Value) -> BotChanges {
        serde_json::from_value(body).unwrap()
    }

    fn bot() -> BotRecord {
        BotRecord::new("bot_01ABCDEFGHJKMNPQRSTVWXYZ01", "ws", Timestamp::now(), 1)
    }

    #[test]
    fn identifiers_follow_the_documented_rule() {
        for good in ["ab", "orderPlaced", "a1", &format!("a{}", "b".repeat(99))] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["a", "Ab", "1a", "a-b", "a_b", "", &format!("a{}", "b".repeat(100))] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn malformed_schemas_are_refused_and_good_ones_kept() {
        let err = changes(json!({ "states": { "prefs": { "type": "user", "schema": { "type": "nope" } } } }))
            .apply(&mut bot())
            .unwrap_err();
        assert_eq!(err.ty, ErrorType::InvalidJsonSchema);
        assert!(err.message.contains("states.prefs.schema"), "{}", err.message);
        let err = changes(json!({ "actions": { "Bad-Name": {
            "input": { "schema": {} }, "output": { "schema": {} } } } }))
        .apply(&mut bot())
        .unwrap_err();
        assert_eq!(err.ty, ErrorType::InvalidIdentifier);
        let mut b = bot();
        changes(json!({ "states": { "prefs": { "type": "user", "schema": { "type": "object" } } } }))
            .apply(&mut b)
            .unwrap();
        assert!(b.states.contains_key("prefs"));
    }

    #[test]
    fn null_entries_remove_and_attributes_merge() {
        let mut b = bot();
        changes(json!({
            "events": { "orderPlaced": { "schema": {}, "attributes": { "a": "1", "b": "2" } } },
            "tags": { "k": "v", "gone": "x" },
        }))
        .apply(&mut b)
        .unwrap();
        changes(json!({
            "events": { "orderPlaced": { "schema": {}, "attributes": { "a": null, "c": "3" } } },
            "tags": { "gone": "" },
        }))
        .apply(&mut b)
        .unwrap();
        let attributes: Vec<_> = b.events["orderPlaced"].attributes.keys().cloned().collect();
        assert_eq!(attributes, ["b", "c"]);
        assert_eq!(b.tags, Tags::from([("k".into(), "v".into())]));
        changes(json!({ "events": { "orderPlaced": null } }))
            .apply(&mut b)
            .unwrap();
        assert!(b.events.is_empty());
    }

    #[test]
    fn code_changes_are_reported_and_configuration_is_checked() {
        let mut b = bot();
        assert!(changes(json!({ "code": "x" })).apply(&mut b).unwrap());
        assert!(!changes(json!({ "code": "x" })).apply(&mut b).unwrap());
        let err = changes(json!({ "configuration": {
            "schema": { "type": "object", "required": ["k"] }, "data": {} } }))
        .apply(&mut b)
        .unwrap_err();
        assert_eq!(err.ty, ErrorType::InvalidDataFormat);
        let err = changes(json!({ "integrations": { "x": { "enabled": true } } }))
            .apply(&mut b)
            .unwrap_err();
        assert_eq!(err.ty, ErrorType::ReferenceNotFound);
        assert!(changes(json!({ "integrations": { "x": null } })).apply(&mut b).is_ok());
    }
}
