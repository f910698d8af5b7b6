//! Reading scenario files: pick the format by extension, deserialize into the model, turn
//! every parser and serde error into a located [`ScenarioError`], then run the checks.
//!
//! YAML goes through serde-saphyr, whose errors carry the line, column and character span of
//! the offending node and, for unknown keys and variants, the list of expected names. JSON goes
//! through serde_json, whose errors carry only a line and column; the key path from
//! `serde_path_to_error` and the [`Locations`] of the text make up for it.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use serde_path_to_error::Segment;
use serde_saphyr::{Error, MessageFormatter as _};

use super::check::{self, RESPONSE_SCHEMA_DIR};
use super::diag::{ScenarioError, ScenarioErrorKind, did_you_mean, expected_one_of, suggest};
use super::locate::{KeyPath, Located, Locations, PathSeg};
use super::model::{Scenario, Section};
use super::source::{SourceFile, Span};
use crate::contract::SchemaSet;

/// Extensions of scenario files.
pub const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Directories with this name are skipped when walking: they hold load profiles.
const SKIPPED_DIR: &str = "load";

/// Files with this name are skipped when walking: the suite's bot definition, not a
/// scenario (`crate::target::definition`).
pub const BOT_DEFINITION_FILE: &str = "bot-definition.yaml";

/// The two scenario file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.yaml` or `.yml`.
    Yaml,
    /// `.json`.
    Json,
}

impl Format {
    /// The format of a path, from its extension (case-insensitive).
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// A parsed scenario with its text and the position of every key, so that later failures can
/// point back into the file.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The file's path and text.
    pub source: SourceFile,
    /// The deserialized scenario.
    pub scenario: Scenario,
    /// Spans of every key and value of the document.
    pub locations: Locations,
    /// The file's format.
    pub format: Format,
}

impl LoadedScenario {
    /// Spans at `path`, or at its nearest ancestor present in the text.
    #[must_use]
    pub fn locate(&self, path: &KeyPath) -> Located {
        self.locations.nearest(path)
    }

    /// 1-based line and column where the value at `path` starts.
    #[must_use]
    pub fn location(&self, path: &KeyPath) -> (usize, usize) {
        self.source.line_col(self.locate(path).value.start)
    }

    /// 1-based line and column where a step starts (its first key in YAML, its `{` in JSON).
    #[must_use]
    pub fn step_location(&self, section: Section, index: usize) -> (usize, usize) {
        self.location(&step_path(section, index))
    }

    /// An error pointing at the value at `path` (or its nearest ancestor), for failures found
    /// after loading, e.g. by the runner.
    #[must_use]
    pub fn error_at(&self, path: &KeyPath, message: impl Into<String>) -> ScenarioError {
        let span = self.locate(path).value;
        ScenarioError::at(ScenarioErrorKind::Check, &self.source, span, message)
    }
}

/// Key path of a step, e.g. `steps[2]`.
#[must_use]
pub fn step_path(section: Section, index: usize) -> KeyPath {
    KeyPath::root().key(section.as_str()).index(index)
}

/// Settings for loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// The response schemas of the schema set in use (built in, or `--schemas DIR`), against
    /// which explicit `schema:` names are checked; `None` skips that check.
    pub response_schemas: Option<ResponseSchemas>,
}

/// The names of a schema set's response schemas (`responses/<name>.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSchemas {
    /// Where the set came from, for hints ("the built-in schemas", a directory).
    pub origin: String,
    /// Sorted names, without `.json`.
    pub names: Vec<String>,
}

impl LoadOptions {
    /// Checks `schema:` names against the response schemas of `set`.
    #[must_use]
    pub fn with_schemas(set: &SchemaSet) -> Self {
        let mut names: Vec<String> = set
            .paths()
            .filter_map(|rel| {
                rel.strip_prefix(RESPONSE_SCHEMA_DIR)?
                    .strip_prefix('/')?
                    .strip_suffix(".json")
            })
            .filter(|name| !name.contains('/'))
            .map(String::from)
            .collect();
        names.sort();
        LoadOptions {
            response_schemas: Some(ResponseSchemas {
                origin: set.origin().to_string(),
                names,
            }),
        }
    }
}

impl Default for LoadOptions {
    /// The schemas built into the binary.
    fn default() -> Self {
        LoadOptions::with_schemas(SchemaSet::embedded())
    }
}

/// Load and check one file; on failure, the first error in file order.
///
/// # Errors
///
/// The file is missing, unreadable, of an unknown extension, not valid YAML/JSON, does not fit
/// the model, or fails a check.
pub fn load_file(path: impl AsRef<Path>) -> Result<LoadedScenario, ScenarioError> {
    load_file_with(path, &LoadOptions::default())
}

/// [`load_file`] with explicit options.
///
/// # Errors
///
/// As [`load_file`].
pub fn load_file_with(path: impl AsRef<Path>, options: &LoadOptions) -> Result<LoadedScenario, ScenarioError> {
    load_one(path.as_ref(), options).map_err(|mut errors| errors.swap_remove(0))
}

/// Load and check files and directories (walked recursively for `*.yaml`, `*.yml`, `*.json`,
/// sorted by path, skipping directories named `load`). Files with any error are left out of
/// the scenarios; every error of every file is returned.
#[must_use]
pub fn load_paths(paths: &[PathBuf]) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    load_paths_with(paths, &LoadOptions::default())
}

/// [`load_paths`] with explicit options.
#[must_use]
pub fn load_paths_with(paths: &[PathBuf], options: &LoadOptions) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            let mut files = Vec::new();
            if let Err(err) = walk(path, &mut files) {
                errors.push(io_error(path, &err));
            }
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            match load_one(&file, options) {
                Ok(loaded) => scenarios.push(loaded),
                Err(file_errors) => errors.extend(file_errors),
            }
        }
    }
    (scenarios, errors)
}

/// Load and check the scenario files of the suite built into the binary (the same walk as
/// for a directory: no `load/`, no bot definition), named `scenarios/...`.
#[must_use]
pub fn load_builtin(options: &LoadOptions) -> (Vec<LoadedScenario>, Vec<ScenarioError>) {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for (path, bytes) in crate::suite::files() {
        let skipped = path.components().any(|c| c.as_os_str() == SKIPPED_DIR)
            || path.file_name().is_some_and(|n| n == BOT_DEFINITION_FILE);
        let Some(format) = Format::from_path(&path).filter(|_| !skipped) else {
            continue;
        };
        match load_bytes(&path, format, bytes.to_vec(), options) {
            Ok(loaded) => scenarios.push(loaded),
            Err(file_errors) => errors.extend(file_errors),
        }
    }
    (scenarios, errors)
}

/// Load and check one file of the built-in suite, named as shown (`scenarios/smoke/chat.yaml`).
///
/// # Errors
///
/// The suite has no such file, or it fails to load as [`load_file`] would.
pub fn load_builtin_file(path: &Path, options: &LoadOptions) -> Result<LoadedScenario, ScenarioError> {
    let shown = crate::suite::normalize(path).unwrap_or_else(|| path.to_path_buf());
    let Some(text) = crate::suite::text(&shown) else {
        return Err(ScenarioError::file(
            ScenarioErrorKind::Io,
            &shown,
            "the built-in suite has no such file",
        ));
    };
    let format = Format::from_path(&shown).unwrap_or(Format::Yaml);
    load_bytes(&shown, format, text.as_bytes().to_vec(), options).map_err(|mut errors| errors.swap_remove(0))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // `file_type` does not follow symlinks, so a link cycle cannot loop the walk.
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if entry.file_name() != SKIPPED_DIR {
                walk(&path, files)?;
            }
        } else if Format::from_path(&path).is_some() && path.is_file() && entry.file_name() != BOT_DEFINITION_FILE {
            files.push(path);
        }
    }
    Ok(())
}

fn io_error(path: &Path, err: &io::Error) -> ScenarioError {
    let text = err.to_string();
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    };
    ScenarioError::file(ScenarioErrorKind::Io, path, format!("cannot read file: {text}"))
}

/// Read, parse and check one file; errors in file order.
fn load_one(path: &Path, options: &LoadOptions) -> Result<LoadedScenario, Vec<ScenarioError>> {
    let Some(format) = Format::from_path(path) else {
        let message = match path.extension() {
            Some(ext) => format!("unsupported file extension `.{}`", ext.to_string_lossy()),
            None => "file has no extension".to_owned(),
        };
        return Err(vec![
            ScenarioError::file(ScenarioErrorKind::UnsupportedFormat, path, message)
                .with_hint(expected_one_of([".yaml", ".yml", ".json"])),
        ]);
    };
    let bytes = std::fs::read(path).map_err(|err| vec![io_error(path, &err)])?;
    load_bytes(path, format, bytes, options)
}

/// Parse and check the bytes of a file named `path`.
fn load_bytes(
    path: &Path,
    format: Format,
    bytes: Vec<u8>,
    options: &LoadOptions,
) -> Result<LoadedScenario, Vec<ScenarioError>> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let source = SourceFile::new(path, String::from_utf8_lossy(err.as_bytes()));
            return Err(vec![ScenarioError::at(
                ScenarioErrorKind::Syntax,
                &source,
                Span::point(valid),
                "file is not valid UTF-8",
            )]);
        }
    };
    let loaded = parse_source(SourceFile::new(path, text), format).map_err(|err| vec![err])?;
    let errors = check::check(&loaded, options);
    if errors.is_empty() { Ok(loaded) } else { Err(errors) }
}

/// Parse scenario text in the given format, without the semantic checks.
///
/// # Errors
///
/// The text is empty, not valid YAML/JSON, or does not fit the model.
pub fn parse_source(source: SourceFile, format: Format) -> Result<LoadedScenario, ScenarioError> {
    if is_blank(&source.text, format) {
        return Err(
            ScenarioError::file(ScenarioErrorKind::Syntax, &source.path, "file is empty")
                .with_hint("a scenario needs at least `name` and `steps`"),
        );
    }
    let scenario = match format {
        Format::Yaml => parse_yaml(&source)?,
        Format::Json => parse_json(&source)?,
    };
    let locations = match format {
        Format::Yaml => Locations::from_yaml(&source.text),
        Format::Json => Locations::from_json(&source.text),
    };
    Ok(LoadedScenario {
        source,
        scenario,
        locations,
        format,
    })
}

/// Whether the text holds no document: only blank lines and (in YAML) comments or `---`.
fn is_blank(text: &str, format: Format) -> bool {
    text.lines().all(|line| {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        line.is_empty() || (format == Format::Yaml && (line.starts_with('#') || line == "---"))
    })
}

fn key_path(path: &serde_path_to_error::Path) -> KeyPath {
    let mut segs = Vec::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => segs.push(PathSeg::Index(*index)),
            Segment::Map { key } => segs.push(PathSeg::Key(key.clone())),
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    KeyPath(segs)
}

/// How a path is named in a message.
fn describe(path: &KeyPath) -> String {
    if path.is_root() {
        "the scenario".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// Friendlier names for serde's expectations.
fn expected_text(expected: &str) -> Cow<'_, str> {
    let text = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "bool" | "a boolean" => "a boolean",
        "string scalar" | "a string" => "a string",
        "sequence start" | "a sequence" => "a list",
        "mapping start" | "a map" => "a mapping",
        other => {
            if let Some(name) = other.strip_prefix("struct ") {
                return Cow::Owned(format!("a mapping ({name})"));
            }
            return Cow::Borrowed(other);
        }
    };
    Cow::Borrowed(text)
}

fn invalid(path: &KeyPath, expected: &str, found: Option<&str>) -> String {
    let mut message = format!(
        "invalid value for {}: expected {}",
        describe(path),
        expected_text(expected)
    );
    if let Some(found) = found {
        message.push_str(", found ");
        message.push_str(found);
    }
    message
}

fn parse_yaml(source: &SourceFile) -> Result<Scenario, ScenarioError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // `yes`/`no`/`on`/`off` stay strings: YAML 1.1 booleans surprise people in bodies.
    options.strict_booleans = true;
    let mut path = KeyPath::root();
    let result = serde_saphyr::with_deserializer_from_str_with_options(&source.text, options, |deserializer| {
        serde_path_to_error::deserialize(deserializer).map_err(|err| {
            path = key_path(err.path());
            err.into_inner()
        })
    });
    let err = match result {
        Ok(scenario) => return Ok(scenario),
        Err(err) => err,
    };
    let mut inner = err.without_snippet();
    while let Error::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    // Character-based line, column and width of the offending node.
    let (line, col, len) = inner.location().filter(|loc| loc.line() > 0).map_or((1, 1, 0), |loc| {
        (
            usize::try_from(loc.line()).unwrap_or(1),
            usize::try_from(loc.column()).unwrap_or(1),
            usize::try_from(loc.span().len()).unwrap_or(0),
        )
    });
    let (line, col) = source.line_col_of_yaml(line, col);
    let at = |kind, len, message: String| ScenarioError::at_line_col(kind, source, line, col, len, message);
    let structure = ScenarioErrorKind::Structure;
    Err(match inner {
        Error::SerdeUnknownField { field, expected, .. } => {
            at(structure, field.chars().count(), format!("unknown field `{field}`"))
                .with_hint(suggest(field, expected.iter().copied()))
        }
        Error::SerdeUnknownVariant { variant, expected, .. } => at(
            structure,
            len,
            format!("unknown value `{variant}` for {}", describe(&path)),
        )
        .with_hint(suggest(variant, expected.iter().copied())),
        Error::SerdeMissingField { field, .. } => {
            let mut message = format!("missing field `{field}`");
            if !path.is_root() {
                message.push_str(&format!(" in `{path}`"));
            }
            at(structure, 0, message)
        }
        Error::SerdeInvalidType {
            unexpected, expected, ..
        }
        | Error::SerdeInvalidValue {
            unexpected, expected, ..
        } => at(structure, len, invalid(&path, expected, Some(unexpected))),
        Error::InvalidScalar { ty, .. } => at(
            structure,
            len,
            invalid(&path, ty, Some(&format!("`{}`", scalar_text(source, line, col, len)))),
        ),
        Error::Unexpected { expected, .. } => at(structure, len, invalid(&path, expected, None)),
        Error::NullIntoString { .. } => at(structure, len, invalid(&path, "a string", Some("null"))),
        Error::DuplicateMappingKey { key, .. } => at(
            structure,
            len,
            match key {
                Some(key) => format!("duplicate key `{key}`"),
                None => "duplicate key".to_owned(),
            },
        ),
        Error::MultipleDocuments { .. } => at(
            ScenarioErrorKind::Syntax,
            0,
            "a scenario file holds a single YAML document".to_owned(),
        ),
        Error::Eof { .. } => at(ScenarioErrorKind::Syntax, 0, "unexpected end of file".to_owned()),
        other => {
            let message = serde_saphyr::UserMessageFormatter.format_message(other);
            let message = format!("invalid YAML: {}", message.escape_debug());
            // The scanner reports a tab at the start of the token it was reading, which may
            // be on an earlier line: point at the tab itself.
            let tab = message
                .contains("tab")
                .then(|| {
                    let line_start = source.offset(line, 1)?;
                    let tab = source.text[line_start..].find('\t')?;
                    Some(line_start + tab)
                })
                .flatten();
            match tab {
                Some(offset) => ScenarioError::at(
                    ScenarioErrorKind::Syntax,
                    source,
                    Span::new(offset, offset + 1),
                    message,
                )
                .with_hint("indent YAML with spaces: tabs are not allowed"),
                None => at(ScenarioErrorKind::Syntax, len, message),
            }
        }
    })
}

/// Source text of a scalar reported at `line:col`, for messages.
fn scalar_text(source: &SourceFile, line: usize, col: usize, len: usize) -> String {
    let Some(start) = source.offset(line, col) else {
        return String::new();
    };
    let text = &source.text[start..];
    let end = text.char_indices().nth(len.max(1)).map_or(text.len(), |(i, _)| i);
    text[..end].lines().next().unwrap_or_default().to_owned()
}

fn parse_json(source: &SourceFile) -> Result<Scenario, ScenarioError> {
    let mut deserializer = serde_json::Deserializer::from_str(&source.text);
    let result: Result<Scenario, _> = serde_path_to_error::deserialize(&mut deserializer);
    let (path, err) = match result {
        Ok(scenario) => match deserializer.end() {
            Ok(()) => return Ok(scenario),
            Err(err) => (KeyPath::root(), err),
        },
        Err(err) => (key_path(err.path()), err.into_inner()),
    };
    // serde_json counts columns in bytes; go through the byte offset to get characters.
    let offset = source.offset(err.line(), 1).map_or(source.text.len(), |start| {
        (start + err.column().saturating_sub(1)).min(source.text.len())
    });
    let text = err.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    if !err.is_data() {
        return Err(ScenarioError::at(
            ScenarioErrorKind::Syntax,
            source,
            Span::point(offset),
            format!("invalid JSON: {message}"),
        ));
    }
    let locations = Locations::from_json(&source.text);
    let found = locations.get(&path);
    let fallback = Span::point(offset);
    let structure = ScenarioErrorKind::Structure;
    let names = backticked(message);
    Err(if let Some(field) = message.strip_prefix("unknown field `") {
        let field = field.split('`').next().unwrap_or_default();
        let span = found.map_or(fallback, |f| f.key_or_value());
        ScenarioError::at(structure, source, span, format!("unknown field `{field}`"))
            .with_hint(suggest(field, names.iter().skip(1).copied()))
    } else if let Some(variant) = message.strip_prefix("unknown variant `") {
        let variant = variant.split('`').next().unwrap_or_default();
        let span = found.map_or(fallback, |f| f.value);
        ScenarioError::at(
            structure,
            source,
            span,
            format!("unknown value `{variant}` for {}", describe(&path)),
        )
        .with_hint(suggest(variant, names.iter().skip(1).copied()))
    } else if let Some(field) = message.strip_prefix("duplicate field `") {
        let field = field.split('`').next().unwrap_or_default();
        // The last occurrence is the duplicate.
        let span = locations.get(&path.key(field)).map_or(fallback, |f| f.key_or_value());
        let mut message = format!("duplicate key `{field}`");
        if !path.is_root() {
            message.push_str(&format!(" in `{path}`"));
        }
        ScenarioError::at(structure, source, span, message)
    } else if let Some(field) = message.strip_prefix("missing field `") {
        let field = field.split('`').next().unwrap_or_default();
        let span = found.map_or(fallback, |f| Span::point(f.value.start));
        let mut message = format!("missing field `{field}`");
        if !path.is_root() {
            message.push_str(&format!(" in `{path}`"));
        }
        ScenarioError::at(structure, source, span, message)
    } else if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    {
        let span = found.map_or(fallback, |f| f.value);
        let message = match rest.split_once(", expected ") {
            Some((found, expected)) => invalid(&path, expected, Some(found)),
            None => format!("invalid value for {}: {rest}", describe(&path)),
        };
        ScenarioError::at(structure, source, span, message)
    } else {
        let span = found.map_or(fallback, |f| f.value);
        let message = if path.is_root() {
            message.to_owned()
        } else {
            format!("{message} in `{path}`")
        };
        ScenarioError::at(structure, source, span, message).with_hint_opt(
            names
                .first()
                .and_then(|n| did_you_mean(n, names.iter().skip(1).copied())),
        )
    })
}

/// The `quoted` names in a serde message, in order.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn yaml(text: &str) -> Result<LoadedScenario, ScenarioError> {
        parse_source(SourceFile::new("t.yaml", text), Format::Yaml)
    }

    fn json(text: &str) -> Result<LoadedScenario, ScenarioError> {
        parse_source(SourceFile::new("t.json", text), Format::Json)
    }

    const STEP: &str = "steps:\n  - name: s\n    request: {method: GET, path: /x}\n";

    #[rstest]
    #[case("a.yaml", Some(Format::Yaml))]
    #[case("a.YML", Some(Format::Yaml))]
    #[case("dir/a.json", Some(Format::Json))]
    #[case("a.toml", None)]
    #[case("yaml", None)]
    fn formats_by_extension(#[case] path: &str, #[case] format: Option<Format>) {
        assert_eq!(Format::from_path(Path::new(path)), format);
    }

    #[rstest]
    fn loads_yaml_with_step_locations() {
        let loaded = yaml(&format!("name: n\n{STEP}")).unwrap();
        assert_eq!(loaded.scenario.steps[0].name, "s");
        assert_eq!(loaded.step_location(Section::Steps, 0), (3, 5));
    }

    #[rstest]
    fn loads_json_with_step_locations() {
        let text = "{\"name\": \"n\",\n \"steps\": [\n  {\"name\": \"s\", \"request\": {\"method\": \"GET\", \"path\": \"/x\"}}]}";
        let loaded = json(text).unwrap();
        assert_eq!(loaded.step_location(Section::Steps, 0), (3, 3));
    }

    #[rstest]
    #[case::yaml_unknown_key(yaml(&format!("name: n\nnmae: x\n{STEP}")), 2, 1, 4, "unknown field `nmae`", Some("did you mean `name`?"))]
    #[case::json_unknown_key(
        json("{\"name\": \"n\", \"stepz\": []}"),
        1,
        15,
        7,
        "unknown field `stepz`",
        Some("did you mean `steps`?")
    )]
    #[case::yaml_type(yaml(&format!("name: n\n{STEP}    repeat: lots\n")), 5, 13, 4, "invalid value for `steps[0].repeat`: expected a non-negative integer, found `lots`", None)]
    #[case::json_type(
        json("{\"name\": 3}"),
        1,
        10,
        1,
        "invalid value for `name`: expected a string, found integer `3`",
        None
    )]
    #[case::yaml_missing(yaml(STEP), 1, 1, 1, "missing field `name`", None)]
    #[case::json_missing(json("{\"steps\": [{}]}"), 1, 12, 1, "missing field `name` in `steps[0]`", None)]
    #[case::yaml_variant(
        yaml("name: n\nsteps:\n  - name: s\n    request: {method: get, path: /x}\n"),
        4,
        23,
        3,
        "unknown value `get` for `steps[0].request.method`",
        Some("did you mean `GET`?")
    )]
    #[case::json_duplicate(json("{\"name\": \"n\", \"name\": \"m\"}"), 1, 15, 6, "duplicate key `name`", None)]
    #[case::yaml_tab(
        yaml("name: n\nsteps:\n  - name: s\n\trequest: {}\n"),
        4,
        1,
        1,
        "invalid YAML: while scanning a plain scalar, found a tab",
        Some("indent YAML with spaces: tabs are not allowed")
    )]
    #[case::json_syntax(json("{\"name\": \"n\",}"), 1, 14, 1, "invalid JSON: trailing comma", None)]
    fn errors_are_located(
        #[case] result: Result<LoadedScenario, ScenarioError>,
        #[case] line: u32,
        #[case] col: u32,
        #[case] len: u32,
        #[case] message: &str,
        #[case] hint: Option<&str>,
    ) {
        let err = result.unwrap_err();
        assert_eq!(
            (
                err.line,
                err.col,
                err.len.max(1),
                err.message.as_str(),
                err.hint.as_deref()
            ),
            (line, col, len, message, hint),
            "{err}"
        );
    }

    #[rstest]
    #[case(Format::Yaml, "")]
    #[case(Format::Yaml, "# only a comment\n\n---\n")]
    #[case(Format::Json, "  \n")]
    fn empty_files(#[case] format: Format, #[case] text: &str) {
        let err = parse_source(SourceFile::new("e", text), format).unwrap_err();
        assert_eq!(err.message, "file is empty");
        assert_eq!(err.line, 0);
    }

    #[rstest]
    fn missing_and_unsupported_files() {
        let err = load_file("does/not/exist.yaml").unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::Io);
        assert!(err.message.starts_with("cannot read file: no such file"), "{err}");
        let err = load_file("Cargo.toml").unwrap_err();
        assert_eq!(err.kind, ScenarioErrorKind::UnsupportedFormat);
        assert_eq!(err.message, "unsupported file extension `.toml`");
    }

    #[rstest]
    fn walks_directories_sorted_and_skips_load() {
        let dir = std::env::temp_dir().join(format!("bpharness-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/load")).unwrap();
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let good = format!("name: n\n{STEP}");
        std::fs::write(dir.join("b/z.yml"), &good).unwrap();
        std::fs::write(dir.join("a/y.yaml"), &good).unwrap();
        std::fs::write(dir.join("b/load/profile.yaml"), "not: a scenario\n").unwrap();
        std::fs::write(dir.join("b/notes.txt"), "ignored").unwrap();
        std::fs::write(dir.join("b/bad.json"), "{").unwrap();
        let (loaded, errors) = load_paths(std::slice::from_ref(&dir));
        let names: Vec<_> = loaded
            .iter()
            .map(|l| l.source.path.strip_prefix(&dir).unwrap().to_owned())
            .collect();
        assert_eq!(names, [PathBuf::from("a/y.yaml"), PathBuf::from("b/z.yml")]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].path.ends_with("b/bad.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[rstest]
    fn invalid_utf8_is_located() {
        let dir = std::env::temp_dir().join(format!("bpharness-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.yaml");
        std::fs::write(&file, b"name: a\nx: \xff\n").unwrap();
        let err = load_file(&file).unwrap_err();
        assert_eq!((err.line, err.col), (2, 4));
        assert_eq!(err.message, "file is not valid UTF-8");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
