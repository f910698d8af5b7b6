//! `searchFiles`: Okapi BM25 over the passages of a bot's indexed files.
//!
//! Every passage is a document. Terms are lowercased runs of letters and digits (no
//! stemming, no stop words); a query term counts once however often it is repeated. For a
//! passage `p` of `|p|` terms, with `N` passages in the bot's indexed files, `n(t)` of
//! them holding term `t`, `f(t, p)` its count in `p` and `avgdl` the mean passage length:
//!
//! ```text
//! idf(t)      = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))
//! score(p, q) = Σ over t in q of idf(t) · f(t,p) · (k1 + 1) / (f(t,p) + k1 · (1 - b + b · |p| / avgdl))
//! k1 = 1.2, b = 0.75
//! ```
//!
//! The statistics span every indexed passage of the bot, whatever the tags filter, so a
//! passage scores the same with or without a filter. Passages scoring 0 (no query term)
//! are not returned. Ties are broken by file id, then position in the file, so the order
//! is deterministic.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::content::{Passage, tokenize};
use super::filter::TagFilter;
use super::model::FileRef;

pub const K1: f64 = 1.2;
pub const B: f64 = 0.75;

/// What a search asks for.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub query: String,
    pub tags: TagFilter,
    pub limit: usize,
    pub context_depth: usize,
    pub with_context: bool,
    pub include_breadcrumb: bool,
}

/// A file and its passages, as the search sees them.
pub struct Document<'a> {
    pub file: &'a FileRef,
    pub passages: &'a [Passage],
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassageMeta {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub subtype: &'static str,
    pub position: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContextEntry {
    pub text: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Position relative to the passage found: negative before it, positive after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// One result, as `searchFiles` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub content: String,
    pub score: f64,
    pub meta: PassageMeta,
    pub file: FileRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<ContextEntry>>,
}

/// The best passages for `q` among `documents`, best first.
pub fn search(documents: &[Document<'_>], q: &SearchQuery) -> Vec<Hit> {
    let terms: BTreeSet<String> = tokenize(&q.query).collect();
    let all = documents.iter().flat_map(|d| d.passages.iter());
    let total = all.clone().count();
    if terms.is_empty() || total == 0 {
        return Vec::new();
    }
    let avgdl = all.clone().map(|p| f64::from(p.length)).sum::<f64>() / total as f64;
    let mut df: HashMap<&str, usize> = HashMap::new();
    for p in all {
        for t in &terms {
            if p.terms.contains_key(t) {
                *df.entry(t.as_str()).or_default() += 1;
            }
        }
    }
    let idf = |t: &str| {
        let n = df.get(t).copied().unwrap_or(0) as f64;
        (1.0 + (total as f64 - n + 0.5) / (n + 0.5)).ln()
    };
    let mut scored: Vec<(f64, &Document<'_>, usize)> = Vec::new();
    for doc in documents.iter().filter(|d| q.tags.admits(&d.file.tags)) {
        for (position, p) in doc.passages.iter().enumerate() {
            let norm = K1 * (1.0 - B + B * f64::from(p.length) / avgdl.max(f64::MIN_POSITIVE));
            let score: f64 = terms
                .iter()
                .filter_map(|t| p.terms.get(t).map(|f| (t, f64::from(*f))))
                .map(|(t, f)| idf(t) * f * (K1 + 1.0) / (f + norm))
                .sum();
            if score > 0.0 {
                scored.push((score, doc, position));
            }
        }
    }
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.file.id.cmp(&b.1.file.id))
            .then_with(|| a.2.cmp(&b.2))
    });
    scored.truncate(q.limit);
    scored
        .into_iter()
        .map(|(score, doc, position)| hit(doc, position, score, q))
        .collect()
}

fn hit(doc: &Document<'_>, position: usize, score: f64, q: &SearchQuery) -> Hit {
    let passage = &doc.passages[position];
    let context = q.with_context.then(|| {
        let mut entries = Vec::new();
        if q.include_breadcrumb && !passage.breadcrumb.is_empty() {
            entries.push(ContextEntry {
                text: passage.breadcrumb.join(" > "),
                kind: "breadcrumb",
                offset: None,
            });
        }
        let first = position.saturating_sub(q.context_depth);
        let last = (position + q.context_depth).min(doc.passages.len() - 1);
        for at in first..=last {
            let kind = match at.cmp(&position) {
                std::cmp::Ordering::Less => "preceding",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "subsequent",
            };
            entries.push(ContextEntry {
                text: doc.passages[at].text.clone(),
                kind,
                offset: Some(at as i64 - position as i64),
            });
        }
        entries
    });
    Hit {
        content: passage.text.clone(),
        score,
        meta: PassageMeta {
            kind: "chunk",
            subtype: passage.subtype,
            position,
        },
        file: doc.file.clone(),
        context,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;
    use crate::server::files::content::passages;
    use crate::server::ids::Timestamp;

    fn file(id: &str, tag: &str) -> FileRef {
        FileRef {
            id: id.into(),
            key: format!("{id}.txt"),
            content_type: "text/plain".into(),
            metadata: Map::new(),
            tags: [("kind".to_string(), tag.to_string())].into(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    fn query(text: &str) -> SearchQuery {
        SearchQuery {
            query: text.into(),
            tags: TagFilter::default(),
            limit: 10,
            context_depth: 1,
            with_context: false,
            include_breadcrumb: false,
        }
    }

    #[test]
    fn bm25_matches_a_hand_computed_score() {
        let a = file("a", "x");
        let pa = passages("text/plain", b"apple banana\n\ncherry").unwrap();
        let docs = [Document {
            file: &a,
            passages: &pa,
        }];
        let hits = search(&docs, &query("apple"));
        assert_eq!(hits.len(), 1);
        // N = 2, n = 1, |p| = 2, avgdl = 1.5.
        let idf = (1.0f64 + (2.0 - 1.0 + 0.5) / 1.5).ln();
        let expected = idf * 2.2 / (1.0 + 1.2 * (1.0 - 0.75 + 0.75 * 2.0 / 1.5));
        assert!(
            (hits[0].score - expected).abs() < 1e-12,
            "{} vs {expected}",
            hits[0].score
        );
        assert_eq!(hits[0].content, "apple banana");
    }

    #[test]
    fn more_matches_and_rarer_terms_rank_higher() {
        let (a, b) = (file("a", "x"), file("b", "y"));
        let pa = passages(
            "text/plain",
            b"solar panels convert sunlight\n\nwind turbines and solar solar farms",
        )
        .unwrap();
        let pb = passages("text/plain", b"the grid stores energy\n\nsolar").unwrap();
        let docs = [
            Document {
                file: &a,
                passages: &pa,
            },
            Document {
                file: &b,
                passages: &pb,
            },
        ];
        let hits = search(&docs, &query("solar turbines"));
        assert_eq!(hits[0].content, "wind turbines and solar solar farms");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(
            hits.iter()
                .all(|h| h.content.contains("solar") || h.content.contains("turbines"))
        );
        assert_eq!(hits.len(), 3);

        let mut only_y = query("solar");
        only_y.tags = TagFilter(
            [(
                "kind".to_string(),
                super::super::filter::TagCondition::AnyOf(vec!["y".into()]),
            )]
            .into(),
        );
        let hits = search(&docs, &only_y);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].file.id, "b");

        let mut one = query("solar");
        one.limit = 1;
        assert_eq!(search(&docs, &one).len(), 1);
        assert!(search(&docs, &query("absent")).is_empty());
        assert!(search(&docs, &query("  ,, ")).is_empty());
    }

    #[test]
    fn context_holds_the_neighbours_in_order() {
        let a = file("a", "x");
        let pa = passages("text/markdown", b"# Top\n\none\n\ntwo target\n\nthree\n\nfour").unwrap();
        let docs = [Document {
            file: &a,
            passages: &pa,
        }];
        let mut q = query("target");
        q.with_context = true;
        q.include_breadcrumb = true;
        q.context_depth = 1;
        let hits = search(&docs, &q);
        let context = hits[0].context.as_ref().unwrap();
        let shown: Vec<(&str, &str, Option<i64>)> =
            context.iter().map(|c| (c.kind, c.text.as_str(), c.offset)).collect();
        assert_eq!(
            shown,
            [
                ("breadcrumb", "Top", None),
                ("preceding", "one", Some(-1)),
                ("current", "two target", Some(0)),
                ("subsequent", "three", Some(1)),
            ]
        );
        assert_eq!(hits[0].meta.position, 2);
        q.context_depth = 0;
        q.include_breadcrumb = false;
        assert_eq!(search(&docs, &q)[0].context.as_ref().unwrap().len(), 1);
    }
}
