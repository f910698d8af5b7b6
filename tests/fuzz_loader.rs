//! Fuzzing the scenario loader with proptest: whatever the bytes, loading never panics, and
//! every error it returns renders with a location (`--> file:line:col`, or `--> file` for an
//! error about the whole file).
//!
//! Three generators: arbitrary bytes; the valid fixtures mutated (byte flips, truncations,
//! duplicated or swapped lines, deleted ranges, YAML fragments spliced in); and documents
//! built from the model's own keys with random values, written as YAML or JSON.
//!
//! `cargo test` runs a short pass; `PROPTEST_CASES` sets the cases of each generator
//! (`scripts/fuzz-loader.sh` runs a long one). A failing input is shrunk and its seed kept
//! in `proptest-regressions/`, which every later run replays first.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Instant;

use bpharness::scenario::{
    Format, LoadOptions, ScenarioError, ScenarioErrorKind, SourceFile, check, load_file_with, parse_source,
};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{Map, Value};

/// Cases per generator when `PROPTEST_CASES` is not set: a short pass for `cargo test`.
const DEFAULT_CASES: u32 = 700;

const VALID_DIR: &str = "tests/fixtures/scenarios/valid";

fn config(regressions: &'static str) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        // Shrinking a loader input is cheap; a few thousand steps find a small one.
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// Runs `strategy` through `property` and prints how many cases ran and how long it took.
fn fuzz<S: Strategy>(
    name: &str,
    regressions: &'static str,
    strategy: S,
    property: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(regressions));
    let started = Instant::now();
    let cases = runner.config().cases;
    if let Err(failure) = runner.run(&strategy, property) {
        panic!("{name}: {failure}");
    }
    eprintln!("{name}: {cases} cases in {:.1} s", started.elapsed().as_secs_f64());
}

fn schema_root() -> LoadOptions {
    LoadOptions::default()
}

thread_local! {
    /// One scratch directory per test thread, written over case after case.
    static SCRATCH: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

fn scratch_file(ext: &str) -> PathBuf {
    SCRATCH.with(|dir| {
        let mut dir = dir.borrow_mut();
        let dir = dir.get_or_insert_with(|| {
            let dir = std::env::temp_dir().join(format!(
                "bpharness-fuzz-loader-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            dir
        });
        dir.join(format!("case.{ext}"))
    })
}

/// The property every error must hold: it renders, names the file, and points at a line
/// and column inside the text (or at the whole file, for the few whole-file errors).
fn assert_located(err: &ScenarioError, path: &Path, text: &str) -> Result<(), TestCaseError> {
    let rendered = err.to_string();
    prop_assert!(rendered.starts_with("error: "), "{rendered}");
    let arrow = format!("--> {}", path.display());
    prop_assert!(rendered.contains(&arrow), "no `{arrow}` in:\n{rendered}");
    let whole_file = matches!(err.kind, ScenarioErrorKind::Io | ScenarioErrorKind::UnsupportedFormat)
        || (err.kind == ScenarioErrorKind::Syntax && err.message == "file is empty");
    if whole_file {
        return Ok(());
    }
    let lines = text.split('\n').count();
    prop_assert!(
        err.line >= 1 && (err.line as usize) <= lines && err.col >= 1,
        "line {} col {} is outside a text of {lines} lines:\n{rendered}",
        err.line,
        err.col
    );
    let at = format!("{}:{}:{}", path.display(), err.line, err.col);
    prop_assert!(rendered.contains(&at), "no `{at}` in:\n{rendered}");
    prop_assert!(err.source_line.is_some(), "no source line for:\n{rendered}");
    Ok(())
}

/// Loads `bytes` as a file with extension `ext` (UTF-8 check, parse, semantic checks), and
/// when they are text, parses them in the other format too.
fn load_bytes(bytes: &[u8], ext: &str) -> Result<(), TestCaseError> {
    let path = scratch_file(ext);
    std::fs::write(&path, bytes).unwrap();
    let text = String::from_utf8_lossy(bytes);
    if let Err(err) = load_file_with(&path, &schema_root()) {
        assert_located(&err, &path, &text)?;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let other = if ext == "json" { Format::Yaml } else { Format::Json };
        let name = Path::new("other");
        match parse_source(SourceFile::new(name, text), other) {
            Ok(loaded) => {
                for err in check(&loaded, &schema_root()) {
                    assert_located(&err, name, text)?;
                }
            }
            Err(err) => assert_located(&err, name, text)?,
        }
    }
    Ok(())
}

fn extension() -> impl Strategy<Value = &'static str> {
    select(&["yaml", "yml", "json"][..])
}

// Generator 1: arbitrary bytes, and arbitrary text.

#[test]
fn arbitrary_bytes_never_panic() {
    let strategy = (
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..1024),
            ".{0,400}".prop_map(String::into_bytes),
        ],
        extension(),
    );
    fuzz(
        "arbitrary bytes",
        "proptest-regressions/fuzz_loader-bytes.txt",
        strategy,
        |(bytes, ext)| load_bytes(&bytes, ext),
    );
}

// Generator 2: the valid fixtures, mutated.

static FIXTURES: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(VALID_DIR))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let ext = path.extension().unwrap().to_string_lossy().into_owned();
            (ext, std::fs::read(&path).unwrap())
        })
        .collect()
});

/// Pieces of YAML and JSON syntax, templates and scenario words that make parsers and
/// checks take unusual paths.
const FRAGMENTS: &[&str] = &[
    "\n  - name: x\n",
    "\n    request: {method: GET, path: /x}\n",
    "{{",
    "}}",
    "{{ i }}",
    "{{last_user}}",
    "{{ nope }}",
    "&anchor ",
    "*anchor",
    "<<: *anchor\n",
    "!!binary ",
    "!tag ",
    "? ",
    "- ",
    ": ",
    "|\n",
    ">-\n",
    "\t",
    "'",
    "\"",
    "#",
    "---\n",
    "...\n",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\u{feff}",
    "%YAML 1.2\n",
    "\r\n",
    "\r",
    "é",
    "🦀",
    "\u{0}",
    "\\u0000",
    "$..[?(@.a)]",
    "$.[",
    "header:",
    "status",
    "(?P<",
    "[a-",
    "\\",
    "null",
    "~",
    "1e999",
    "-0",
    "0x1F",
    "99999999999999999999999",
    "repeat: 4294967296\n",
    "capture_all:\n  x: $.a\n",
    "expect_error: {status: 404, type: Nope}\n",
    "poll:\n  request: {method: GET, path: /x}\n  field: $.a\n  until: []\n",
    "paginate: {request: {method: GET, path: /x}, items: users}\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Truncate(Index),
    Delete(Index, usize),
    DuplicateLine(Index, Index),
    SwapLines(Index, Index),
    Splice(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragment = prop_oneof![
        4 => select(FRAGMENTS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ];
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::DuplicateLine(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), fragment).prop_map(|(at, s)| Mutation::Splice(at, s)),
    ]
}

/// Line ranges of `bytes`, line breaks included.
fn lines(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push(start..bytes.len());
    }
    out
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::Flip(at, bit) if len > 0 => bytes[at.index(len)] ^= 1 << bit,
        Mutation::Truncate(at) => bytes.truncate(at.index(len + 1)),
        Mutation::Delete(at, n) if len > 0 => {
            let start = at.index(len);
            bytes.drain(start..(start + n).min(len));
        }
        Mutation::DuplicateLine(line, to) => {
            let ranges = lines(bytes);
            if !ranges.is_empty() {
                let copy = bytes[ranges[line.index(ranges.len())].clone()].to_vec();
                let at = ranges[to.index(ranges.len())].start;
                bytes.splice(at..at, copy);
            }
        }
        Mutation::SwapLines(a, b) => {
            let ranges = lines(bytes);
            if ranges.len() > 1 {
                let (a, b) = (
                    ranges[a.index(ranges.len())].clone(),
                    ranges[b.index(ranges.len())].clone(),
                );
                let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
                if first.end <= second.start {
                    let mut out = bytes[..first.start].to_vec();
                    out.extend_from_slice(&bytes[second.clone()]);
                    out.extend_from_slice(&bytes[first.end..second.start]);
                    out.extend_from_slice(&bytes[first]);
                    out.extend_from_slice(&bytes[second.end..]);
                    *bytes = out;
                }
            }
        }
        Mutation::Splice(at, fragment) => {
            let at = at.index(len + 1);
            bytes.splice(at..at, fragment.bytes());
        }
        _ => {}
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    assert!(!FIXTURES.is_empty(), "no fixture in {VALID_DIR}");
    let strategy = (any::<Index>(), proptest::collection::vec(mutation(), 1..6));
    fuzz(
        "mutated fixtures",
        "proptest-regressions/fuzz_loader-mutated.txt",
        strategy,
        |(which, mutations)| {
            let (ext, original) = &FIXTURES[which.index(FIXTURES.len())];
            let mut bytes = original.clone();
            for m in &mutations {
                apply(&mut bytes, m);
            }
            load_bytes(&bytes, ext)
        },
    );
}

// Generator 3: documents built from the model's keys, with plausible or random values.

/// Words the loader and its checks give meaning to.
const WORDS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "get",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "exists",
    "contains",
    "matches",
    "count",
    "type",
    "string",
    "object",
    "status",
    "header:x-user-key",
    "header:",
    "$.user.id",
    "$.users[*].id",
    "$..id",
    "$[",
    "$.a[?(@.b == 1)]",
    "users",
    "createUser",
    "listUsers",
    "noSuchOperation",
    "ResourceNotFound",
    "InvalidPayload",
    "NotAType",
    "meta_next_token",
    "next_token",
    "offset",
    "asc",
    "desc",
    "createdAt",
    "/v1/chat/users",
    "/v1/chat/users/{{user}}",
    "/v1/chat/users/{{ i }}",
    "{{run_id}}",
    "{{bot_id}}",
    "{{other_workspace_bot_id}}",
    "{{undefined}}",
    "{{",
    "}}",
    "{{}}",
    "{{ a.b }}",
    "^\\d{4}-",
    "(",
    "[z-a]",
    "application/json",
    "text/plain",
    "",
    " ",
    "\n",
    "é🦀",
];

fn word() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(WORDS).prop_map(|w| Value::String(w.to_owned())),
        1 => "[a-z_{}$.@* ]{0,16}".prop_map(Value::String),
        1 => ".{0,16}".prop_map(Value::String),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0u64..1000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        word(),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn anything() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

type Field = BoxedStrategy<Option<(String, Value)>>;

/// A key that is mostly absent or plausible, sometimes of a random type.
fn field(name: &'static str, plausible: BoxedStrategy<Value>) -> Field {
    prop_oneof![
        2 => Just(None),
        6 => plausible.prop_map(move |v| Some((name.to_owned(), v))),
        1 => anything().prop_map(move |v| Some((name.to_owned(), v))),
    ]
    .boxed()
}

/// A key that is nearly always there (the required ones).
fn required(name: &'static str, plausible: BoxedStrategy<Value>) -> Field {
    prop_oneof![
        1 => Just(None),
        12 => plausible.prop_map(move |v| Some((name.to_owned(), v))),
        1 => anything().prop_map(move |v| Some((name.to_owned(), v))),
    ]
    .boxed()
}

/// An object of `fields`, now and then with a key the model does not know.
fn object(fields: Vec<Field>) -> BoxedStrategy<Value> {
    let stray = prop_oneof![
        8 => Just(None),
        1 => ("[a-z_]{1,10}", anything()).prop_map(Some),
    ];
    (fields, stray)
        .prop_map(|(fields, stray)| {
            let mut map = Map::new();
            for (k, v) in fields.into_iter().flatten().chain(stray) {
                map.insert(k, v);
            }
            Value::Object(map)
        })
        .boxed()
}

fn list_of(item: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    proptest::collection::vec(item, 0..max).prop_map(Value::Array).boxed()
}

fn map_of(value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    proptest::collection::btree_map(
        prop_oneof!["[a-z_]{1,8}", select(WORDS).prop_map(str::to_owned)],
        value,
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
    .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        (0u64..600).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        word()
    ]
    .boxed()
}

fn request() -> BoxedStrategy<Value> {
    object(vec![
        required("method", word()),
        required("path", word()),
        field("query", map_of(anything())),
        field("headers", map_of(prop_oneof![word(), Just(Value::Null)].boxed())),
        field("body", anything()),
        field("raw_body", word()),
        field("content_type", word()),
        field("operation", word()),
    ])
}

fn assertion() -> BoxedStrategy<Value> {
    object(vec![
        field("path", word()),
        field("header", word()),
        required("op", word()),
        field("value", anything()),
    ])
}

fn step() -> BoxedStrategy<Value> {
    object(vec![
        required("name", word()),
        field("request", request()),
        field(
            "paginate",
            object(vec![
                required("request", request()),
                required("items", word()),
                field("style", word()),
                field("max_pages", number()),
                field("page_limit", number()),
                field(
                    "order",
                    object(vec![required("field", word()), required("direction", word())]),
                ),
                field("id_field", word()),
                field("expect_ids", anything()),
                field("absent_ids", anything()),
                field("min_pages", number()),
                field("min_items", number()),
                field("schema", word()),
            ]),
        ),
        field(
            "poll",
            object(vec![
                required("request", request()),
                required("field", word()),
                required("until", list_of(word(), 4)),
                field("interval_ms", number()),
                field("timeout_ms", number()),
                field("transitions", map_of(list_of(word(), 3))),
                field("initial", list_of(word(), 3)),
                field("terminal", list_of(word(), 3)),
                field("schema", word()),
            ]),
        ),
        field("repeat", number()),
        field(
            "expect",
            object(vec![
                field("status", number()),
                field("schema", word()),
                field("assert", list_of(assertion(), 4)),
            ]),
        ),
        field(
            "expect_error",
            object(vec![
                required("status", number()),
                required("type", word()),
                field("message_contains", word()),
            ]),
        ),
        field("capture", map_of(word())),
        field("capture_all", map_of(word())),
        field("secret", list_of(word(), 3)),
    ])
}

fn scenario() -> BoxedStrategy<Value> {
    object(vec![
        required("name", word()),
        field("description", word()),
        field("tags", list_of(word(), 3)),
        field("vars", map_of(anything())),
        field("setup", list_of(step(), 3)),
        required("steps", list_of(step(), 5)),
        field("teardown", list_of(step(), 2)),
    ])
}

#[test]
fn structured_documents_never_panic() {
    let strategy = (scenario(), any::<bool>());
    fuzz(
        "structured documents",
        "proptest-regressions/fuzz_loader-structured.txt",
        strategy,
        |(document, as_yaml)| {
            let (text, ext) = if as_yaml {
                match serde_saphyr::to_string(&document) {
                    Ok(text) => (text, "yaml"),
                    // Not every value has a YAML rendering (the writer's limits, not ours).
                    Err(_) => return Ok(()),
                }
            } else {
                (serde_json::to_string_pretty(&document).unwrap(), "json")
            };
            load_bytes(text.as_bytes(), ext)
        },
    );
}
