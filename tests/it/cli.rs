//! The binary: exit codes, diagnostics on stderr, reports on disk, no token anywhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bpharness(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpharness"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    for var in [
        "BP_API_URL",
        "BP_TOKEN",
        "BP_BOT_ID",
        "BP_WORKSPACE_ID",
        "BP_OTHER_BOT_ID",
        "BP_OTHER_WORKSPACE_ID",
        "BP_OTHER_WORKSPACE_BOT_ID",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpharness-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn every_byte_under(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_green_run_exits_0_writes_every_report_and_never_the_token() {
    let reports = temp_dir("green");
    let token = "bp_pat_DISTINCTIVE_7f3a9c1e5b2d";
    let out = bpharness(
        &["run", "scenarios", "--report-dir", reports.to_str().unwrap()],
        &[("BP_TOKEN", token)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for file in ["report.json", "junit.xml", "report.html", "events.jsonl"] {
        assert!(reports.join(file).is_file(), "{file} missing");
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.ends_with(" passed, 0 failed") || l.contains(" passed, 0 failed")),
        "{stderr}"
    );
    let mut written = every_byte_under(&reports);
    written.extend(&out.stdout);
    written.extend(&out.stderr);
    assert!(!contains(&written, token), "the token was written somewhere");
}

/// A run full of failures writes curl lines and exchanges for each of them: the token and
/// the signed upload URLs the file scenarios mark secret must be masked in all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_run_never_writes_the_token_or_a_secret_capture() {
    let token = "bp_pat_FAILING_RUN_91c4e7d2";
    let config = bpharness::server::ServerConfig {
        tokens: vec![token.into()],
        faults: ["upload-size-not-checked", "text-content-type", "error-without-id"]
            .iter()
            .map(|f| f.parse().unwrap())
            .collect(),
        ..Default::default()
    };
    let server = bpharness::server::spawn_local(config).await.unwrap();
    let seeds = server.seeds().clone();
    let reports = temp_dir("failing-secrets");
    let har = reports.join("exchanges.har");
    let (url, dir, har_path) = (server.url.clone(), reports.clone(), har.clone());
    let out = tokio::task::spawn_blocking(move || {
        bpharness(
            &[
                "run",
                "scenarios",
                "--target",
                &url,
                "--bot-id",
                &seeds.bot_id,
                "--workspace-id",
                &seeds.workspace_id,
                "--other-bot-id",
                &seeds.other_bot_id,
                "--other-workspace-id",
                &seeds.other_workspace_id,
                "--other-workspace-bot-id",
                &seeds.other_workspace_bot_id,
                "--report-dir",
                dir.to_str().unwrap(),
                "--capture",
                har_path.to_str().unwrap(),
            ],
            &[("BP_TOKEN", token)],
        )
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("curl -X"), "failures come with curl lines: {stderr}");
    let mut written = every_byte_under(&reports);
    written.extend(&out.stdout);
    written.extend(&out.stderr);
    assert!(
        har.is_file() && written.len() > 100_000,
        "reports and capture were written"
    );
    assert!(!contains(&written, token), "the token was written somewhere");
    // Upload URLs carry their grant in `signature=`: a secret capture, masked wherever the
    // URL is written.
    let text = String::from_utf8_lossy(&written);
    let leaked: Vec<&str> = text
        .match_indices("signature=")
        .map(|(at, _)| &text[at..(at + 24).min(text.len())])
        .filter(|s| {
            s["signature=".len()..]
                .chars()
                .take(6)
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .collect();
    assert!(leaked.is_empty(), "signed URLs were written: {leaked:?}");
    server.stop().await;
}

#[test]
fn a_failed_check_exits_1() {
    let dir = temp_dir("failing");
    let file = dir.join("wrong.yaml");
    std::fs::write(
        &file,
        "name: wrong\nsteps:\n  - name: list\n    request: { method: GET, path: /v1/chat/users }\n    expect: { status: 201 }\n",
    )
    .unwrap();
    let out = bpharness(
        &[
            "run",
            file.to_str().unwrap(),
            "--report-dir",
            dir.join("r").to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("expected status 201, got 200"), "{stderr}");
    assert!(stderr.contains("curl -X GET"), "a curl line to reproduce: {stderr}");
}

#[test]
fn an_invalid_scenario_exits_3_with_its_location_and_sends_nothing() {
    let dir = temp_dir("invalid");
    let file = dir.join("typo.yaml");
    std::fs::write(
        &file,
        "name: typo\nsteps:\n  - name: x\n    reqest: { method: GET, path: /v1/chat/users }\n",
    )
    .unwrap();
    let out = bpharness(
        &[
            "run",
            file.to_str().unwrap(),
            "--report-dir",
            dir.join("r").to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("typo.yaml:4:5"), "{stderr}");
    assert!(stderr.contains("did you mean `request`"), "{stderr}");
    assert!(!dir.join("r").join("report.json").exists(), "no report: nothing ran");
}

#[test]
fn a_broken_schema_directory_exits_3_with_its_location_and_sends_nothing() {
    let dir = temp_dir("invalid-schemas");
    let schemas = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/schema-files/invalid/dangling_ref_file"
    );
    let out = bpharness(
        &[
            "run",
            "--schemas",
            schemas,
            "--report-dir",
            dir.join("r").to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("responses/getUser.json:5:23"), "{stderr}");
    assert!(stderr.contains("did you mean `../resources/user.json`?"), "{stderr}");
    assert!(!dir.join("r").join("report.json").exists(), "no report: nothing ran");
}

#[test]
fn an_unreachable_target_exits_4() {
    let dir = temp_dir("unreachable");
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let out = bpharness(
        &[
            "run",
            "scenarios",
            "--target",
            "http://127.0.0.1:9",
            "--token",
            "t",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("cannot reach the target"), "{stderr}");
}

#[test]
fn a_usage_error_exits_2() {
    let out = bpharness(&["run", "--jobs", "0"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = bpharness(&["serve", "--fault", "no-such-fault"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known faults"));
}

#[test]
fn the_fault_catalogue_is_listed() {
    let out = bpharness(&["serve", "--list-faults"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for fault in bpharness::server::fault::FAULTS {
        assert!(text.contains(fault.name()), "{fault} missing");
    }
}

#[test]
fn an_unknown_capability_is_a_usage_error_with_a_hint() {
    let out = bpharness(&["run", "--capability", "rankng"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown capability `rankng`") && stderr.contains("`ranking`"),
        "{stderr}"
    );
}

#[test]
fn a_run_starts_by_naming_the_target_and_its_capabilities() {
    let reports = temp_dir("capabilities");
    let out = bpharness(
        &[
            "run",
            "scenarios/contract/users.yaml",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "note: target embedded reference server (embedded reference server); capabilities: builtin-actions,"
        ),
        "{stderr}"
    );
}

/// One command line and the exit code it must end with.
struct Case {
    command: &'static str,
    args: Vec<String>,
    code: u8,
    /// Text stderr must contain.
    says: &'static str,
}

fn case(command: &'static str, args: &[&str], code: u8, says: &'static str) -> Case {
    Case {
        command,
        args: args.iter().map(|a| (*a).to_string()).collect(),
        code,
        says,
    }
}

/// Each exit code of each command, as README's table lists them (70, a bug, is proven in
/// `cli::error`'s unit tests; `selftest` cannot meet an unreachable target: its target is
/// the embedded server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_ends_with_each_of_its_exit_codes() {
    let dir = temp_dir("exit-codes");
    let d = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(
        d("wrong.yaml"),
        "name: wrong\nsteps:\n  - name: list\n    request: { method: GET, path: /v1/chat/users }\n    expect: { status: 201 }\n",
    )
    .unwrap();
    std::fs::write(
        d("typo.yaml"),
        "name: typo\nsteps:\n  - name: x\n    reqest: { method: GET, path: /v1/chat/users }\n",
    )
    .unwrap();
    std::fs::write(d("not-har.json"), "{\"log\": 3}").unwrap();
    std::fs::write(d("not-load.json"), "[]").unwrap();
    std::fs::write(d("typo-profile.yaml"), "name: x\nusrs: 3\nmix: []\n").unwrap();
    for (side, ty) in [("old", "string"), ("new", "integer")] {
        std::fs::create_dir_all(dir.join(side).join("responses")).unwrap();
        std::fs::write(
            dir.join(side).join("responses/getThing.json"),
            format!(
                "{{\"type\": \"object\", \"required\": [\"a\"], \"properties\": {{\"a\": {{\"type\": \"{ty}\"}}}}}}"
            ),
        )
        .unwrap();
    }
    let broken_schemas = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/schema-files/invalid/dangling_ref_file"
    );
    let users = "scenarios/contract/users.yaml";
    let nowhere = ["--target", "http://127.0.0.1:9", "--token", "t"];
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = held.local_addr().unwrap().to_string();
    // A server whose users lack createdAt: drift sees a required field missing.
    let config = bpharness::server::ServerConfig {
        tokens: vec!["drift-token".into()],
        faults: ["user-missing-created-at".parse().unwrap()].into_iter().collect(),
        ..Default::default()
    };
    let faulty = bpharness::server::spawn_local(config).await.unwrap();
    let seeds = faulty.seeds().clone();
    let faulty_target = [
        "--target".to_string(),
        faulty.url.clone(),
        "--bot-id".into(),
        seeds.bot_id.clone(),
        "--workspace-id".into(),
        seeds.workspace_id.clone(),
        "--other-bot-id".into(),
        seeds.other_bot_id.clone(),
        "--other-workspace-id".into(),
        seeds.other_workspace_id.clone(),
        "--other-workspace-bot-id".into(),
        seeds.other_workspace_bot_id.clone(),
    ];
    let r = |name: &str| ["--report-dir".to_string(), d(name)];
    let with = |base: &[&str], extra: &[String]| -> Vec<String> {
        base.iter()
            .map(|s| (*s).to_string())
            .chain(extra.iter().cloned())
            .collect()
    };
    let mut cases = vec![
        case("run", &[users], 0, "passed, 0 failed"),
        case("run", &[&d("wrong.yaml")], 1, "expected status 201, got 200"),
        case("run", &["--jobs", "0"], 2, "invalid value"),
        case("run", &[&d("no-such-dir")], 2, "no scenario file or directory at"),
        case("run", &[&d("typo.yaml")], 3, "typo.yaml:4:5"),
        case(
            "run",
            &["--schemas", broken_schemas, users],
            3,
            "responses/getUser.json:5:23",
        ),
        case(
            "run",
            &[&[users][..], &nowhere[..]].concat(),
            4,
            "cannot reach the target",
        ),
        case("capture", &["--out", &d("c.har"), users], 0, "captured"),
        case(
            "capture",
            &["--out", &d("x.har"), &d("no-such.yaml")],
            2,
            "no scenario file",
        ),
        case("capture", &["--out", &d("x.har"), &d("typo.yaml")], 3, "typo.yaml:4:5"),
        case(
            "capture",
            &[&["--out", &d("x.har"), users][..], &nowhere[..]].concat(),
            4,
            "cannot reach",
        ),
        case("drift", &[users], 0, "reports:"),
        case("drift", &[&d("no-such.yaml")], 2, "no scenario file"),
        case("drift", &[&d("typo.yaml")], 3, "did you mean `request`"),
        case("drift", &[&[users][..], &nowhere[..]].concat(), 4, "cannot reach"),
        case("schemas infer", &[&d("c.har"), "--out", &d("inferred")], 0, "inferred"),
        case("schemas infer", &[&d("no.har"), "--out", &d("i2")], 2, "no capture at"),
        case(
            "schemas infer",
            &[&d("not-har.json"), "--out", &d("i2")],
            3,
            "not a HAR file",
        ),
        case("schemas diff", &["schemas", "schemas"], 0, ""),
        case("schemas diff", &[&d("old"), &d("new")], 1, ""),
        case("schemas diff", &[&d("old"), &d("nope")], 2, "no schema directory at"),
        case("schemas diff", &[&d("old"), broken_schemas], 3, "getUser.json:5:23"),
        case(
            "load",
            &["--users", "1", "--duration", "1s", "--report-dir", &d("l0")],
            0,
            "reports:",
        ),
        case(
            "load",
            &[
                "--users",
                "1",
                "--duration",
                "1s",
                "--threshold",
                "p50<0ms",
                "--report-dir",
                &d("l5"),
            ],
            5,
            "",
        ),
        case("load", &["--duration", "0s"], 2, "more than 0"),
        case(
            "load",
            &["--profile", "no-such-profile"],
            2,
            "no load profile at no-such-profile",
        ),
        case("load", &["--profile", &d("typo-profile.yaml")], 3, "usrs"),
        case(
            "load",
            &[&["--duration", "1s"][..], &nowhere[..]].concat(),
            4,
            "cannot reach",
        ),
        case("report merge", &[&d("l0/load.json"), "--out", &d("m0")], 0, "reports:"),
        case("report merge", &[&d("l5/load.json"), "--out", &d("m5")], 5, ""),
        case(
            "report merge",
            &[&d("none.json"), "--out", &d("m2")],
            2,
            "no load report at",
        ),
        case(
            "report merge",
            &[&d("not-load.json"), "--out", &d("m3")],
            3,
            "not a load report",
        ),
        case("scenarios export", &[&d("suite")], 0, "wrote"),
        case("scenarios export", &[&d("suite")], 2, "--force"),
        case(
            "selftest",
            &["--fault", "user-missing-created-at", users],
            0,
            "caught 1 of 1",
        ),
        case(
            "selftest",
            &["--fault", "message-payload-string", users],
            1,
            "NOT CAUGHT",
        ),
        case(
            "selftest",
            &["--target", "http://127.0.0.1:9", "--token", "t"],
            2,
            "drop --target",
        ),
        case(
            "selftest",
            &["--schemas", broken_schemas, users],
            3,
            "getUser.json:5:23",
        ),
        case("serve", &["--list-faults"], 0, ""),
        case("serve", &["--listen", &busy], 2, "cannot listen on"),
    ];
    cases.push(Case {
        command: "drift",
        args: with(&[users], &faulty_target),
        code: 1,
        says: "",
    });
    let mut proven = std::collections::BTreeSet::new();
    for (i, c) in cases.iter().enumerate() {
        let mut args: Vec<String> = c.command.split(' ').map(String::from).collect();
        args.extend(c.args.iter().cloned());
        let needs_reports =
            ["run", "capture", "drift", "selftest"].contains(&c.command) && !args.iter().any(|a| a == "--report-dir");
        if needs_reports {
            args.extend(r(&format!("r{i}")));
        }
        let shown = args.join(" ");
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            bpharness(&args, &[("BP_TOKEN", "drift-token")])
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(i32::from(c.code)),
            "bpharness {shown}\n{stderr}"
        );
        assert!(
            stderr.contains(c.says),
            "bpharness {shown}: no {:?} in\n{stderr}",
            c.says
        );
        proven.insert((c.command, c.code));
    }
    // Every cell of README's table is proven here, and nothing beyond it happens.
    let mut listed = std::collections::BTreeSet::new();
    for row in bpharness::exit::TABLE
        .iter()
        .filter(|r| r.code != bpharness::exit::INTERNAL)
    {
        for command in bpharness::exit::commands_of(row) {
            listed.insert((command, row.code));
        }
    }
    assert_eq!(proven, listed);
    drop(held);
    faulty.stop().await;
}

/// From an empty directory, with no scenario path: the suite built into the binary.
#[test]
fn the_built_in_suite_runs_from_an_empty_directory() {
    let empty = temp_dir("empty-cwd");
    let out = Command::new(env!("CARGO_BIN_EXE_bpharness"))
        .args(["run", "--tag", "users", "--report-dir", "r"])
        .current_dir(&empty)
        .env("NO_COLOR", "1")
        .env_remove("BP_API_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("(scenarios/contract/users.yaml)"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_bpharness"))
        .args(["load", "--users", "1", "--duration", "1s", "--report-dir", "l"])
        .current_dir(&empty)
        .env_remove("BP_API_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(empty.join("l/load.json").is_file());
}
