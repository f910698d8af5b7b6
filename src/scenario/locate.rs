//! Where each key and value of a scenario document sits in its source text.
//!
//! The serde model holds plain values (its field types are a contract), so positions are
//! kept beside it: a tree of spans built from the same text, looked up by key path
//! (`steps[2].request.path`). YAML spans come from the events of `granit-parser`, the parser
//! serde-saphyr itself runs on; JSON spans come from a small scanner here. Both stop quietly at
//! the first syntax error and keep what they saw, since a position is a nicety for a
//! diagnostic, never a reason to fail.

use std::fmt;

use serde_saphyr::granit_parser::{self, Event, StructureStyle};

use super::source::Span;

/// Deepest nesting recorded; deeper content is located at its nearest recorded ancestor.
const MAX_DEPTH: usize = 128;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path from the document root to a node, e.g. `steps[2].request.path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(pub Vec<PathSeg>);

impl KeyPath {
    /// The document root.
    #[must_use]
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path followed by a mapping key.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Key(key.to_owned()));
        KeyPath(segs)
    }

    /// This path followed by a sequence index.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Index(index));
        KeyPath(segs)
    }

    /// Whether this is the root.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(key) if i == 0 => write!(f, "{key}")?,
                PathSeg::Key(key) => write!(f, ".{key}")?,
                PathSeg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// The spans of a mapping entry's key (when the node is one) and of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The key's span, for values found in a mapping.
    pub key: Option<Span>,
    /// The value's span.
    pub value: Span,
}

impl Located {
    /// The key's span when there is one, else the value's.
    #[must_use]
    pub fn key_or_value(&self) -> Span {
        self.key.unwrap_or(self.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    span: Span,
    kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NodeKind {
    Scalar,
    Seq(Vec<Node>),
    Map(Vec<(String, Span, Node)>),
}

/// Spans of every key and value of one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations {
    root: Option<Node>,
}

impl Locations {
    /// Locations of a YAML document (the first one in the text).
    #[must_use]
    pub fn from_yaml(text: &str) -> Self {
        Locations { root: yaml_tree(text) }
    }

    /// Locations of a JSON document.
    #[must_use]
    pub fn from_json(text: &str) -> Self {
        let mut scan = JsonScan {
            text,
            pos: 0,
            failed: false,
        };
        Locations { root: scan.value(0) }
    }

    /// The key and value spans at `path`, when the path exists in the text.
    #[must_use]
    pub fn get(&self, path: &KeyPath) -> Option<Located> {
        let mut node = self.root.as_ref()?;
        let mut key = None;
        for seg in &path.0 {
            match (seg, &node.kind) {
                (PathSeg::Key(name), NodeKind::Map(entries)) => {
                    // The last duplicate wins, as for the deserializer.
                    let (_, key_span, value) = entries.iter().rev().find(|(k, _, _)| k == name)?;
                    key = Some(*key_span);
                    node = value;
                }
                (PathSeg::Index(index), NodeKind::Seq(items)) => {
                    key = None;
                    node = items.get(*index)?;
                }
                _ => return None,
            }
        }
        Some(Located { key, value: node.span })
    }

    /// The spans at `path`, or at its longest prefix found in the text (the root, or the start
    /// of the text, at worst).
    #[must_use]
    pub fn nearest(&self, path: &KeyPath) -> Located {
        let mut segs = path.0.clone();
        loop {
            if let Some(found) = self.get(&KeyPath(segs.clone())) {
                return found;
            }
            if segs.pop().is_none() {
                return Located {
                    key: None,
                    value: Span::point(0),
                };
            }
        }
    }

    /// The first key that appears twice in one mapping (in text order): its path and the span
    /// of the second occurrence.
    #[must_use]
    pub fn duplicate_key(&self) -> Option<(KeyPath, Span)> {
        fn walk(node: &Node, path: &mut Vec<PathSeg>) -> Option<(KeyPath, Span)> {
            match &node.kind {
                NodeKind::Scalar => None,
                NodeKind::Seq(items) => items.iter().enumerate().find_map(|(i, item)| {
                    path.push(PathSeg::Index(i));
                    let found = walk(item, path);
                    path.pop();
                    found
                }),
                NodeKind::Map(entries) => {
                    for (i, (key, span, _)) in entries.iter().enumerate() {
                        if entries[..i].iter().any(|(k, _, _)| k == key) {
                            let mut at = path.clone();
                            at.push(PathSeg::Key(key.clone()));
                            return Some((KeyPath(at), *span));
                        }
                    }
                    entries.iter().find_map(|(key, _, value)| {
                        path.push(PathSeg::Key(key.clone()));
                        let found = walk(value, path);
                        path.pop();
                        found
                    })
                }
            }
        }
        walk(self.root.as_ref()?, &mut Vec::new())
    }

    /// The innermost value whose span starts exactly at `offset`, with its path.
    #[must_use]
    pub fn path_at(&self, offset: usize) -> Option<KeyPath> {
        fn walk(node: &Node, offset: usize, path: &mut Vec<PathSeg>) -> bool {
            let children: Vec<(PathSeg, &Node)> = match &node.kind {
                NodeKind::Scalar => Vec::new(),
                NodeKind::Seq(items) => items.iter().enumerate().map(|(i, n)| (PathSeg::Index(i), n)).collect(),
                NodeKind::Map(entries) => entries.iter().map(|(k, _, n)| (PathSeg::Key(k.clone()), n)).collect(),
            };
            for (seg, child) in children {
                if child.span.start <= offset && offset <= child.span.end {
                    path.push(seg);
                    if walk(child, offset, path) {
                        return true;
                    }
                    path.pop();
                }
            }
            node.span.start == offset
        }
        let root = self.root.as_ref()?;
        let mut path = Vec::new();
        walk(root, offset, &mut path).then_some(KeyPath(path))
    }
}

fn byte_offset(marker: &granit_parser::Marker, text: &str) -> usize {
    marker
        .byte_offset()
        .unwrap_or_else(|| text.char_indices().nth(marker.index()).map_or(text.len(), |(i, _)| i))
}

enum Frame {
    Seq(Span, Vec<Node>, bool),
    Map(Span, Vec<(String, Span, Node)>, Option<(String, Span)>, bool),
    /// Content nested past [`MAX_DEPTH`], skipped.
    Skipped,
}

fn yaml_tree(text: &str) -> Option<Node> {
    let mut parser = granit_parser::Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    while let Some(Ok((event, span))) = parser.next_event() {
        let span_of = |s: &granit_parser::Span| Span::new(byte_offset(&s.start, text), byte_offset(&s.end, text));
        let skipping = stack.iter().any(|f| matches!(f, Frame::Skipped));
        let done = match event {
            Event::Scalar(ref value, ..) => {
                if skipping {
                    None
                } else {
                    Some((
                        Node {
                            span: span_of(&span),
                            kind: NodeKind::Scalar,
                        },
                        Some(value.to_string()),
                    ))
                }
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => (!skipping).then(|| {
                (
                    Node {
                        span: span_of(&span),
                        kind: NodeKind::Scalar,
                    },
                    None,
                )
            }),
            Event::SequenceStart(style, ..) => {
                stack.push(if skipping || stack.len() >= MAX_DEPTH {
                    Frame::Skipped
                } else {
                    Frame::Seq(span_of(&span), Vec::new(), style == StructureStyle::Flow)
                });
                None
            }
            Event::MappingStart(style, ..) => {
                stack.push(if skipping || stack.len() >= MAX_DEPTH {
                    Frame::Skipped
                } else {
                    Frame::Map(span_of(&span), Vec::new(), None, style == StructureStyle::Flow)
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(start, items, flow)) => {
                    let end = container_end(start, &span_of(&span), flow, items.last());
                    Some((
                        Node {
                            span: Span::new(start.start, end),
                            kind: NodeKind::Seq(items),
                        },
                        None,
                    ))
                }
                Some(Frame::Map(start, entries, _, flow)) => {
                    let end = container_end(start, &span_of(&span), flow, entries.last().map(|e| &e.2));
                    Some((
                        Node {
                            span: Span::new(start.start, end),
                            kind: NodeKind::Map(entries),
                        },
                        None,
                    ))
                }
                Some(Frame::Skipped) | None => None,
            },
            Event::DocumentEnd | Event::StreamEnd => break,
            _ => None,
        };
        let Some((node, scalar)) = done else {
            continue;
        };
        match stack.last_mut() {
            None => {
                root = Some(node);
                // Only the first document matters.
                break;
            }
            Some(Frame::Seq(_, items, _)) => items.push(node),
            Some(Frame::Map(_, entries, pending, _)) => match pending.take() {
                None => *pending = Some((scalar.unwrap_or_else(|| "?".to_owned()), node.span)),
                Some((key, key_span)) => entries.push((key, key_span, node)),
            },
            Some(Frame::Skipped) => {}
        }
    }
    // A syntax error leaves frames open: close them so what was seen stays reachable.
    while let Some(frame) = stack.pop() {
        let node = match frame {
            Frame::Seq(start, items, _) => {
                let end = items.last().map_or(start.end, |n| n.span.end);
                Node {
                    span: Span::new(start.start, end),
                    kind: NodeKind::Seq(items),
                }
            }
            Frame::Map(start, entries, _, _) => {
                let end = entries.last().map_or(start.end, |e| e.2.span.end);
                Node {
                    span: Span::new(start.start, end),
                    kind: NodeKind::Map(entries),
                }
            }
            Frame::Skipped => continue,
        };
        match stack.last_mut() {
            None => root = root.or(Some(node)),
            Some(Frame::Seq(_, items, _)) => items.push(node),
            Some(Frame::Map(_, entries, pending, _)) => {
                if let Some((key, key_span)) = pending.take() {
                    entries.push((key, key_span, node));
                }
            }
            Some(Frame::Skipped) => {}
        }
    }
    root
}

/// End of a collection: a flow collection ends after its closing bracket, a block one after
/// its last child (the end event of a block collection sits at the next token).
fn container_end(start: Span, end_event: &Span, flow: bool, last: Option<&Node>) -> usize {
    if flow {
        end_event.end.max(start.start)
    } else {
        last.map_or(start.end, |n| n.span.end)
    }
}

/// A forgiving JSON scanner that records spans; it stops at the first syntax error.
struct JsonScan<'a> {
    text: &'a str,
    pos: usize,
    failed: bool,
}

impl JsonScan<'_> {
    fn skip_ws(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn fail(&mut self) -> Option<Node> {
        self.failed = true;
        None
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        self.skip_ws();
        let start = self.pos;
        if depth > MAX_DEPTH {
            return self.fail();
        }
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b',') if !entries.is_empty() => {
                            self.pos += 1;
                            self.skip_ws();
                        }
                        Some(b'"') if entries.is_empty() => {}
                        _ => {
                            self.failed = true;
                            break;
                        }
                    }
                    let key_start = self.pos;
                    if self.peek() != Some(b'"') || !self.string() {
                        self.failed = true;
                        break;
                    }
                    let key_span = Span::new(key_start, self.pos);
                    let raw = &self.text[key_start..self.pos];
                    let key = serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.trim_matches('"').to_owned());
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        self.failed = true;
                        break;
                    }
                    self.pos += 1;
                    match self.value(depth + 1) {
                        Some(node) => entries.push((key, key_span, node)),
                        None => {
                            self.failed = true;
                            break;
                        }
                    }
                    if self.failed {
                        break;
                    }
                }
                Some(Node {
                    span: Span::new(start, self.pos),
                    kind: NodeKind::Map(entries),
                })
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b',') if !items.is_empty() => self.pos += 1,
                        Some(_) if items.is_empty() => {}
                        _ => {
                            self.failed = true;
                            break;
                        }
                    }
                    match self.value(depth + 1) {
                        Some(node) => items.push(node),
                        None => {
                            self.failed = true;
                            break;
                        }
                    }
                    if self.failed {
                        break;
                    }
                }
                Some(Node {
                    span: Span::new(start, self.pos),
                    kind: NodeKind::Seq(items),
                })
            }
            b'"' => {
                if !self.string() {
                    return self.fail();
                }
                Some(Node {
                    span: Span::new(start, self.pos),
                    kind: NodeKind::Scalar,
                })
            }
            _ => {
                let rest = &self.text[self.pos..];
                let len = rest
                    .find(|c: char| matches!(c, ',' | '}' | ']' | ':' | '"') || c.is_whitespace())
                    .unwrap_or(rest.len());
                if len == 0 {
                    return self.fail();
                }
                self.pos += len;
                Some(Node {
                    span: Span::new(start, self.pos),
                    kind: NodeKind::Scalar,
                })
            }
        }
    }

    /// Skip a string starting at `"`; false when it is not closed.
    fn string(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        let mut i = self.pos + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    self.pos = i + 1;
                    return true;
                }
                _ => i += 1,
            }
        }
        self.pos = bytes.len();
        false
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    const YAML: &str = "\
name: demo
steps:
  - name: first
    request: {method: GET, path: /x}
  - name: \"second\"
    capture:
      id: $.id
";

    const JSON: &str = r#"{
  "name": "demo",
  "steps": [
    {"name": "first", "request": {"method": "GET", "path": "/x"}},
    {"name": "second", "capture": {"id": "$.id"}}
  ]
}"#;

    fn path(segs: &[&str]) -> KeyPath {
        KeyPath(
            segs.iter()
                .map(|s| match s.parse() {
                    Ok(i) => PathSeg::Index(i),
                    Err(_) => PathSeg::Key((*s).to_owned()),
                })
                .collect(),
        )
    }

    fn text_at(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    #[rstest]
    #[case(YAML, &["name"], "demo", Some("name"))]
    #[case(YAML, &["steps", "1", "name"], "\"second\"", Some("name"))]
    #[case(YAML, &["steps", "0", "request", "path"], "/x", Some("path"))]
    #[case(YAML, &["steps", "1", "capture", "id"], "$.id", Some("id"))]
    #[case(YAML, &["steps", "0", "request"], "{method: GET, path: /x}", Some("request"))]
    #[case(JSON, &["name"], "\"demo\"", Some("\"name\""))]
    #[case(JSON, &["steps", "1", "capture", "id"], "\"$.id\"", Some("\"id\""))]
    #[case(JSON, &["steps", "0", "request"], r#"{"method": "GET", "path": "/x"}"#, Some("\"request\""))]
    fn finds_keys_and_values(
        #[case] text: &str,
        #[case] segs: &[&str],
        #[case] value: &str,
        #[case] key: Option<&str>,
    ) {
        let locations = if text.starts_with('{') {
            Locations::from_json(text)
        } else {
            Locations::from_yaml(text)
        };
        let found = locations.get(&path(segs)).expect("path exists");
        assert_eq!(text_at(text, found.value), value);
        assert_eq!(found.key.map(|k| text_at(text, k)), key);
    }

    #[rstest]
    fn block_items_start_at_their_first_key() {
        let locations = Locations::from_yaml(YAML);
        let step = locations.get(&path(&["steps", "1"])).unwrap();
        assert!(text_at(YAML, step.value).starts_with("name: \"second\""));
        assert!(text_at(YAML, step.value).ends_with("$.id"));
    }

    #[rstest]
    fn nearest_falls_back_to_ancestors() {
        let locations = Locations::from_yaml(YAML);
        let found = locations.nearest(&path(&["steps", "0", "request", "body", "x"]));
        assert_eq!(text_at(YAML, found.value), "{method: GET, path: /x}");
        assert_eq!(Locations::default().nearest(&path(&["a"])).value, Span::point(0));
    }

    #[rstest]
    #[case("name: a\nsteps: [1, 2\n")]
    #[case("{\"name\": \"a\", \"steps\": [1, 2")]
    #[case("{\"name\": ")]
    #[case("")]
    #[case("[[[[[[[[")]
    fn broken_documents_keep_what_was_seen(#[case] text: &str) {
        let locations = if text.starts_with(['{', '[']) {
            Locations::from_json(text)
        } else {
            Locations::from_yaml(text)
        };
        let _ = locations.nearest(&path(&["steps", "1"]));
        if text.contains("name: a") || text.contains("\"name\": \"a\"") {
            assert!(locations.get(&path(&["name"])).is_some());
        }
    }

    #[rstest]
    fn path_at_finds_values() {
        let locations = Locations::from_yaml(YAML);
        let offset = YAML.find("$.id").unwrap();
        assert_eq!(locations.path_at(offset), Some(path(&["steps", "1", "capture", "id"])));
        assert_eq!(path(&["steps", "1", "capture"]).to_string(), "steps[1].capture");
    }

    #[rstest]
    fn deep_json_is_cut_not_overflowed() {
        let text = "[".repeat(10_000);
        let _ = Locations::from_json(&text);
    }
}
