//! The charts of `load.html`, as inline SVG written here: nothing is fetched, so the page
//! works offline and from a CI artifact.
//!
//! - **Latency by percentile** (HdrHistogram's percentile plot): per operation, from its
//!   HDR histogram, with the x axis on a log scale of 1/(1−q) so 50 %, 90 %, 99 % … 99.999 %
//!   are evenly apart, and the latency thresholds drawn at their percentile.
//! - **Answers per second**, stacked by outcome: ok, 429, failed, contract failure.
//! - **p50 and p99 per second**, with the latency thresholds.
//!
//! The time charts mark the second the rate limiter first answered 429. Every chart carries
//! `data-chart` and `data-points` (what was drawn), which the page's script and the
//! headless-browser test read.

use std::fmt::Write as _;

use super::report::{LoadReport, decode_histogram};
use super::threshold::{Metric, parse_threshold};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;
/// Series colours, one per operation in turn (the last is the whole run).
const PALETTE: [&str; 8] = [
    "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#be123c", "#4d7c0f", "#475569",
];
/// The outcome stacks, bottom up: ok, 429, failed, contract failure.
const OUTCOMES: [(&str, &str); 4] = [
    ("ok", "#16a34a"),
    ("429", "#d97706"),
    ("failed", "#dc2626"),
    ("contract failure", "#7c3aed"),
];
/// The highest percentile plotted: 99.999 %.
const LAST_NINES: f64 = 5.0;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A latency threshold over the whole run or one operation: (label, percentile or None
/// for max, limit in ms).
struct LatencyLine {
    text: String,
    operation: Option<String>,
    percentile: Option<f64>,
    ms: f64,
}

fn latency_thresholds(r: &LoadReport) -> Vec<LatencyLine> {
    r.thresholds
        .iter()
        .filter_map(|t| parse_threshold(&t.threshold).ok())
        .filter_map(|t| {
            let percentile = match t.metric {
                Metric::Percentile(p) => Some(p),
                Metric::Max => None,
                _ => return None,
            };
            Some(LatencyLine {
                text: t.text.clone(),
                operation: t.operation.clone(),
                percentile,
                ms: t.limit / 1000.0,
            })
        })
        .collect()
}

/// A round step for about `n` ticks up to `max`.
fn nice_step(max: f64, n: f64) -> f64 {
    let raw = (max / n).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let residual = raw / magnitude;
    let step = if residual > 5.0 {
        10.0
    } else if residual > 2.0 {
        5.0
    } else if residual > 1.0 {
        2.0
    } else {
        1.0
    };
    step * magnitude
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The frame of a chart: the `<svg>` opening, axes, y ticks and labels.
fn frame(kind: &str, title: &str, y_label: &str, y_max: f64) -> String {
    let mut svg = format!(
        "<svg data-chart=\"{kind}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\" font-size=\"11\" font-family=\"system-ui,sans-serif\">",
        esc(title)
    );
    let bottom = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"#888\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"#888\"/>",
        WIDTH - RIGHT
    );
    let step = nice_step(y_max, 5.0);
    let mut v = 0.0;
    while v <= y_max * 1.0001 {
        let y = y_of(v, y_max);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            fmt_num(v)
        );
        v += step;
    }
    let _ = write!(
        svg,
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        (TOP + bottom) / 2.0,
        (TOP + bottom) / 2.0,
        esc(y_label)
    );
    svg
}

fn y_of(v: f64, y_max: f64) -> f64 {
    let bottom = HEIGHT - BOTTOM;
    bottom - (v / y_max).clamp(0.0, 1.05) * (bottom - TOP)
}

fn legend(entries: &[(String, &str)]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (name, colour) in entries {
        let _ = write!(out, "<span><i style=\"background:{colour}\"></i>{}</span> ", esc(name));
    }
    out.push_str("</p>");
    out
}

fn figure(kind: &str, title: &str, points: usize, svg: String, legend: String, note: &str) -> String {
    format!(
        "<figure data-chart=\"{kind}\" data-points=\"{points}\"><figcaption>{}</figcaption>{svg}</svg>{legend}<p class=\"note\">{}</p></figure>\n",
        esc(title),
        esc(note)
    )
}

/// x of percentile `q` (0–1) on the log scale of 1/(1−q), from 50 % to 99.999 %.
fn x_of_quantile(q: f64) -> f64 {
    let nines = (1.0 / (1.0 - q.min(0.999_999_9))).log10();
    let from = 2f64.log10();
    LEFT + ((nines - from) / (LAST_NINES - from)).clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
}

/// Latency by percentile, one line per operation and one for the whole run.
pub fn percentiles(r: &LoadReport) -> String {
    let title = "Latency by percentile (log scale of percentiles, ms)";
    let from = 2f64.log10();
    let samples: Vec<f64> = (0..=120)
        .map(|i| {
            let nines = from + (LAST_NINES - from) * f64::from(i) / 120.0;
            1.0 - 10f64.powf(-nines)
        })
        .collect();
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for op in r.operations.iter().chain(std::iter::once(&r.overall)) {
        let Some(h) = op.latency.as_ref().and_then(|l| decode_histogram(&l.histogram).ok()) else {
            continue;
        };
        if h.is_empty() {
            continue;
        }
        let points = samples
            .iter()
            .map(|q| (*q, h.value_at_quantile(*q) as f64 / 1000.0))
            .collect();
        lines.push((op.operation.clone(), points));
    }
    let thresholds = latency_thresholds(r);
    let data_max = lines
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, v)| *v))
        .fold(0.0, f64::max);
    let shown: Vec<&LatencyLine> = thresholds.iter().filter(|t| t.ms <= data_max * 3.0).collect();
    let y_max = shown.iter().map(|t| t.ms).fold(data_max, f64::max).max(0.01) * 1.05;
    let mut svg = frame("percentiles", title, "latency (ms)", y_max);
    for (label, q) in [
        ("50%", 0.5),
        ("90%", 0.9),
        ("99%", 0.99),
        ("99.9%", 0.999),
        ("99.99%", 0.9999),
        ("99.999%", 0.99999),
    ] {
        let x = x_of_quantile(q);
        // The last label ends at the axis' end instead of running past it.
        let anchor = if q > 0.9999 { "end" } else { "middle" };
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{label}</text>",
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM + 14.0
        );
    }
    let mut drawn = 0;
    let mut entries = Vec::new();
    for (i, (name, points)) in lines.iter().enumerate() {
        let colour = if name == "all" {
            "#111"
        } else {
            PALETTE[i % PALETTE.len()]
        };
        let path: Vec<String> = points
            .iter()
            .map(|(q, v)| format!("{:.1},{:.1}", x_of_quantile(*q), y_of(*v, y_max)))
            .collect();
        let _ = write!(
            svg,
            "<polyline data-series=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\" points=\"{}\"><title>{}</title></polyline>",
            esc(name),
            if name == "all" { 2.5 } else { 1.5 },
            path.join(" "),
            esc(name)
        );
        drawn += points.len();
        entries.push((name.clone(), colour));
    }
    for t in &shown {
        let y = y_of(t.ms, y_max);
        let (x1, label) = match t.percentile {
            Some(p) => (x_of_quantile(p / 100.0), t.text.clone()),
            None => (LEFT, t.text.clone()),
        };
        let _ = write!(
            svg,
            "<line data-threshold=\"{}\" x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#dc2626\" stroke-dasharray=\"6 4\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#dc2626\">{}</text>",
            esc(&label),
            WIDTH - RIGHT,
            WIDTH - RIGHT - 2.0,
            y - 3.0,
            esc(&label)
        );
    }
    // A threshold far above every answer would squash the lines to the floor: it is named
    // at the top edge instead, pointing up.
    for (i, t) in thresholds.iter().filter(|t| t.ms > data_max * 3.0).enumerate() {
        let _ = write!(
            svg,
            "<text data-threshold=\"{}\" data-above=\"true\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#dc2626\">\u{2191} {} ({} ms, above the chart)</text>",
            esc(&t.text),
            WIDTH - RIGHT - 2.0,
            TOP + 12.0 + 14.0 * i as f64,
            esc(&t.text),
            t.ms
        );
    }
    if drawn == 0 {
        svg.push_str("<text x=\"80\" y=\"100\">no answers</text>");
    }
    let hidden = thresholds.len() - shown.len();
    let note = if hidden > 0 {
        format!("{hidden} latency threshold(s) far above every answer are named at the top, not drawn to scale.")
    } else {
        String::new()
    };
    figure("percentiles", title, drawn, svg, legend(&entries), &note)
}

/// The x of second `s` of `n`, at the middle of its slot.
fn x_of_second(s: u64, n: u64) -> f64 {
    let slot = (WIDTH - LEFT - RIGHT) / n.max(1) as f64;
    LEFT + slot * (s as f64 + 0.5)
}

fn seconds_axis(svg: &mut String, n: u64) {
    let step = nice_step(n as f64, 8.0).max(1.0) as u64;
    let mut s = 0;
    while s < n {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{s}</text>",
            x_of_second(s, n),
            HEIGHT - BOTTOM + 14.0
        );
        s += step;
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">second of the run</text>",
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 6.0
    );
}

/// The vertical line at the first second with a 429.
fn onset(svg: &mut String, r: &LoadReport, n: u64) {
    if let Some(second) = r.rate_limit.onset_second {
        let x = x_of_second(second, n) - (WIDTH - LEFT - RIGHT) / n.max(1) as f64 / 2.0;
        let _ = write!(
            svg,
            "<line data-onset=\"{second}\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#d97706\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#b45309\">rate limiter from second {second}</text>",
            HEIGHT - BOTTOM,
            x + 4.0,
            TOP + 10.0
        );
    }
}

/// Answers per second, stacked by outcome.
pub fn outcomes(r: &LoadReport) -> String {
    let title = "Answers per second by outcome";
    let n = r.series.iter().map(|s| s.second + 1).max().unwrap_or(0);
    let y_max = r.series.iter().map(|s| s.requests).max().unwrap_or(0).max(1) as f64 * 1.05;
    let mut svg = frame("outcomes", title, "answers per second", y_max);
    let slot = (WIDTH - LEFT - RIGHT) / n.max(1) as f64;
    let bar = (slot * 0.85).max(0.5);
    let mut drawn = 0;
    for s in &r.series {
        // Failures that are neither 429s nor contract failures.
        let failed = s.failures.saturating_sub(s.rate_limited + s.contract_failures);
        let stack = [s.successes, s.rate_limited, failed, s.contract_failures];
        let mut base = 0.0;
        for ((label, colour), count) in OUTCOMES.iter().zip(stack) {
            if count == 0 {
                continue;
            }
            let top = base + count as f64;
            let (y_top, y_base) = (y_of(top, y_max), y_of(base, y_max));
            let _ = write!(
                svg,
                "<rect data-outcome=\"{label}\" x=\"{:.1}\" y=\"{y_top:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>second {}: {count} {label}</title></rect>",
                x_of_second(s.second, n) - bar / 2.0,
                (y_base - y_top).max(0.5),
                s.second
            );
            base = top;
            drawn += 1;
        }
    }
    seconds_axis(&mut svg, n);
    onset(&mut svg, r, n);
    let entries: Vec<(String, &str)> = OUTCOMES.iter().map(|(l, c)| (l.to_string(), *c)).collect();
    figure("outcomes", title, drawn, svg, legend(&entries), "")
}

/// p50 and p99 of the answers of each second.
pub fn latency_over_time(r: &LoadReport) -> String {
    let title = "p50 and p99 per second (ms)";
    let n = r.series.iter().map(|s| s.second + 1).max().unwrap_or(0);
    let ms = |v: Option<u64>| v.map(|v| v as f64 / 1000.0);
    let data_max = r.series.iter().filter_map(|s| ms(s.p99)).fold(0.0, f64::max);
    let thresholds: Vec<LatencyLine> = latency_thresholds(r)
        .into_iter()
        .filter(|t| t.operation.is_none() && t.ms <= data_max * 3.0)
        .collect();
    let y_max = thresholds.iter().map(|t| t.ms).fold(data_max, f64::max).max(0.01) * 1.05;
    let mut svg = frame("latency-over-time", title, "latency (ms)", y_max);
    let mut drawn = 0;
    for (name, colour, pick) in [
        (
            "p50",
            "#2563eb",
            (|s: &super::report::SecondReport| s.p50) as fn(&_) -> _,
        ),
        ("p99", "#dc2626", |s: &super::report::SecondReport| s.p99),
    ] {
        let points: Vec<String> = r
            .series
            .iter()
            .filter_map(|s| ms(pick(s)).map(|v| format!("{:.1},{:.1}", x_of_second(s.second, n), y_of(v, y_max))))
            .collect();
        drawn += points.len();
        let _ = write!(
            svg,
            "<polyline data-series=\"{name}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    for t in &thresholds {
        let y = y_of(t.ms, y_max);
        let _ = write!(
            svg,
            "<line data-threshold=\"{}\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#dc2626\" stroke-dasharray=\"6 4\" opacity=\"0.6\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#dc2626\">{}</text>",
            esc(&t.text),
            WIDTH - RIGHT,
            WIDTH - RIGHT - 2.0,
            y - 3.0,
            esc(&t.text)
        );
    }
    seconds_axis(&mut svg, n);
    onset(&mut svg, r, n);
    let entries = vec![("p50".to_string(), "#2563eb"), ("p99".to_string(), "#dc2626")];
    figure("latency-over-time", title, drawn, svg, legend(&entries), "")
}

/// The script of the page: counts what each chart drew, as the browser laid it out, into
/// `data-drawn` (and `data-charts-ready` on the body), for a reader and for the test.
pub const SCRIPT: &str = r#"<script>
(function () {
  var figures = document.querySelectorAll('figure[data-chart]');
  var empty = 0;
  figures.forEach(function (f) {
    var svg = f.querySelector('svg');
    var marks = svg.querySelectorAll('polyline[data-series], rect[data-outcome]');
    var drawn = 0;
    marks.forEach(function (m) {
      var box = m.getBBox();
      if (box.width > 0 || box.height > 0) { drawn += 1; }
    });
    f.setAttribute('data-drawn', String(drawn));
    if (drawn === 0) { empty += 1; }
  });
  document.body.setAttribute('data-charts', String(figures.length));
  document.body.setAttribute('data-charts-empty', String(empty));
  document.body.setAttribute('data-charts-ready', 'yes');
})();
</script>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_sit_evenly_on_the_log_axis() {
        let step = |a: f64, b: f64| x_of_quantile(b) - x_of_quantile(a);
        assert!((step(0.9, 0.99) - step(0.99, 0.999)).abs() < 0.01);
        assert!((step(0.999, 0.9999) - step(0.9999, 0.99999)).abs() < 0.01);
        assert!((x_of_quantile(0.5) - LEFT).abs() < 0.01);
        assert!((x_of_quantile(0.99999) - (WIDTH - RIGHT)).abs() < 0.01);
    }

    #[test]
    fn steps_are_round() {
        for (max, step) in [(100.0, 20.0), (7.0, 2.0), (0.3, 0.1)] {
            assert!((nice_step(max, 5.0) - step).abs() < 1e-9, "{max}");
        }
    }
}
