//! The load run's outputs: the progress line and the summary on the terminal, `load.json`,
//! and `load.html` (self-contained: the table and the inline SVG charts of `charts.rs`).
//! Writers take `&mut impl Write`; `write_load_files` puts each file in place whole.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::report::{LoadReport, OpReport};
use super::run::Snapshot;

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// One progress line (stderr, once a second).
pub fn progress_line(s: &Snapshot) -> String {
    format!(
        "[{:>4.0}s] {} requests, {} req/s, {} failed, {} rate-limited",
        s.elapsed.as_secs_f64(),
        s.requests,
        s.last_second,
        s.failures,
        s.rate_limited
    )
}

fn op_row(w: &mut dyn Write, op: &OpReport) -> io::Result<()> {
    let l = op.latency.as_ref();
    let cell = |f: fn(&super::report::Latency) -> u64| l.map(|l| ms(f(l))).unwrap_or_else(|| "-".into());
    writeln!(
        w,
        "  {:<28} {:>9} {:>9} {:>8} {:>6} {:>8} {:>9.1} {:>8} {:>8} {:>8} {:>8} {:>8}",
        op.operation,
        op.requests,
        op.successes,
        op.failures,
        op.rate_limited,
        op.contract_failures,
        op.throughput,
        cell(|l| l.p50),
        cell(|l| l.p90),
        cell(|l| l.p99),
        cell(|l| l.p99_9),
        cell(|l| l.max),
    )
}

/// The summary at the end of a run.
pub fn write_summary(w: &mut impl Write, r: &LoadReport) -> io::Result<()> {
    let w: &mut dyn Write = w;
    let model = match (r.model.users, r.model.rate) {
        (Some(u), _) => format!("closed, {u} users"),
        (_, Some(rate)) => format!("open, {rate}/s"),
        _ => r.model.kind.clone(),
    };
    writeln!(
        w,
        "\nload: {} against {} ({model}), {:.1} s, ended by {}",
        r.profile, r.target, r.duration_s, r.ended_by
    )?;
    writeln!(
        w,
        "  {:<28} {:>9} {:>9} {:>8} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "operation",
        "requests",
        "ok",
        "failed",
        "429",
        "contract",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9",
        "max ms"
    )?;
    for op in &r.operations {
        op_row(w, op)?;
    }
    op_row(w, &r.overall)?;
    if !r.overall.statuses.is_empty() || !r.overall.errors.is_empty() {
        let statuses: Vec<String> = r.overall.statuses.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let errors: Vec<String> = r.overall.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        writeln!(
            w,
            "  failures by status: {}; by error: {}",
            statuses.join(", "),
            errors.join(", ")
        )?;
    }
    for op in &r.operations {
        for (check, c) in &op.contract {
            writeln!(w, "  contract: {} [{check}] x{}: {}", op.operation, c.count, c.example)?;
        }
    }
    let rl = &r.rate_limit;
    if rl.responses_429 > 0 || rl.recovery.is_some() {
        write!(w, "  rate limit: {} x 429 ({:.2}%)", rl.responses_429, rl.share)?;
        if let (Some(s), Some(rate)) = (rl.onset_second, rl.onset_rate) {
            write!(w, ", from second {s} at {rate} req/s")?;
        }
        if let Some(all) = rl.all_have_retry_after {
            write!(w, ", Retry-After on every 429: {}", if all { "yes" } else { "no" })?;
        }
        if let Some(h) = &rl.honesty {
            write!(w, ", honest: {}", if h.honest { "yes" } else { "no" })?;
        }
        if let Some(rec) = &rl.recovery {
            match rec.recovered_after_ms {
                Some(ms) => write!(w, ", recovered {ms:.0} ms into the {}/s tail", rec.tail_rate)?,
                None => write!(w, ", not recovered in the {}/s tail", rec.tail_rate)?,
            }
        }
        writeln!(w)?;
    }
    for flag in &rl.flags {
        writeln!(w, "  flag: {flag}")?;
    }
    if r.setup.failed > 0 {
        writeln!(w, "  setup: {} of {} failed", r.setup.failed, r.setup.runs)?;
        for e in &r.setup.errors {
            writeln!(w, "    {e}")?;
        }
    }
    for t in &r.thresholds {
        writeln!(w, "  threshold {}: {}", t.threshold, t.message)?;
    }
    writeln!(w, "  outcome: {}", r.outcome)
}

/// `load.json`.
pub fn write_json(w: &mut impl Write, r: &LoadReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r)?;
    w.write_all(b"\n")
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `load.html`: one self-contained page, nothing fetched.
pub fn write_html(w: &mut impl Write, r: &LoadReport) -> io::Result<()> {
    let mut rows = String::new();
    for op in r.operations.iter().chain(std::iter::once(&r.overall)) {
        let l = op.latency.as_ref();
        let cell = |f: fn(&super::report::Latency) -> u64| l.map(|l| ms(f(l))).unwrap_or_else(|| "-".into());
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&op.operation),
            op.requests,
            op.successes,
            op.failures,
            op.rate_limited,
            op.contract_failures,
            op.throughput,
            cell(|l| l.p50),
            cell(|l| l.p90),
            cell(|l| l.p99),
            cell(|l| l.p99_9),
            cell(|l| l.max)
        );
    }
    let mut notes = String::new();
    for op in &r.operations {
        for (check, c) in &op.contract {
            let _ = write!(
                notes,
                "<li>contract: {} [{}] ×{}: {}</li>",
                esc(&op.operation),
                esc(check),
                c.count,
                esc(&c.example)
            );
        }
    }
    for flag in &r.rate_limit.flags {
        let _ = write!(notes, "<li>rate limit: {}</li>", esc(flag));
    }
    for t in &r.thresholds {
        let _ = write!(notes, "<li>threshold {}: {}</li>", esc(&t.threshold), esc(&t.message));
    }
    for e in &r.setup.errors {
        let _ = write!(notes, "<li>setup: {}</li>", esc(e));
    }
    let rl = &r.rate_limit;
    let honest = rl
        .honesty
        .as_ref()
        .map(|h| if h.honest { "yes" } else { "no" })
        .unwrap_or("not tested");
    let recovered = rl
        .recovery
        .as_ref()
        .map(|rec| match rec.recovered_after_ms {
            Some(ms) => format!("{ms:.0} ms"),
            None => "not within the tail".into(),
        })
        .unwrap_or_else(|| "no tail".into());
    let percentiles = super::charts::percentiles(r);
    let outcomes = super::charts::outcomes(r);
    let over_time = super::charts::latency_over_time(r);
    let script = super::charts::SCRIPT;
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bpharness load: {profile}</title>\n<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.passed{{color:#166534}}.failed{{color:#b91c1c}}figure{{display:inline-block;margin:1em;vertical-align:top}}.legend span{{margin-right:1em}}.legend i{{display:inline-block;width:10px;height:10px;margin-right:4px}}.note{{color:#555;font-size:90%}}</style>\n</head>\n<body>\n<h1>Load: {profile} <span class=\"{outcome}\">{outcome}</span></h1>\n<p>Target {target}; {kind} model; {duration:.1} s; ended by {ended}; segments {segments}.</p>\n<table><tr><th>operation</th><th>requests</th><th>ok</th><th>failed</th><th>429</th><th>contract</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>{rows}</table>\n<h2>Latency</h2>\n{percentiles}\n<h2>Time series</h2>\n{outcomes}\n{over_time}\n<h2>Rate limit</h2>\n<p>{n429} answers 429 ({share:.2}%); Retry-After on every 429: {all}; honest: {honest}; recovery: {recovered}.</p>\n<ul>{notes}</ul>\n<footer>{tool}, load report format {version}</footer>\n{script}\n</body>\n</html>\n",
        profile = esc(&r.profile),
        outcome = esc(&r.outcome),
        target = esc(&r.target),
        kind = esc(&r.model.kind),
        duration = r.duration_s,
        ended = esc(&r.ended_by),
        segments = r.segments.len(),
        n429 = rl.responses_429,
        share = rl.share,
        all = match rl.all_have_retry_after {
            Some(true) => "yes",
            Some(false) => "no",
            None => "no 429",
        },
        tool = esc(&r.tool),
        version = r.format_version,
    )
}

/// Writes `load.json` and `load.html` into `dir`, each under a temporary name then renamed.
pub fn write_load_files(dir: &Path, r: &LoadReport) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for (name, json) in [("load.json", true), ("load.html", false)] {
        let path = dir.join(name);
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut out = BufWriter::new(File::create(&temp)?);
            if json {
                write_json(&mut out, r)?;
            } else {
                write_html(&mut out, r)?;
            }
            out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
            fs::rename(&temp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        paths.push(path);
    }
    Ok(paths)
}
