//! Ctrl-C on the binary, mid-run: the first SIGINT abandons the request under way, runs the
//! clean-up, keeps `events.jsonl` and writes the reports; a second one exits at once.
//! The run waits on the hostile double's `never-answers` path, with timeouts far longer
//! than any test would wait.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::double;

/// Bound of every wait; what is measured is well below it.
const PATIENCE: Duration = Duration::from_secs(20);
/// How often a condition is looked at while waiting for it.
const POLL: Duration = Duration::from_millis(10);

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpharness-interrupts-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const WAITS_FOREVER: &str = "    poll:
      request: { method: GET, path: /v1/chat/users/never-answers }
      field: $.user.id
      until: [never]
      timeout_ms: 600000
";

/// Starts `bpharness run` on `scenario` against `url`, with a 300 s request timeout.
fn start(dir: &Path, scenario: &str, url: &str) -> Child {
    let file = dir.join("scenario.yaml");
    std::fs::write(&file, scenario).unwrap();
    Command::new(env!("CARGO_BIN_EXE_bpharness"))
        .args(["run", file.to_str().unwrap(), "--target", url, "--timeout", "300"])
        .args([
            "--token",
            "bp_pat_interrupted",
            "--bot-id",
            "bot_01JDOUBLE0000000000000000000",
        ])
        .args(["--report-dir", dir.join("reports").to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

fn events(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("reports/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits, boundedly, until `events.jsonl` satisfies `done`.
async fn wait_for_events(dir: &Path, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let lines = events(dir);
        if done(&lines) {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} in events.jsonl after {PATIENCE:?}: {lines:#?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits, boundedly, for the process to exit; its status and how long that took.
async fn wait_exit(child: &mut Child, within: Duration) -> (ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("still running {within:?} after the interrupt");
        }
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_interrupt_ends_the_run_and_keeps_its_record() {
    let double = double::start().await;
    let dir = temp_dir("once");
    let mut child = start(
        &dir,
        &format!("name: waits\nsteps:\n  - name: wait forever\n{WAITS_FOREVER}"),
        &double.url,
    );
    let before = wait_for_events(&dir, "line", |lines| !lines.is_empty()).await;
    interrupt(&child);
    let (status, took) = wait_exit(&mut child, Duration::from_secs(5)).await;
    assert_eq!(
        status.code(),
        Some(1),
        "an interrupted step fails the run (took {took:?})"
    );
    let after = events(&dir);
    assert!(
        after.starts_with(&before),
        "lines were lost: {before:#?} then {after:#?}"
    );
    let last = after.last().unwrap();
    assert!(last.contains("\"run_finished\""), "{last}");
    assert!(
        after.iter().any(|l| l.contains("interrupted")),
        "the step says why it failed: {after:#?}"
    );
    for file in ["report.json", "junit.xml", "report.html"] {
        assert!(dir.join("reports").join(file).is_file(), "{file} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_interrupt_exits_at_once() {
    let double = double::start().await;
    let dir = temp_dir("twice");
    // The teardown runs after the first interrupt and waits on the server again.
    let scenario = format!(
        "name: waits twice\nsteps:\n  - name: wait forever\n{WAITS_FOREVER}teardown:\n  - name: clean up slowly\n    request: {{ method: GET, path: /v1/chat/users/never-answers }}\n"
    );
    let mut child = start(&dir, &scenario, &double.url);
    wait_for_events(&dir, "line", |lines| !lines.is_empty()).await;
    interrupt(&child);
    wait_for_events(&dir, "finished step", |lines| {
        lines.iter().any(|l| l.contains("\"step_finished\""))
    })
    .await;
    assert!(child.try_wait().unwrap().is_none(), "the clean-up is still under way");
    interrupt(&child);
    let (status, took) = wait_exit(&mut child, Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(130), "exited after {took:?}");
}
