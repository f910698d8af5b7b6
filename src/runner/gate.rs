//! Whether a step runs: one place for requirements and for blocking, so request, paginate
//! and poll steps are skipped by the same rules.
//!
//! A step is skipped when it requires a capability or an input the target lacks (its own
//! `requires`, its scenario's, or a built-in input variable it uses such as
//! `{{other_bot_id}}`), and blocked when it uses a variable that a failed or skipped step
//! should have captured. Nothing else stops a step: one failure hides no unrelated check.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::report::{Skip, SkipKind};
use crate::scenario::Step;
use crate::scenario::template::placeholders;
use crate::target::Capabilities;
use crate::target::capability::INPUT_VARIABLES;
use crate::target::definition::needs;

/// Every `{{name}}` a step uses, anywhere (request, expectations, ids to find).
#[must_use]
pub fn used_variables(step: &Step) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Ok(value) = serde_json::to_value(step) {
        collect(&value, &mut names);
    }
    names
}

fn collect(value: &Value, names: &mut BTreeSet<String>) {
    fn text(s: &str, names: &mut BTreeSet<String>) {
        names.extend(placeholders(s).into_iter().map(|(name, _)| name.to_string()));
    }
    match value {
        Value::String(s) => text(s, names),
        Value::Array(items) => items.iter().for_each(|v| collect(v, names)),
        Value::Object(map) => {
            for (k, v) in map {
                text(k, names);
                collect(v, names);
            }
        }
        _ => {}
    }
}

/// The first requirement of `step` (and its scenario's `requires`) the target lacks.
#[must_use]
pub fn unmet(
    capabilities: &Capabilities,
    scenario_requires: &[String],
    step: &Step,
    used: &BTreeSet<String>,
) -> Option<Skip> {
    let implicit = INPUT_VARIABLES
        .iter()
        .filter(|(variable, _)| used.contains(*variable))
        .map(|(_, input)| *input);
    let named = scenario_requires.iter().chain(&step.requires).map(String::as_str);
    named.chain(implicit).find_map(|name| {
        capabilities.lacks(name).map(|why| Skip {
            kind: SkipKind::Requirement,
            reason: format!("requires {name}: {why}"),
        })
    })
}

/// A step that relies on a declaration the bot lacks (a tag key, a state, an event type:
/// `crate::target::definition::needs`), when the run was told what the bot lacks.
#[must_use]
pub fn undeclared(lacking: &BTreeSet<String>, step: &Step) -> Option<Skip> {
    if lacking.is_empty() {
        return None;
    }
    let requests = [
        step.request.as_ref(),
        step.paginate.as_ref().map(|p| &p.request),
        step.poll.as_ref().map(|p| &p.request),
    ];
    requests.into_iter().flatten().find_map(|r| {
        needs(r.method.as_str(), &r.path, r.body.as_ref())
            .into_iter()
            .find(|need| lacking.contains(need))
            .map(|need| Skip {
                kind: SkipKind::Requirement,
                reason: format!("requires bot-definition: the bot does not declare {need} (pass --configure-bot)"),
            })
    })
}

/// Variables a scenario can no longer count on: name → the step that should have made it.
#[derive(Debug, Default)]
pub struct Owed(BTreeMap<String, String>);

impl Owed {
    /// `name` will not be there: `step` failed or was skipped before capturing it.
    pub fn owe(&mut self, name: &str, step: &str) {
        self.0.entry(name.to_string()).or_insert_with(|| step.to_string());
    }

    /// `name` was captured after all (a later step made it).
    pub fn settle(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// The block on a step that uses an owed variable.
    #[must_use]
    pub fn blocks(&self, used: &BTreeSet<String>) -> Option<Skip> {
        used.iter().find_map(|name| {
            self.0.get(name).map(|step| Skip {
                kind: SkipKind::Blocked,
                reason: format!("blocked: needs {name} from \"{step}\""),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn step(value: Value) -> Step {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn variables_are_found_everywhere_in_a_step() {
        let s = step(json!({
            "name": "x",
            "request": {"method": "GET", "path": "/v1/chat/users/{{user_id}}", "headers": {"x-bot-id": "{{other_bot_id}}"}},
            "expect": {"assert": [{"path": "$.user.tags.suite", "op": "==", "value": "{{tag}}"}]}
        }));
        let used = used_variables(&s);
        assert_eq!(used.into_iter().collect::<Vec<_>>(), ["other_bot_id", "tag", "user_id"]);
    }

    #[test]
    fn requirements_come_from_the_scenario_the_step_and_input_variables() {
        let mut caps = Capabilities::documented_only("other server");
        caps.withhold("other-bot", "no BP_OTHER_BOT_ID");
        let plain = step(json!({"name": "x", "request": {"method": "GET", "path": "/v1/chat/users"}}));
        assert_eq!(unmet(&caps, &[], &plain, &BTreeSet::new()), None);
        let skip = unmet(&caps, &["ranking".into()], &plain, &BTreeSet::new()).unwrap();
        assert_eq!(skip.reason, "requires ranking: other server");
        let uses_other =
            step(json!({"name": "x", "request": {"method": "GET", "path": "/v1/chat/users/{{other_bot_id}}"}}));
        let skip = unmet(&caps, &[], &uses_other, &used_variables(&uses_other)).unwrap();
        assert_eq!(skip.reason, "requires other-bot: no BP_OTHER_BOT_ID");
        assert_eq!(skip.group(), "requires other-bot");
        caps.grant("ranking");
        assert_eq!(unmet(&caps, &["ranking".into()], &plain, &BTreeSet::new()), None);
    }

    #[test]
    fn a_step_using_an_undeclared_name_is_skipped() {
        let s = step(
            json!({"name": "x", "request": {"method": "POST", "path": "/v1/chat/users", "body": {"tags": {"suite": "a"}}}}),
        );
        let lacking: BTreeSet<String> = ["user tag \"suite\"".to_string()].into();
        let skip = undeclared(&lacking, &s).unwrap();
        assert!(
            skip.reason.contains("does not declare user tag \"suite\""),
            "{}",
            skip.reason
        );
        assert!(undeclared(&BTreeSet::new(), &s).is_none());
        let other = step(
            json!({"name": "x", "request": {"method": "POST", "path": "/v1/chat/users", "body": {"tags": {"page": "a"}}}}),
        );
        assert!(undeclared(&lacking, &other).is_none());
    }

    #[test]
    fn owed_variables_block_the_steps_that_use_them_until_settled() {
        let mut owed = Owed::default();
        owed.owe("user_id", "create a user");
        let used: BTreeSet<String> = ["user_id".to_string()].into();
        assert_eq!(
            owed.blocks(&used).unwrap().reason,
            "blocked: needs user_id from \"create a user\""
        );
        assert!(owed.blocks(&["other".to_string()].into()).is_none());
        owed.settle("user_id");
        assert!(owed.blocks(&used).is_none());
    }
}
