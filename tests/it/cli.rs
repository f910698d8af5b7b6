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
