//! What a file's bytes are: the content type guessed from the key, and the passages the
//! indexer cuts from text content.
//!
//! The indexer reads plain text (`text/plain`, `text/csv`), Markdown (`text/markdown`) and
//! HTML (`text/html`, tags stripped). A passage is a paragraph: text between blank lines,
//! and in Markdown also a heading, a fenced code block, a list, a quote or a table. Any
//! other content type, and bytes that are not UTF-8 text, fail indexing with a reason.
//! PDF is not parsed: real PDF text needs a decompressor and a font-encoding table.

use std::collections::HashMap;

/// Extensions the content type is guessed from (lowercase, without the dot).
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("txt", "text/plain"),
    ("text", "text/plain"),
    ("log", "text/plain"),
    ("md", "text/markdown"),
    ("markdown", "text/markdown"),
    ("html", "text/html"),
    ("htm", "text/html"),
    ("csv", "text/csv"),
    ("css", "text/css"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("svg", "image/svg+xml"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("mp4", "video/mp4"),
];

/// Content types the indexer can read.
pub const INDEXABLE: &[&str] = &["text/plain", "text/csv", "text/markdown", "text/html"];

/// The content type of a file named `key`: from its extension, else
/// `application/octet-stream`.
pub fn guess_content_type(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    let ext = ext.to_ascii_lowercase();
    CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, t)| *t)
        .unwrap_or("application/octet-stream")
}

/// One searchable piece of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub text: String,
    /// `meta.subtype`: title, subtitle, paragraph, blockquote, list, table or code.
    pub subtype: &'static str,
    /// The headings above it, outermost first.
    pub breadcrumb: Vec<String>,
    /// Term frequencies, for scoring.
    pub terms: HashMap<String, u32>,
    /// Number of terms.
    pub length: u32,
}

impl Passage {
    fn new(text: String, subtype: &'static str, breadcrumb: Vec<String>) -> Passage {
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut length = 0;
        for term in tokenize(&text) {
            *terms.entry(term).or_default() += 1;
            length += 1;
        }
        Passage {
            text,
            subtype,
            breadcrumb,
            terms,
            length,
        }
    }
}

/// Lowercased runs of letters and digits: the terms of a text or a query.
pub fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

/// The passages of a file, or why it cannot be indexed.
pub fn passages(content_type: &str, bytes: &[u8]) -> Result<Vec<Passage>, String> {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !INDEXABLE.contains(&essence.as_str()) {
        return Err(format!(
            "content type {essence:?} cannot be indexed; indexable types: {}",
            INDEXABLE.join(", ")
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "the content is binary, not UTF-8 text".to_string())?;
    if text.contains('\0') {
        return Err("the content is binary (it contains NUL bytes), not text".into());
    }
    let text = text.replace("\r\n", "\n");
    Ok(match essence.as_str() {
        "text/markdown" => markdown(&text),
        "text/html" => html(&text),
        _ => plain(&text),
    })
}

fn plain(text: &str) -> Vec<Passage> {
    paragraphs(text)
        .into_iter()
        .map(|p| Passage::new(p, "paragraph", Vec::new()))
        .collect()
}

/// Text between blank lines, trimmed.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            flush_lines(&mut current, &mut out);
        } else {
            current.push(line.trim_end());
        }
    }
    flush_lines(&mut current, &mut out);
    out
}

fn flush_lines(lines: &mut Vec<&str>, out: &mut Vec<String>) {
    if !lines.is_empty() {
        out.push(lines.join("\n").trim().to_string());
        lines.clear();
    }
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    let rest = &line[hashes..];
    ((1..=6).contains(&hashes) && (rest.is_empty() || rest.starts_with(' '))).then(|| (hashes, rest.trim()))
}

fn markdown_subtype(first_line: &str) -> &'static str {
    let line = first_line.trim_start();
    let numbered = line
        .split_once(". ")
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if line.starts_with('>') {
        "blockquote"
    } else if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") || numbered {
        "list"
    } else if line.starts_with('|') {
        "table"
    } else {
        "paragraph"
    }
}

fn markdown(text: &str) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut crumbs: Vec<(usize, String)> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let mut fence: Option<Vec<&str>> = None;
    let trail = |crumbs: &[(usize, String)]| crumbs.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>();
    let flush = |block: &mut Vec<&str>, out: &mut Vec<Passage>, crumbs: &[(usize, String)]| {
        if !block.is_empty() {
            let text = block.join("\n").trim().to_string();
            out.push(Passage::new(text, markdown_subtype(block[0]), trail(crumbs)));
            block.clear();
        }
    };
    for line in text.lines() {
        if let Some(code) = fence.as_mut() {
            if line.trim_start().starts_with("```") {
                let text = code.join("\n");
                if !text.trim().is_empty() {
                    out.push(Passage::new(text, "code", trail(&crumbs)));
                }
                fence = None;
            } else {
                code.push(line);
            }
            continue;
        }
        if line.trim_start().starts_with("```") {
            flush(&mut block, &mut out, &crumbs);
            fence = Some(Vec::new());
        } else if let Some((level, title)) = heading(line) {
            flush(&mut block, &mut out, &crumbs);
            crumbs.retain(|(l, _)| *l < level);
            if !title.is_empty() {
                let subtype = if level == 1 { "title" } else { "subtitle" };
                out.push(Passage::new(title.to_string(), subtype, trail(&crumbs)));
                crumbs.push((level, title.to_string()));
            }
        } else if line.trim().is_empty() {
            flush(&mut block, &mut out, &crumbs);
        } else {
            block.push(line.trim_end());
        }
    }
    if let Some(code) = fence {
        let text = code.join("\n");
        if !text.trim().is_empty() {
            out.push(Passage::new(text, "code", trail(&crumbs)));
        }
    }
    flush(&mut block, &mut out, &crumbs);
    out
}

/// Block elements: each starts a new passage, with this subtype.
fn block_subtype(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "h1" | "title" => "title",
        "h2" | "h3" | "h4" | "h5" | "h6" => "subtitle",
        "li" | "ul" | "ol" | "dl" | "dt" | "dd" => "list",
        "pre" => "code",
        "blockquote" => "blockquote",
        "table" | "tr" | "td" | "th" | "thead" | "tbody" => "table",
        "p" | "div" | "br" | "hr" | "section" | "article" | "header" | "footer" | "main" | "nav" | "aside" | "body"
        | "html" | "head" | "form" | "figure" | "figcaption" => "paragraph",
        _ => return None,
    })
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn html(text: &str) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut crumbs: Vec<(usize, String)> = Vec::new();
    let mut current = String::new();
    let mut subtype = "paragraph";
    let mut rest = text;
    let flush =
        |current: &mut String, subtype: &'static str, out: &mut Vec<Passage>, crumbs: &mut Vec<(usize, String)>| {
            let text = decode_entities(current)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            current.clear();
            if text.is_empty() {
                return;
            }
            let trail: Vec<String> = crumbs.iter().map(|(_, t)| t.clone()).collect();
            if matches!(subtype, "title" | "subtitle") {
                let level = if subtype == "title" { 1 } else { 2 };
                crumbs.retain(|(l, _)| *l < level);
                out.push(Passage::new(
                    text.clone(),
                    subtype,
                    crumbs.iter().map(|(_, t)| t.clone()).collect(),
                ));
                crumbs.push((level, text));
            } else {
                out.push(Passage::new(text, subtype, trail));
            }
        };
    while let Some(open) = rest.find('<') {
        current.push_str(&rest[..open]);
        rest = &rest[open..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            current.push_str(rest);
            rest = "";
            break;
        };
        let inner = &rest[1..close];
        rest = &rest[close + 1..];
        let closing = inner.starts_with('/');
        let name: String = inner
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && matches!(name.as_str(), "script" | "style") {
            let end_tag = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&end_tag) {
                Some(at) => rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..]),
                None => "",
            };
            continue;
        }
        if let Some(block) = block_subtype(&name) {
            flush(&mut current, subtype, &mut out, &mut crumbs);
            subtype = if closing { "paragraph" } else { block };
        }
    }
    current.push_str(rest);
    flush(&mut current, subtype, &mut out, &mut crumbs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(passages: &[Passage]) -> Vec<(&str, &str)> {
        passages.iter().map(|p| (p.text.as_str(), p.subtype)).collect()
    }

    #[test]
    fn content_types_come_from_the_extension() {
        assert_eq!(guess_content_type("notes/a.TXT"), "text/plain");
        assert_eq!(guess_content_type("doc.md"), "text/markdown");
        assert_eq!(guess_content_type("page.html"), "text/html");
        assert_eq!(guess_content_type("photo.jpg"), "image/jpeg");
        assert_eq!(guess_content_type("data.csv"), "text/csv");
        assert_eq!(guess_content_type("paper.pdf"), "application/pdf");
        assert_eq!(guess_content_type("README"), "application/octet-stream");
        assert_eq!(guess_content_type("a.tar.unknown"), "application/octet-stream");
        assert_eq!(guess_content_type("dir.d/file"), "application/octet-stream");
    }

    #[test]
    fn plain_text_splits_on_blank_lines() {
        let p = passages(
            "text/plain; charset=utf-8",
            b"first line\nsame para\n\n  \nsecond\r\n\r\nthird",
        )
        .unwrap();
        assert_eq!(
            texts(&p),
            [
                ("first line\nsame para", "paragraph"),
                ("second", "paragraph"),
                ("third", "paragraph")
            ]
        );
        assert_eq!(p[0].length, 4);
        assert_eq!(p[0].terms["same"], 1);
    }

    #[test]
    fn markdown_knows_headings_lists_code_and_quotes() {
        let md = "# Guide\nIntro text.\n## Setup\n- one\n- two\n\n> quoted\n\n```\ncode\n\nmore\n```\n| a | b |\n";
        let p = passages("text/markdown", md.as_bytes()).unwrap();
        assert_eq!(
            texts(&p),
            [
                ("Guide", "title"),
                ("Intro text.", "paragraph"),
                ("Setup", "subtitle"),
                ("- one\n- two", "list"),
                ("> quoted", "blockquote"),
                ("code\n\nmore", "code"),
                ("| a | b |", "table"),
            ]
        );
        assert_eq!(p[3].breadcrumb, ["Guide", "Setup"]);
        assert_eq!(p[1].breadcrumb, ["Guide"]);
    }

    #[test]
    fn html_is_stripped_of_tags_scripts_and_entities() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body><h1>Big &amp; bold</h1>\
                    <p>Hello <b>world</b>&#33;</p><script>alert(1)</script><!-- hidden --><ul><li>item</li></ul></body></html>";
        let p = passages("text/html", html.as_bytes()).unwrap();
        assert_eq!(
            texts(&p),
            [
                ("T", "title"),
                ("Big & bold", "title"),
                ("Hello world!", "paragraph"),
                ("item", "list")
            ]
        );
    }

    #[test]
    fn binary_and_unknown_types_are_refused_with_a_reason() {
        let err = passages("image/png", b"\x89PNG").unwrap_err();
        assert!(err.contains("image/png"), "{err}");
        let err = passages("text/plain", &[0xff, 0xfe, 0x00]).unwrap_err();
        assert!(err.contains("binary"), "{err}");
        let err = passages("text/plain", b"a\0b").unwrap_err();
        assert!(err.contains("binary"), "{err}");
        assert!(passages("application/pdf", b"%PDF-1.4").is_err());
        assert_eq!(passages("text/plain", b"").unwrap(), []);
    }
}
