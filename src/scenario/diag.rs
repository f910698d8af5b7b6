//! Scenario diagnostics: one error type for every way a scenario file can be wrong, rendered
//! like rustc and hurl (`--> file:line:col`, the source line, a caret and a one-line hint).
//!
//! Errors keep plain positions and the offending source line rather than a reference to the
//! file, so they can outlive the loaded text and be compared in golden tests.

use std::fmt;
use std::path::{Path, PathBuf};

use super::source::{SourceFile, Span};

/// Broad class of a scenario error, for callers that map errors to exit codes or counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScenarioErrorKind {
    /// The file or directory could not be read.
    Io,
    /// The file extension is not `.yaml`, `.yml` or `.json`.
    UnsupportedFormat,
    /// The text is not valid YAML or JSON (or not UTF-8, or empty).
    Syntax,
    /// The document does not fit the scenario model (unknown key, wrong type, missing field).
    Structure,
    /// A semantic check failed (step kinds, variables, regexes, JSONPaths, names).
    Check,
}

/// A problem in a scenario file, with its position when one is known.
///
/// `Display` renders the full multi-line diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Rendered(self))]
pub struct ScenarioError {
    /// What kind of problem this is.
    pub kind: ScenarioErrorKind,
    /// The file, as given by the caller.
    pub path: PathBuf,
    /// 1-based line; 0 when the error concerns the whole file.
    pub line: u32,
    /// 1-based character column; 0 when unknown.
    pub col: u32,
    /// Width of the offending token in characters; 0 when unknown (a single caret is drawn).
    pub len: u32,
    /// Lowercase description of the problem.
    pub message: String,
    /// The source line at `line`, without its line break.
    pub source_line: Option<String>,
    /// One-line suggestion, e.g. ``did you mean `expect`?``.
    pub hint: Option<String>,
}

impl ScenarioError {
    /// An error about a whole file (missing, unreadable, unsupported): no line, no caret.
    #[must_use]
    pub fn file(kind: ScenarioErrorKind, path: &Path, message: impl Into<String>) -> Self {
        ScenarioError {
            kind,
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            len: 0,
            message: message.into(),
            source_line: None,
            hint: None,
        }
    }

    /// An error pointing at `span` in `source`; the caret covers the part of the span on its
    /// first line (at least one character).
    #[must_use]
    pub fn at(kind: ScenarioErrorKind, source: &SourceFile, span: Span, message: impl Into<String>) -> Self {
        let (line, col) = source.line_col(span.start);
        let len = source.width_on_first_line(span);
        Self::at_line_col(kind, source, line, col, len, message)
    }

    /// An error at a 1-based line and character column, `len` characters wide.
    #[must_use]
    pub fn at_line_col(
        kind: ScenarioErrorKind,
        source: &SourceFile,
        line: usize,
        col: usize,
        len: usize,
        message: impl Into<String>,
    ) -> Self {
        let source_line = source.line_text(line).map(str::to_owned);
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ScenarioError {
            kind,
            path: source.path.clone(),
            line: narrow(line),
            col: narrow(col.max(1)),
            len: narrow(len),
            message: message.into(),
            source_line,
            hint: None,
        }
    }

    /// The same error with a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with a hint, when there is one.
    #[must_use]
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }
}

/// Renders a [`ScenarioError`] in the rustc/hurl layout.
struct Rendered<'a>(&'a ScenarioError);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let err = self.0;
        write!(f, "error: {}", err.message)?;
        let Some(source_line) = err.source_line.as_deref().filter(|_| err.line > 0) else {
            let pad = " ";
            write!(f, "\n{pad}--> {}", err.path.display())?;
            if err.line > 0 {
                write!(f, ":{}:{}", err.line, err.col)?;
            }
            if let Some(hint) = &err.hint {
                write!(f, "\n{pad} = hint: {hint}")?;
            }
            return Ok(());
        };
        let number = err.line.to_string();
        let pad = " ".repeat(number.len());
        write!(f, "\n{pad}--> {}:{}:{}", err.path.display(), err.line, err.col)?;
        write!(f, "\n{pad} |")?;
        write!(f, "\n{number} | {source_line}")?;
        // Keep tabs before the caret so it lines up with the source line as a terminal
        // shows it.
        let indent: String = source_line
            .chars()
            .take(usize::try_from(err.col.saturating_sub(1)).unwrap_or(usize::MAX))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = "^".repeat(usize::try_from(err.len.max(1)).unwrap_or(1));
        write!(f, "\n{pad} | {indent}{carets}")?;
        if let Some(hint) = &err.hint {
            write!(f, " {hint}")?;
        }
        Ok(())
    }
}

/// The candidate closest to `name` within edit distance 2 (an exact case-insensitive match
/// wins), as a ``did you mean `x`?`` hint.
#[must_use]
pub(crate) fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(name, candidates).map(|best| format!("did you mean `{best}`?"))
}

/// The candidate closest to `name` within edit distance 2, case-insensitive matches first.
#[must_use]
pub(crate) fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = if candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            strsim::levenshtein(name, candidate)
        };
        if distance <= 2 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// ``expected one of: `a`, `b`, `c` `` (or ``expected `a` `` for a single candidate).
#[must_use]
pub(crate) fn expected_one_of<'a, I>(candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let names: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
    match names.as_slice() {
        [] => "expected nothing here".to_owned(),
        [one] => format!("expected {one}"),
        _ => format!("expected one of: {}", names.join(", ")),
    }
}

/// A did-you-mean hint when a candidate is close, else the list of candidates.
#[must_use]
pub(crate) fn suggest<'a, I>(name: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    did_you_mean(name, candidates.clone()).unwrap_or_else(|| expected_one_of(candidates))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn source() -> SourceFile {
        let mut text = String::new();
        for _ in 0..11 {
            text.push_str("# filler\n");
        }
        text.push_str("    expct:\n");
        SourceFile::new("scenarios/contract/users.yaml", text)
    }

    #[rstest]
    fn renders_like_hurl() {
        let source = source();
        let start = source.offset(12, 5).unwrap();
        let err = ScenarioError::at(
            ScenarioErrorKind::Structure,
            &source,
            Span::new(start, start + 5),
            "unknown field `expct`",
        )
        .with_hint("did you mean `expect`?");
        let expected = "\
error: unknown field `expct`
  --> scenarios/contract/users.yaml:12:5
   |
12 |     expct:
   |     ^^^^^ did you mean `expect`?";
        assert_eq!(err.to_string(), expected);
    }

    #[rstest]
    fn renders_a_single_caret_for_unknown_width() {
        let source = SourceFile::new("a.yaml", "a:\n\tb: 1\n");
        let err = ScenarioError::at_line_col(ScenarioErrorKind::Syntax, &source, 2, 2, 0, "bad");
        assert_eq!(err.to_string(), "error: bad\n --> a.yaml:2:2\n  |\n2 | \tb: 1\n  | \t^");
    }

    #[rstest]
    fn renders_file_errors_without_caret() {
        let err = ScenarioError::file(
            ScenarioErrorKind::UnsupportedFormat,
            Path::new("x.toml"),
            "unsupported file extension `.toml`",
        )
        .with_hint("expected `.yaml`, `.yml` or `.json`");
        assert_eq!(
            err.to_string(),
            "error: unsupported file extension `.toml`\n --> x.toml\n  = hint: expected `.yaml`, `.yml` or `.json`"
        );
    }

    #[rstest]
    #[case("expct", Some("expect"))]
    #[case("expect_eror", Some("expect_error"))]
    #[case("EXPECT", Some("expect"))]
    #[case("zzz", None)]
    #[case("expect", None)]
    fn did_you_mean_picks_the_closest(#[case] name: &str, #[case] expected: Option<&str>) {
        let candidates = ["name", "expect", "expect_error", "capture"];
        assert_eq!(closest(name, candidates), expected);
    }

    #[rstest]
    fn expected_lists() {
        assert_eq!(expected_one_of(["a"]), "expected `a`");
        assert_eq!(expected_one_of(["a", "b"]), "expected one of: `a`, `b`");
        assert_eq!(suggest("b2", ["a", "b"]), "did you mean `b`?");
    }
}
