//! Progress for a person watching: units done of the total, failures so far, time elapsed.
//! In a terminal it is a live bar (indicatif) that other lines scroll past; when stderr is
//! not a terminal, under CI (`CI` set) or with `NO_COLOR`, it is a plain line now and then,
//! which reads well in a log. [`ProgressReporter`] drives it from a run's events; `selftest`
//! drives it from its verdicts.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::event::{Reporter, RunEvent};
use super::model::Outcome;

/// Plain lines come at most this often, and once more at the end.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// Whether progress is drawn live: stderr is a terminal, `CI` and `NO_COLOR` are unset.
#[must_use]
pub fn live_progress() -> bool {
    std::env::var_os("CI").is_none() && std::env::var_os("NO_COLOR").is_none() && io::stderr().is_terminal()
}

enum Mode {
    Bar(ProgressBar),
    Plain {
        out: Box<dyn Write + Send>,
        last: Option<Instant>,
    },
}

/// Units done of a total, with the failures so far.
pub struct Progress {
    mode: Mode,
    unit: &'static str,
    total: u64,
    done: u64,
    failed: u64,
    started: Instant,
}

impl Progress {
    /// A live bar on stderr when `live`, else plain lines on stderr. `unit` names what is
    /// counted ("scenarios").
    #[must_use]
    pub fn new(unit: &'static str, live: bool) -> Self {
        if live {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {prefix} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(unit);
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::with_mode(Mode::Bar(bar), unit)
        } else {
            Progress::plain(unit, Box::new(io::stderr()))
        }
    }

    /// Plain lines into `out` (tests write into a buffer).
    #[must_use]
    pub fn plain(unit: &'static str, out: Box<dyn Write + Send>) -> Self {
        Progress::with_mode(Mode::Plain { out, last: None }, unit)
    }

    fn with_mode(mode: Mode, unit: &'static str) -> Self {
        Progress {
            mode,
            unit,
            total: 0,
            done: 0,
            failed: 0,
            started: Instant::now(),
        }
    }

    /// The total is known.
    pub fn start(&mut self, total: u64) {
        self.total = total;
        self.started = Instant::now();
        if let Mode::Bar(bar) = &self.mode {
            bar.set_length(total);
            bar.reset_elapsed();
            bar.set_message("0 failed");
        }
    }

    /// One more unit done, failed or not.
    pub fn advance(&mut self, failed: bool) {
        self.done += 1;
        if failed {
            self.failed += 1;
        }
        let line = self.line();
        let finished = self.done >= self.total;
        match &mut self.mode {
            Mode::Bar(bar) => {
                bar.set_message(format!("{} failed", self.failed));
                bar.set_position(self.done);
            }
            Mode::Plain { out, last } => {
                if finished || last.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                    *last = Some(Instant::now());
                    let _ = writeln!(out, "{line}");
                }
            }
        }
    }

    /// `progress: 3/20 scenarios, 1 failed, 2.4 s`.
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "progress: {}/{} {}, {} failed, {:.1} s",
            self.done,
            self.total,
            self.unit,
            self.failed,
            self.started.elapsed().as_secs_f64()
        )
    }

    /// Runs `f`, which writes whole lines to stderr, with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.mode {
            Mode::Bar(bar) => bar.suspend(f),
            Mode::Plain { .. } => f(),
        }
    }

    /// The bar goes away (the summary that follows says it all).
    pub fn finish(&mut self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Progress of a run: scenarios done, failed so far, elapsed; the reporter it wraps (the
/// terminal one) writes its lines with the bar out of the way.
pub struct ProgressReporter<R: Reporter> {
    inner: R,
    progress: Progress,
}

impl<R: Reporter> ProgressReporter<R> {
    pub fn new(inner: R, progress: Progress) -> Self {
        ProgressReporter { inner, progress }
    }
}

impl<R: Reporter> Reporter for ProgressReporter<R> {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::RunStarted { scenarios, .. } => {
                let written = self.progress.suspend(|| self.inner.on_event(event));
                self.progress.start(*scenarios as u64);
                written
            }
            RunEvent::ScenarioFinished { result } => {
                let written = self.progress.suspend(|| self.inner.on_event(event));
                self.progress.advance(result.outcome == Outcome::Failed);
                written
            }
            RunEvent::RunFinished { .. } => {
                self.progress.finish();
                self.inner.on_event(event)
            }
            _ => self.progress.suspend(|| self.inner.on_event(event)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_count_done_of_total_and_failures() {
        let out = Shared::default();
        let mut p = Progress::plain("scenarios", Box::new(out.clone()));
        p.start(3);
        p.advance(false);
        p.advance(true);
        p.advance(false);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The first line at once, the last at the end; in between at most every 2 s.
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("progress: 1/3 scenarios, 0 failed, "), "{text}");
        assert!(lines[1].starts_with("progress: 3/3 scenarios, 1 failed, "), "{text}");
    }
}
