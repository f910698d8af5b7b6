//! Load profiles (`scenarios/load/*.yaml`): which steps of which scenario files make the
//! load, with what weights, and the defaults of a run (users or rate, ramp, duration,
//! thresholds, the low-rate tail of a rate-limit probe, the embedded server's rate limit).
//!
//! A profile names scenario files, relative to itself, and steps of their `steps:` section
//! by name. The `setup:` of each named scenario runs once per virtual user and its captures
//! give the ids the weighted steps use; the weighted steps are the load.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{Operation, find_operation, match_operation};
use crate::runner::{Expectation, expectation};
use crate::scenario::Vars;
use crate::scenario::template::placeholders;
use crate::scenario::{
    Expect, ExpectError, LoadOptions, Request, Step as ScenarioStep, load_builtin_file, load_file_with,
};

/// A load profile file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Shown in reports.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Closed model: virtual users, each waiting for its answer.
    #[serde(default)]
    pub users: Option<u32>,
    /// Open model: arrivals per second (`200/s`), kept whatever the server does.
    #[serde(default)]
    pub rate: Option<String>,
    /// Time to reach full load (users started evenly, or the rate ramped from 0).
    #[serde(default)]
    pub ramp: Option<String>,
    /// How long the load runs (default 10s, at most 1h).
    #[serde(default)]
    pub duration: Option<String>,
    /// Stop after this many requests.
    #[serde(default)]
    pub requests: Option<u64>,
    /// Pass/fail rules, such as `p99<250ms`.
    #[serde(default)]
    pub thresholds: Vec<String>,
    /// A low-rate phase after the load, to see how fast a rate-limited server recovers.
    #[serde(default)]
    pub tail: Option<Tail>,
    /// Settings of the embedded reference server when it is the target.
    #[serde(default)]
    pub server: Option<ServerSettings>,
    /// The weighted steps.
    pub mix: Vec<MixEntry>,
}

/// The low-rate tail of a rate-limit probe.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tail {
    pub rate: String,
    pub duration: String,
}

/// The embedded server's settings for this profile.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// `R[/s][,burst=B]`, as `serve --rate-limit`.
    #[serde(default)]
    pub rate_limit: Option<String>,
}

/// One weighted step.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MixEntry {
    /// Scenario file, relative to the profile.
    pub scenario: String,
    /// Name of a step in the scenario's `steps:`.
    pub step: String,
    /// Relative share of the load (default 1).
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// A scenario whose setup runs once per virtual user.
#[derive(Debug, Clone)]
pub struct SetupScenario {
    pub name: String,
    pub file: PathBuf,
    pub vars: BTreeMap<String, Value>,
    pub setup: Vec<ScenarioStep>,
}

/// A weighted step, ready to send.
#[derive(Debug, Clone)]
pub struct LoadStep {
    /// Index into `Workload::scenarios`.
    pub scenario: usize,
    pub name: String,
    /// Index into `Workload::operations`.
    pub op: usize,
    pub request: Request,
    pub expect: Option<Expect>,
    pub expectation: Expectation,
    pub capture: BTreeMap<String, String>,
    pub weight: u32,
    /// Whether the request uses `{{i}}`, so it must be rendered anew each time.
    pub uses_iteration: bool,
}

/// A profile with its scenario files read and its steps resolved.
#[derive(Debug, Clone)]
pub struct Workload {
    pub profile: Profile,
    pub path: PathBuf,
    pub scenarios: Vec<SetupScenario>,
    pub steps: Vec<LoadStep>,
    /// Operation labels: the API operationId, or the step's name when it has none.
    pub operations: Vec<String>,
}

/// Reads `path` and the scenario files it names.
pub fn load_profile(path: &Path) -> Result<Workload, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read profile {}: {e}", path.display()))?;
    let profile: Profile =
        serde_saphyr::from_str(&text).map_err(|e| format!("invalid profile {}: {e}", path.display()))?;
    resolve(profile, path, false)
}

/// A profile of the suite built into the binary, named as shown
/// (`scenarios/load/default.yaml`); the scenario files it names come from the suite too.
pub fn load_builtin_profile(path: &Path) -> Result<Workload, String> {
    let text =
        crate::suite::text(path).ok_or_else(|| format!("the built-in suite has no profile {}", path.display()))?;
    let profile: Profile =
        serde_saphyr::from_str(text).map_err(|e| format!("invalid profile {}: {e}", path.display()))?;
    resolve(profile, path, true)
}

fn resolve(profile: Profile, path: &Path, builtin: bool) -> Result<Workload, String> {
    let here = path.parent().unwrap_or(Path::new("."));
    let shown = path.display();
    if profile.mix.is_empty() {
        return Err(format!("profile {shown}: mix is empty; name at least one step"));
    }
    // `load` validates with the built-in schemas, so `schema:` names are checked against them.
    let options = LoadOptions::default();
    let iteration = Regex::new(r"\{\{\s*i\s*\}\}").expect("valid regex");
    let mut scenarios: Vec<SetupScenario> = Vec::new();
    let mut files: BTreeMap<PathBuf, (usize, crate::scenario::Scenario)> = BTreeMap::new();
    let mut steps = Vec::new();
    let mut operations: Vec<String> = Vec::new();
    for (i, entry) in profile.mix.iter().enumerate() {
        if entry.weight == 0 {
            return Err(format!(
                "profile {shown}: mix[{i}] has weight 0; leave the step out instead"
            ));
        }
        let file = here.join(&entry.scenario);
        let file = if builtin {
            crate::suite::normalize(&file).unwrap_or(file)
        } else {
            file
        };
        if !files.contains_key(&file) {
            let loaded = if builtin {
                load_builtin_file(&file, &options)
            } else {
                load_file_with(&file, &options)
            }
            .map_err(|e| format!("profile {shown}: mix[{i}]: {e}"))?;
            let scenario = loaded.scenario;
            if let Some(step) = scenario.setup.iter().find(|s| s.request.is_none()) {
                return Err(format!(
                    "profile {shown}: {}: setup step {:?} is not a request; setup under load sends requests only",
                    file.display(),
                    step.name
                ));
            }
            scenarios.push(SetupScenario {
                name: scenario.name.clone(),
                file: file.clone(),
                vars: scenario.vars.clone(),
                setup: scenario.setup.clone(),
            });
            files.insert(file.clone(), (scenarios.len() - 1, scenario));
        }
        let (index, scenario) = &files[&file];
        let Some(step) = scenario.steps.iter().find(|s| s.name == entry.step) else {
            let names: Vec<&str> = scenario.steps.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "profile {shown}: mix[{i}]: {} has no step named {:?} in steps:; its steps are {names:?}",
                file.display(),
                entry.step
            ));
        };
        let Some(request) = &step.request else {
            return Err(format!(
                "profile {shown}: mix[{i}]: step {:?} is not a request (paginate and poll steps are not load steps)",
                step.name
            ));
        };
        // A weighted step may use the scenario's vars, the built-ins and what setup captures.
        let mut known: BTreeSet<String> = scenario.vars.keys().cloned().collect();
        known.extend(
            [
                "bot_id",
                "workspace_id",
                "other_bot_id",
                "other_workspace_id",
                "other_workspace_bot_id",
                "run_id",
                "token",
                "now",
                "scenario",
                "i",
            ]
            .map(String::from),
        );
        for s in &scenario.setup {
            known.extend(s.capture.keys().cloned());
        }
        let text = serde_json::to_string(&(request, &step.expect)).unwrap_or_default();
        for (name, _) in placeholders(&text) {
            let root = name.split(['.', '[']).next().unwrap_or(name);
            if !known.contains(root) {
                return Err(format!(
                    "profile {shown}: mix[{i}]: step {:?} uses {{{{{name}}}}}, which neither the scenario's vars nor its setup captures give; under load a weighted step may use only those",
                    step.name
                ));
            }
        }
        let op: Option<&'static Operation> = match &request.operation {
            Some(id) => find_operation(id),
            None => match_operation(request.method.as_str(), request.path.split('?').next().unwrap_or("")),
        };
        let label = op.map(|o| o.id.to_string()).unwrap_or_else(|| step.name.clone());
        let op_index = match operations.iter().position(|o| *o == label) {
            Some(p) => p,
            None => {
                operations.push(label);
                operations.len() - 1
            }
        };
        steps.push(LoadStep {
            scenario: *index,
            name: step.name.clone(),
            op: op_index,
            request: request.clone(),
            expect: step.expect.clone(),
            expectation: expectation(
                op,
                step.expect.as_ref(),
                step.expect_error.as_ref() as Option<&ExpectError>,
                // Load steps are fixed at plan time: their error fragments are taken as written.
                &Vars::new(),
            ),
            capture: step.capture.clone(),
            weight: entry.weight,
            uses_iteration: iteration.is_match(&text),
        });
    }
    Ok(Workload {
        profile,
        path: path.to_path_buf(),
        scenarios,
        steps,
        operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn the_shipped_profiles_load() {
        for name in ["default.yaml", "rate-limit-probe.yaml", "soak.yaml", "get-user.yaml"] {
            let w = load_profile(&root().join("scenarios/load").join(name)).unwrap();
            assert!(!w.steps.is_empty(), "{name}");
            assert!(w.steps.iter().all(|s| s.weight > 0));
        }
    }

    #[test]
    fn the_built_in_profiles_load_from_the_binary() {
        for name in crate::suite::profile_names() {
            let path = crate::suite::profile(&name).unwrap();
            let w = load_builtin_profile(&path).unwrap();
            assert!(!w.steps.is_empty(), "{name}");
            assert!(w.scenarios.iter().all(|s| s.file.starts_with("scenarios/")), "{name}");
        }
    }

    #[test]
    fn unknown_keys_and_steps_are_refused() {
        let dir = std::env::temp_dir().join(format!("bpharness-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let users = root().join("scenarios/contract/users.yaml");
        let write = |name: &str, text: String| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let p = write("typo.yaml", "name: x\nusrs: 3\nmix: []\n".into());
        assert!(load_profile(&p).unwrap_err().contains("usrs"));
        let p = write(
            "nostep.yaml",
            format!("name: x\nmix:\n  - {{ scenario: {}, step: nope }}\n", users.display()),
        );
        let err = load_profile(&p).unwrap_err();
        assert!(err.contains("no step named \"nope\""), "{err}");
        let p = write("empty.yaml", "name: x\nmix: []\n".into());
        assert!(load_profile(&p).unwrap_err().contains("mix is empty"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
