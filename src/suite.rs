//! The suite built into the binary: the repository's `scenarios/` at build time (scenario
//! files, the load profiles under `load/`, the bot definition), so `bpharness run` and
//! `bpharness load` work from any directory. Paths given on the command line win; `bpharness
//! scenarios export DIR` writes this copy out for users to read and extend.
//!
//! Files are named as in the repository (`scenarios/contract/users.yaml`), so diagnostics and
//! reports read the same whether the suite came from the binary or from a checkout.

use std::io;
use std::path::{Component, Path, PathBuf};

use include_dir::{Dir, include_dir};

/// The suite's files. `build.rs` asks cargo to rebuild when `scenarios/` changes, since
/// `include_dir!` cannot tell it on stable Rust.
static SUITE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/scenarios");

/// The directory name the built-in files are shown under.
pub const ROOT: &str = "scenarios";

/// Where load profiles live inside the suite.
pub const PROFILE_DIR: &str = "load";

/// The profile `bpharness load` runs when none is given.
pub const DEFAULT_PROFILE: &str = "default";

/// Every file of the suite: its path as shown (`scenarios/...`) and its bytes, sorted by path.
#[must_use]
pub fn files() -> Vec<(PathBuf, &'static [u8])> {
    let mut out = Vec::new();
    collect(&SUITE, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(PathBuf, &'static [u8])>) {
    for file in dir.files() {
        out.push((Path::new(ROOT).join(file.path()), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

/// `path` with `.` and `..` resolved lexically (`scenarios/load/../smoke/chat.yaml` →
/// `scenarios/smoke/chat.yaml`); `None` when it climbs above its start.
#[must_use]
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// The text of a suite file named as shown (`scenarios/smoke/chat.yaml`, `..` allowed).
#[must_use]
pub fn text(path: &Path) -> Option<&'static str> {
    let path = normalize(path)?;
    let inside = path.strip_prefix(ROOT).ok()?;
    SUITE.get_file(inside).and_then(|f| f.contents_utf8())
}

/// The shown path of the built-in load profile `name` (`default`, `rate-limit-probe.yaml`).
#[must_use]
pub fn profile(name: &str) -> Option<PathBuf> {
    let file = if name.ends_with(".yaml") {
        name.to_string()
    } else {
        format!("{name}.yaml")
    };
    let path = Path::new(ROOT).join(PROFILE_DIR).join(file);
    text(&path).map(|_| path)
}

/// The names of the built-in load profiles, sorted.
#[must_use]
pub fn profile_names() -> Vec<String> {
    SUITE
        .get_dir(PROFILE_DIR)
        .map(|dir| {
            let mut names: Vec<String> = dir
                .files()
                .filter_map(|f| f.path().file_stem()?.to_str().map(String::from))
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default()
}

/// The scenario format's JSON Schema, written beside an exported suite so editors can
/// validate and complete the files (README "Editors").
const SCENARIO_SCHEMA: &[u8] = include_bytes!("../schemas/scenario.schema.json");

/// Its file name.
pub const SCENARIO_SCHEMA_FILE: &str = "scenario.schema.json";

/// Writes the suite into `dir` (as `dir/contract/users.yaml`, `dir/load/default.yaml`...)
/// with the scenario schema beside it (`dir/scenario.schema.json`), refusing to overwrite a
/// file unless `force`; returns the paths written.
///
/// # Errors
///
/// A file exists and `force` is off (`AlreadyExists`), or a write fails.
pub fn export(dir: &Path, force: bool) -> io::Result<Vec<PathBuf>> {
    let files = files();
    let targets: Vec<(PathBuf, &[u8])> = files
        .into_iter()
        .map(|(shown, bytes)| {
            let inside = shown.strip_prefix(ROOT).unwrap_or(&shown).to_path_buf();
            (dir.join(inside), bytes)
        })
        .chain([(dir.join(SCENARIO_SCHEMA_FILE), SCENARIO_SCHEMA)])
        .collect();
    if !force && let Some((existing, _)) = targets.iter().find(|(path, _)| path.exists()) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists; pass --force to overwrite", existing.display()),
        ));
    }
    for (path, bytes) in &targets {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(targets.into_iter().map(|(path, _)| path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_holds_scenarios_profiles_and_the_bot_definition() {
        let names: Vec<String> = files().iter().map(|(p, _)| p.display().to_string()).collect();
        assert!(names.iter().any(|n| n == "scenarios/contract/users.yaml"), "{names:?}");
        assert!(names.iter().any(|n| n == "scenarios/bot-definition.yaml"));
        assert!(profile_names().contains(&DEFAULT_PROFILE.to_string()));
        assert_eq!(profile("default"), Some(PathBuf::from("scenarios/load/default.yaml")));
        assert_eq!(profile("no-such-profile"), None);
    }

    #[test]
    fn relative_names_resolve_lexically() {
        assert!(text(Path::new("scenarios/load/../smoke/chat.yaml")).is_some());
        assert_eq!(normalize(Path::new("a/../../b")), None);
        assert_eq!(normalize(Path::new("/etc/passwd")), None);
    }

    #[test]
    fn export_writes_every_file_and_refuses_to_overwrite() {
        let dir = std::env::temp_dir().join(format!("bpharness-export-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let written = export(&dir, false).unwrap();
        assert_eq!(written.len(), files().len() + 1);
        assert!(dir.join("load/default.yaml").is_file());
        assert!(dir.join(SCENARIO_SCHEMA_FILE).is_file());
        let err = export(&dir, false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(export(&dir, true).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
