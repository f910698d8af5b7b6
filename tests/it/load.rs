//! Tiny load runs against the embedded server (a few users, a request bound or a second or
//! two): the counts add up, the report validates against its schema, the rate-limit
//! analysis sees 429s and the faults that break them, thresholds decide the exit code, and
//! segments merge exactly. Counts and structure only: no latency is asserted.

use std::path::PathBuf;
use std::process::{Command, Output};

use bpharness::cli::{Cli, Command as Sub};
use bpharness::load::{LoadReport, decode_histogram, merge, run_load};
use clap::Parser;
use serde_json::Value;

/// Goose's killswitch is one per process: one goose run at a time in this binary.
static GOOSE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SCHEMA: &str = include_str!("../../schemas/load-report.schema.json");

async fn load(args: &[&str]) -> LoadReport {
    let _one_at_a_time = GOOSE.lock().await;
    let mut argv = vec!["bpharness", "load"];
    argv.extend_from_slice(args);
    let Sub::Load(args) = Cli::parse_from(argv).command else {
        unreachable!("a load command line")
    };
    let plan = args.plan().map_err(|e| e.render()).expect("a valid plan");
    run_load(&plan, None).await.expect("the load runs")
}

fn schema_errors(report: &LoadReport) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let mut out = Vec::new();
    bpharness::load::write_json(&mut out, report).unwrap();
    let value: Value = serde_json::from_slice(&out).unwrap();
    validator
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_counts_add_up(r: &LoadReport) {
    for op in r.operations.iter().chain([&r.overall]) {
        assert_eq!(op.successes + op.failures, op.requests, "{}", op.operation);
        assert!(
            op.rate_limited <= op.failures && op.contract_failures <= op.failures,
            "{}",
            op.operation
        );
        let by_status: u64 = op.statuses.values().sum();
        assert!(by_status <= op.failures, "{}", op.operation);
        if let Some(l) = &op.latency {
            assert_eq!(l.count, op.requests, "{}", op.operation);
            assert_eq!(decode_histogram(&l.histogram).unwrap().len(), op.requests);
        }
    }
    let sum = |f: fn(&bpharness::load::OpReport) -> u64| r.operations.iter().map(f).sum::<u64>();
    assert_eq!(sum(|o| o.requests), r.overall.requests);
    assert_eq!(sum(|o| o.successes), r.overall.successes);
    assert_eq!(sum(|o| o.failures), r.overall.failures);
    assert_eq!(sum(|o| o.contract_failures), r.overall.contract_failures);
    assert_eq!(r.series.iter().map(|s| s.requests).sum::<u64>(), r.overall.requests);
    assert_eq!(
        r.series.iter().map(|s| s.rate_limited).sum::<u64>(),
        r.overall.rate_limited
    );
}

#[tokio::test]
async fn closed_model_counts_add_up_and_the_report_validates() {
    let r = load(&["--users", "3", "--requests", "300", "--duration", "20s"]).await;
    assert_eq!(r.model.kind, "closed");
    assert_eq!(r.overall.requests, 300, "{:#?}", r.overall);
    assert_eq!(r.ended_by, "requests");
    assert_counts_add_up(&r);
    assert_eq!(r.setup.failed, 0, "{:?}", r.setup.errors);
    assert_eq!(r.overall.contract_failures, 0, "{:#?}", r.operations);
    assert!(r.operations.len() >= 3, "the default mix: {:?}", r.operations);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
    let mut html = Vec::new();
    bpharness::load::write_html(&mut html, &r).unwrap();
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<svg") && !html.contains("http://") && !html.contains("https://"));
}

/// README's first load example runs the default profile for seconds of writes, past what
/// a bounded store keeps of a bot's messages: its reads must follow records the store
/// still holds (a store of 40 messages stands in for the 20,000 of the default).
#[tokio::test]
async fn the_default_profile_reads_only_what_a_bounded_store_keeps() {
    let _one_at_a_time = GOOSE.lock().await;
    let argv = [
        "bpharness",
        "load",
        "--users",
        "4",
        "--requests",
        "1500",
        "--duration",
        "60s",
    ];
    let Sub::Load(args) = Cli::parse_from(argv).command else {
        unreachable!("a load command line")
    };
    let mut plan = args.plan().map_err(|e| e.render()).expect("a valid plan");
    plan.target.server.max_records = 40;
    let r = run_load(&plan, None).await.expect("the load runs");
    assert_eq!(r.overall.requests, 1500, "{:#?}", r.overall);
    let written = r
        .operations
        .iter()
        .find(|o| o.operation == "createMessage")
        .map(|o| o.requests);
    let read = r
        .operations
        .iter()
        .find(|o| o.operation == "getMessage")
        .map(|o| o.requests);
    assert!(
        written.unwrap_or(0) > 80 && read.unwrap_or(0) > 0,
        "{written:?} {read:?}"
    );
    assert_eq!(r.overall.failures, 0, "{:#?}", r.operations);
}

#[tokio::test]
async fn open_model_counts_add_up() {
    let r = load(&["--rate", "100/s", "--duration", "1s"]).await;
    assert_eq!(r.model.kind, "open");
    assert!(r.overall.requests > 0);
    assert_counts_add_up(&r);
    assert_eq!(r.overall.failures, 0, "{:#?}", r.overall);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
}

#[tokio::test]
async fn a_rate_limited_run_reports_429s_with_an_honest_retry_after() {
    let r = load(&[
        "--profile",
        "scenarios/load/rate-limit-probe.yaml",
        "--rate",
        "300/s",
        "--ramp",
        "0s",
        "--duration",
        "1s",
        "--server-rate-limit",
        "50/s,burst=10",
    ])
    .await;
    assert_counts_add_up(&r);
    let rl = &r.rate_limit;
    assert!(rl.responses_429 > 0, "{rl:#?}");
    assert_eq!(rl.responses_429, rl.with_retry_after);
    assert_eq!(rl.all_have_retry_after, Some(true));
    assert!(rl.onset_second.is_some() && rl.share > 0.0);
    let honesty = rl.honesty.as_ref().expect("the honesty probe ran");
    assert!(honesty.honest, "{honesty:?}");
    assert!(rl.recovery.as_ref().is_some_and(|rec| rec.tail_requests > 0));
    assert!(rl.flags.is_empty(), "{:?}", rl.flags);
    assert_eq!(r.overall.contract_failures, 0, "{:#?}", r.overall.contract);
    assert_eq!(schema_errors(&r), Vec::<String>::new());
}

#[tokio::test]
async fn the_rate_limit_no_retry_after_fault_is_flagged() {
    let r = load(&[
        "--profile",
        "scenarios/load/rate-limit-probe.yaml",
        "--rate",
        "300/s",
        "--ramp",
        "0s",
        "--duration",
        "1s",
        "--server-rate-limit",
        "50/s,burst=10",
        "--fault",
        "rate-limit-no-retry-after",
    ])
    .await;
    let rl = &r.rate_limit;
    assert!(rl.without_retry_after > 0, "{rl:#?}");
    assert_eq!(rl.all_have_retry_after, Some(false));
    assert!(rl.flags.iter().any(|f| f.contains("no Retry-After")), "{:?}", rl.flags);
    assert!(rl.honesty.as_ref().is_some_and(|h| !h.honest));
    assert!(r.overall.contract.contains_key("retry-after"));
    assert_eq!(r.outcome, "failed", "contract_failures=0 is breached");
}

#[tokio::test]
async fn a_fault_that_breaks_the_schema_shows_as_contract_failures() {
    let r = load(&[
        "--profile",
        "scenarios/load/get-user.yaml",
        "--users",
        "2",
        "--requests",
        "50",
        "--fault",
        "user-missing-created-at",
    ])
    .await;
    assert_counts_add_up(&r);
    let get_user = r
        .operations
        .iter()
        .find(|o| o.operation == "getUser")
        .expect("getUser ran");
    assert_eq!(get_user.contract_failures, get_user.requests);
    assert!(get_user.contract.contains_key("schema"), "{:#?}", get_user.contract);
    assert_eq!(get_user.errors.get("contract"), Some(&get_user.requests));
    assert_eq!(r.outcome, "failed");
}

#[tokio::test]
async fn segments_merge_exactly() {
    let args = [
        "--profile",
        "scenarios/load/get-user.yaml",
        "--users",
        "3",
        "--requests",
        "101",
    ];
    let whole = load(&args).await;
    let mut parts = Vec::new();
    for segment in ["0/2", "1/2"] {
        let mut a = args.to_vec();
        a.extend(["--segment", segment]);
        parts.push(load(&a).await);
    }
    assert_eq!(parts[0].model.users, Some(2));
    assert_eq!(parts[1].model.users, Some(1));
    assert_eq!(parts[0].overall.requests + parts[1].overall.requests, 101);
    let merged = merge(&parts).unwrap();
    assert_eq!(merged.overall.requests, whole.overall.requests);
    assert_eq!(merged.model.users, whole.model.users);
    assert_eq!(merged.segments.len(), 2);
    let count = |r: &LoadReport| {
        decode_histogram(&r.overall.latency.as_ref().unwrap().histogram)
            .unwrap()
            .len()
    };
    assert_eq!(count(&merged), count(&parts[0]) + count(&parts[1]));
    assert_eq!(count(&merged), merged.overall.requests);
    let series: u64 = merged.series.iter().map(|s| s.requests).sum();
    assert_eq!(series, 101);
    for s in &merged.series {
        assert_eq!(decode_histogram(&s.histogram).unwrap().len(), s.requests);
    }
    assert_counts_add_up(&merged);
    assert_eq!(schema_errors(&merged), Vec::<String>::new());
}

fn bpharness(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpharness"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    for var in ["BP_API_URL", "BP_TOKEN", "BP_BOT_ID", "BP_WORKSPACE_ID"] {
        cmd.env_remove(var);
    }
    cmd.output().expect("the binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpharness-load-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn thresholds_decide_the_exit_code() {
    let base = [
        "load",
        "--profile",
        "scenarios/load/get-user.yaml",
        "--users",
        "1",
        "--requests",
        "20",
    ];
    let dir = temp_dir("held");
    let mut args = base.to_vec();
    args.extend(["--threshold", "requests=20", "--report-dir", dir.to_str().unwrap()]);
    let out = bpharness(&args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("load.json").is_file() && dir.join("load.html").is_file());
    let _ = std::fs::remove_dir_all(&dir);

    let dir = temp_dir("breached");
    let mut args = base.to_vec();
    args.extend(["--threshold", "requests>20", "--report-dir", dir.to_str().unwrap()]);
    let out = bpharness(&args);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("breached"));
    let _ = std::fs::remove_dir_all(&dir);

    let out = bpharness(&["load", "--threshold", "p99<250"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a unit"));
    let out = bpharness(&["load", "--threshold", "nosuchOp:p99<1ms", "--requests", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn report_merge_writes_the_combined_report() {
    let dirs: Vec<PathBuf> = ["seg0", "seg1", "merged"].iter().map(|n| temp_dir(n)).collect();
    for (i, dir) in dirs[..2].iter().enumerate() {
        let segment = format!("{i}/2");
        let out = bpharness(&[
            "load",
            "--profile",
            "scenarios/load/get-user.yaml",
            "--users",
            "2",
            "--requests",
            "30",
            "--segment",
            &segment,
            "--report-dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let a = dirs[0].join("load.json");
    let b = dirs[1].join("load.json");
    let out = bpharness(&[
        "report",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        dirs[2].to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: LoadReport = serde_json::from_slice(&std::fs::read(dirs[2].join("load.json")).unwrap()).unwrap();
    assert_eq!(merged.overall.requests, 30);
    assert_eq!(merged.segments.len(), 2);
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn respect_retry_after_makes_users_back_off() {
    let args = [
        "--profile",
        "scenarios/load/get-user.yaml",
        "--users",
        "2",
        "--duration",
        "1500ms",
        "--server-rate-limit",
        "4/s,burst=4",
    ];
    let eager = load(&args).await;
    let mut polite_args = args.to_vec();
    polite_args.push("--respect-retry-after");
    let polite = load(&polite_args).await;
    assert!(polite.model.respect_retry_after);
    assert_counts_add_up(&eager);
    assert_counts_add_up(&polite);
    // Without backing off, users hammer the empty bucket; backing off, each user takes a
    // 429 and then waits a whole second, so in 1.5 s it gets at most two.
    assert!(eager.overall.rate_limited > 20, "{:#?}", eager.rate_limit);
    assert!(polite.overall.rate_limited <= 4, "{:#?}", polite.rate_limit);
}

/// Debian's chromium, installed by `scripts/install-chromium.sh` when missing (CI runs it
/// as root in `.ci/run`).
fn chromium() -> PathBuf {
    let find = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|p| p.is_file())
        })
    };
    if let Some(found) = find() {
        return found;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/install-chromium.sh");
    let _ = Command::new("bash").arg(&script).status();
    find().expect("chromium is needed for the load.html test: run scripts/install-chromium.sh (as root)")
}

/// The DOM of `page` after its scripts ran, from headless chromium.
fn rendered_dom(page: &std::path::Path) -> String {
    let profile = temp_dir("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium starts");
    // Bounded: a browser that hangs fails the test instead of holding it.
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut dom = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut dom).unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    dom
}

/// The value of `attribute="..."` right after `marker` in `html`.
fn attribute_after<'a>(html: &'a str, marker: &str, attribute: &str) -> Option<&'a str> {
    let at = html.find(marker)?;
    let rest = &html[at..];
    let tag_end = rest.find('>')?;
    let tag = &rest[..tag_end];
    let start = tag.find(&format!("{attribute}=\""))? + attribute.len() + 2;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

#[tokio::test]
async fn load_html_draws_every_chart_in_a_browser() {
    // A run with 429s (so the onset is marked), a latency threshold (so it is drawn) and
    // every outcome's stack.
    let r = load(&[
        "--profile",
        "scenarios/load/rate-limit-probe.yaml",
        "--rate",
        "300/s",
        "--ramp",
        "0s",
        "--duration",
        "2s",
        "--server-rate-limit",
        "50/s,burst=10",
        "--threshold",
        "p99<250ms",
    ])
    .await;
    assert!(r.rate_limit.onset_second.is_some(), "{:#?}", r.rate_limit);
    let dir = temp_dir("html");
    bpharness::load::write_load_files(&dir, &r).unwrap();
    let page = dir.join("load.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch.
    for fetch in ["src=\"http", "href=\"http", "src=\"//", "@import", "url(http"] {
        assert!(!html.contains(fetch), "load.html fetches something: {fetch}");
    }
    for chart in ["percentiles", "outcomes", "latency-over-time"] {
        let marker = format!("<figure data-chart=\"{chart}\"");
        let points: u64 = attribute_after(&html, &marker, "data-points")
            .unwrap_or_else(|| panic!("no {chart} chart"))
            .parse()
            .unwrap();
        assert!(points > 0, "{chart}: nothing to draw");
    }
    assert!(
        html.contains("data-threshold=\"p99&lt;250ms\""),
        "the threshold is drawn"
    );
    assert!(html.contains("data-onset="), "the rate limiter's onset is marked");
    assert!(html.contains("data-outcome=\"429\"") && html.contains("data-outcome=\"ok\""));

    let dom = rendered_dom(&page);
    assert_eq!(
        attribute_after(&dom, "<body", "data-charts-ready"),
        Some("yes"),
        "the page's script ran"
    );
    assert_eq!(attribute_after(&dom, "<body", "data-charts"), Some("3"));
    assert_eq!(attribute_after(&dom, "<body", "data-charts-empty"), Some("0"));
    for chart in ["percentiles", "outcomes", "latency-over-time"] {
        let drawn: u64 = attribute_after(&dom, &format!("<figure data-chart=\"{chart}\""), "data-drawn")
            .unwrap_or_else(|| panic!("{chart}: the browser did not count it"))
            .parse()
            .unwrap();
        assert!(drawn > 0, "{chart}: the browser drew nothing");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn metrics_are_scraped_while_the_load_runs() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = temp_dir("metrics");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bpharness"))
        .args([
            "load",
            "--users",
            "2",
            "--duration",
            "20s",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .arg("--report-dir")
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("BP_API_URL")
        .env_remove("BP_TOKEN")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the load ended before naming its metrics URL"
        );
        if let Some(url) = line.trim().strip_prefix("metrics: ") {
            break url.to_string();
        }
    };
    // Drain the rest of stderr so the load never blocks on a full pipe.
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_string();
    let scrape = || -> Option<String> {
        let mut s = std::net::TcpStream::connect(&addr).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
        write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let ok_count = |text: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with("bpharness_requests_total{") && l.contains("outcome=\"ok\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    // Wait on the condition (answers counted and users running), not on a fixed sleep.
    let started = std::time::Instant::now();
    let text = loop {
        if let Some(text) = scrape()
            && ok_count(&text) > 0
            && text.contains("bpharness_virtual_users 2")
        {
            break text;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "no answers counted within 15 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = drain.join();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("content-type: text/plain; version=0.0.4"), "{text}");
    for needed in [
        "# TYPE bpharness_requests_total counter",
        "# TYPE bpharness_request_duration_seconds histogram",
        "bpharness_request_duration_seconds_bucket{operation=\"getUser\",le=\"+Inf\"}",
        "bpharness_request_duration_seconds_sum{operation=\"getUser\"}",
        "bpharness_request_duration_seconds_count{operation=\"getUser\"}",
        "bpharness_requests_total{operation=\"getUser\",outcome=\"rate_limited\"}",
        "bpharness_requests_total{operation=\"getUser\",outcome=\"contract_failure\"}",
        "# TYPE bpharness_rate_limited_total counter",
        "bpharness_rate_limited_total 0",
        "# TYPE bpharness_virtual_users gauge",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in\n{text}");
    }
    // Every sample line is `name{labels} value` with a number for a value.
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    for l in body.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let value = l.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample line: {l:?}");
    }
}
