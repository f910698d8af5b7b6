//! Scenario source text and positions in it.
//!
//! Positions are kept as byte offsets ([`Span`]) and turned into 1-based line and column
//! numbers only for display. Columns count characters, not bytes, so a caret lines up under
//! non-ASCII text the way an editor shows it.

use std::ops::Range;
use std::path::PathBuf;

/// A scenario file's path (as given, for display) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as given by the caller; shown in diagnostics.
    pub path: PathBuf,
    /// The whole file.
    pub text: String,
}

/// A half-open byte range `start..end` in a [`SourceFile`]'s text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (swapped if given in the wrong order).
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start.min(end),
            end: start.max(end),
        }
    }

    /// An empty span at `offset`.
    #[must_use]
    pub fn point(offset: usize) -> Self {
        Span {
            start: offset,
            end: offset,
        }
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no byte.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The span as a range.
    #[must_use]
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether `offset` lies in the span (an empty span contains its own start).
    #[must_use]
    pub fn contains(&self, offset: usize) -> bool {
        (self.start <= offset && offset < self.end) || (self.is_empty() && offset == self.start)
    }
}

impl From<Range<usize>> for Span {
    fn from(range: Range<usize>) -> Self {
        Span::new(range.start, range.end)
    }
}

impl SourceFile {
    /// A source file from its path and text.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Clamp `offset` into the text, on a character boundary.
    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// Byte offset where the line holding `offset` starts.
    fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map_or(0, |i| i + 1)
    }

    /// 1-based line and character column of a byte offset (clamped into the text).
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        let col = self.text[self.line_start(offset)..offset].chars().count() + 1;
        (line, col)
    }

    /// Byte offset of a 1-based line and character column; a column past the end of the line
    /// gives the end of the line. `None` when the line does not exist.
    #[must_use]
    pub fn offset(&self, line: usize, col: usize) -> Option<usize> {
        let start = self.line_range(line)?.start;
        let text = self.line_text(line)?;
        let within = text
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(text.len(), |(i, _)| i);
        Some(start + within)
    }

    /// Our line and column of a position given as YAML counts lines: YAML ends a line at a
    /// lone `\r` as well as at `\n` (and `\r\n`), while these lines end at `\n` only, as
    /// JSON's and editors' do. The same position unless the text holds a lone `\r`.
    #[must_use]
    pub fn line_col_of_yaml(&self, line: usize, col: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let lone_cr = bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if !lone_cr {
            return (line, col);
        }
        let is_break = |c: char| c == '\r' || c == '\n';
        let mut start = 0;
        for _ in 1..line {
            let Some(at) = self.text[start..].find(is_break) else {
                return self.line_col(self.text.len());
            };
            let at = start + at;
            start = if self.text[at..].starts_with("\r\n") {
                at + 2
            } else {
                at + 1
            };
        }
        let rest = &self.text[start..];
        let end = rest.find(is_break).unwrap_or(rest.len());
        let within = rest[..end]
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(end, |(i, _)| i);
        self.line_col(start + within)
    }

    /// Byte range of a 1-based line, without its line break.
    fn line_range(&self, line: usize) -> Option<Range<usize>> {
        if line == 0 {
            return None;
        }
        let mut start = 0;
        for _ in 1..line {
            start += self.text[start..].find('\n')? + 1;
        }
        let end = self.text[start..].find('\n').map_or(self.text.len(), |i| start + i);
        let end = if self.text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        Some(start..end)
    }

    /// Text of a 1-based line, without its line break.
    #[must_use]
    pub fn line_text(&self, line: usize) -> Option<&str> {
        self.line_range(line).map(|range| &self.text[range])
    }

    /// Text covered by a span (clamped into the text).
    #[must_use]
    pub fn slice(&self, span: Span) -> &str {
        let start = self.clamp(span.start);
        let end = self.clamp(span.end).max(start);
        &self.text[start..end]
    }

    /// Number of characters of `span` that lie on the line where it starts.
    #[must_use]
    pub fn width_on_first_line(&self, span: Span) -> usize {
        let text = self.slice(span);
        let first = text.split('\n').next().unwrap_or_default();
        first.trim_end_matches('\r').chars().count()
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn file() -> SourceFile {
        SourceFile::new("a.yaml", "name: héllo\r\nsteps:\n  - x: 1\n")
    }

    #[rstest]
    #[case(0, (1, 1))]
    #[case(6, (1, 7))]
    #[case(9, (1, 9))] // after the two-byte "é"
    #[case(14, (2, 1))]
    #[case(23, (3, 3))]
    #[case(10_000, (4, 1))]
    fn line_col_of_offsets(#[case] offset: usize, #[case] expected: (usize, usize)) {
        assert_eq!(file().line_col(offset), expected);
    }

    #[rstest]
    #[case(1, 1, Some(0))]
    #[case(1, 9, Some(9))]
    #[case(2, 1, Some(14))]
    #[case(3, 3, Some(23))]
    #[case(3, 99, Some(29))]
    #[case(0, 1, None)]
    #[case(9, 1, None)]
    fn offsets_of_line_cols(#[case] line: usize, #[case] col: usize, #[case] expected: Option<usize>) {
        assert_eq!(file().offset(line, col), expected);
    }

    #[rstest]
    fn line_text_strips_line_breaks() {
        let file = file();
        assert_eq!(file.line_text(1), Some("name: héllo"));
        assert_eq!(file.line_text(2), Some("steps:"));
        assert_eq!(file.line_text(4), Some(""));
        assert_eq!(file.line_text(5), None);
    }

    #[rstest]
    #[case("a: 1\n", 1, 3, (1, 3))]
    #[case("a\rb: c\r\nd", 2, 2, (1, 4))]
    #[case("a\rb: c\r\nd", 3, 1, (2, 1))]
    #[case("\r!", 2, 2, (1, 3))]
    #[case("\r!", 9, 1, (1, 3))]
    fn yaml_positions_with_lone_carriage_returns(
        #[case] text: &str,
        #[case] line: usize,
        #[case] col: usize,
        #[case] expected: (usize, usize),
    ) {
        assert_eq!(SourceFile::new("a.yaml", text).line_col_of_yaml(line, col), expected);
    }

    #[rstest]
    fn slices_and_widths() {
        let file = file();
        assert_eq!(file.slice(Span::new(6, 12)), "héllo");
        assert_eq!(file.width_on_first_line(Span::new(6, 20)), 5);
        assert_eq!(file.slice(Span::new(8, 9)), "é"); // clamped to a char boundary
        assert!(Span::point(3).contains(3));
        assert!(!Span::new(3, 5).contains(5));
    }
}
