//! `bpharness fuzz`: green on the faithful server, deterministic with a seed, and against a
//! `serve --fault` reached over `--target` it exits 1 naming the operation with a minimal
//! curl line (token masked).

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bpharness::fuzz::{FuzzPlan, Phase, fuzz};
use bpharness::server::fault::Fault;
use bpharness::server::{ServerConfig, spawn_local};

fn plan(operations: &[&str], seed: u64) -> FuzzPlan {
    FuzzPlan {
        operations: operations.iter().map(|s| (*s).to_string()).collect(),
        seed,
        max_examples: 10,
        ..FuzzPlan::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faithful_server_is_green_and_a_seed_repeats_its_cases() {
    let ops = [
        "createUser",
        "getUser",
        "listUsers",
        "createMessage",
        "setState",
        "createTable",
        "findTableRows",
    ];
    let (report, summary) = fuzz(&plan(&ops, 7), &mut [], Arc::new(AtomicBool::new(false)))
        .await
        .expect("fuzz runs");
    let failures: Vec<String> = summary
        .failures
        .iter()
        .map(|f| {
            format!(
                "{} {}: [{}] {}\n  {}",
                f.operation, f.meaning, f.check, f.message, f.curl
            )
        })
        .collect();
    assert!(failures.is_empty(), "false positives:\n{}", failures.join("\n"));
    // The sequences of the creating operations reach their get, update, list and delete too.
    assert!(summary.operations >= ops.len() as u64, "{}", summary.line());
    for op in ops {
        assert!(report.scenarios.iter().any(|s| s.name == op), "{op} has no case");
    }
    for phase in Phase::GENERATED {
        assert!(summary.phases.get(&phase).is_some_and(|c| c.cases > 0), "{phase:?}");
    }
    assert!(report.leaks.is_empty(), "{:?}", report.leaks);
    // The report is a run report: report.json keeps its schema.
    let json = serde_json::to_value(&report).unwrap();
    let validator = bpharness::contract::SchemaSet::embedded()
        .validator("report.schema.json")
        .unwrap();
    assert!(
        validator.is_valid(&json),
        "report.json breaks schemas/report.schema.json"
    );
    let (_, again) = fuzz(&plan(&ops, 7), &mut [], Arc::new(AtomicBool::new(false)))
        .await
        .unwrap();
    assert_eq!(again.phases, summary.phases, "the same seed sends the same cases");
    assert!(summary.line().starts_with("fuzz: "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_fault_fails_the_run_with_a_minimal_curl_line() {
    let server = spawn_local(ServerConfig {
        faults: BTreeSet::from([Fault::BadInput500]),
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let seeds = server.seeds().clone();
    let url = server.url.clone();
    let token = seeds.tokens[0].clone();
    let dir = std::env::temp_dir().join(format!("bpharness-fuzz-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args: Vec<String> = [
        "fuzz",
        "--target",
        &url,
        "--token",
        &token,
        "--bot-id",
        &seeds.bot_id,
        "--workspace-id",
        &seeds.workspace_id,
        "--operation",
        "createUser",
        "--phases",
        "negative",
        "--max-examples",
        "8",
        "--report-dir",
        dir.to_str().unwrap(),
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_bpharness"))
            .args(&args)
            .env("NO_COLOR", "1")
            .env_remove("BP_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("FAIL createUser (negative"), "{stderr}");
    assert!(
        stderr.contains("[negative-refused]") || stderr.contains("[no-5xx]"),
        "{stderr}"
    );
    let minimal = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("minimal: curl -X POST"))
        .unwrap_or_else(|| panic!("no minimal curl line:\n{stderr}"));
    assert!(
        minimal.contains("$BP_TOKEN") && minimal.contains("/v1/chat/users"),
        "{minimal}"
    );
    assert!(!stderr.contains(&token), "the token leaked");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("fuzz: ") && l.contains(" failures, 1 of 60 operations")),
        "{stderr}"
    );
    // The failure was saved, and the next run replays it first.
    let corpus = dir.join("fuzz-corpus");
    assert!(std::fs::read_dir(&corpus).unwrap().count() > 0);
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(!report.contains(&token), "the token leaked into report.json");
    let _ = std::fs::remove_dir_all(&dir);
}
