//! The `search` of findTableRows: a deterministic text similarity in place of the real
//! service's semantic search, so results and their order can be asserted.
//!
//! Text is split into words: lowercase runs of letters and digits. A row's words come from
//! its searchable columns (`x-zui.searchable: true`), or from every string column when the
//! table marks none. Each distinct query word `t` weighs
//! `idf(t) = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5))` (BM25's idf: `N` rows considered,
//! `n(t)` of them holding `t`), so rare words count more. A row's similarity is the weight
//! of the query words it holds over the weight of all query words: 1 when it holds every
//! word, 0 when none (such rows are left out). Rows come best first, then by id.

use std::collections::{BTreeSet, HashSet};

/// The words of `text`.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The similarity of each document (a set of words) to `query`, in [0, 1], rounded to six
/// decimals so the same data always gives the same number.
pub fn similarities(query: &str, documents: &[HashSet<String>]) -> Vec<f64> {
    let terms: BTreeSet<String> = words(query).into_iter().collect();
    let n = documents.len() as f64;
    let weights: Vec<(&String, f64)> = terms
        .iter()
        .map(|t| {
            let holding = documents.iter().filter(|d| d.contains(t)).count() as f64;
            (t, (1.0 + (n - holding + 0.5) / (holding + 0.5)).ln())
        })
        .collect();
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    documents
        .iter()
        .map(|doc| {
            if total <= 0.0 {
                return 0.0;
            }
            let held: f64 = weights.iter().filter(|(t, _)| doc.contains(*t)).map(|(_, w)| w).sum();
            ((held / total) * 1e6).round() / 1e6
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> HashSet<String> {
        words(text).into_iter().collect()
    }

    #[test]
    fn words_are_lowercase_alphanumeric_runs() {
        assert_eq!(words("Hello, WORLD! l'été 42x"), ["hello", "world", "l", "été", "42x"]);
        assert!(words(" ,;- ").is_empty());
    }

    #[test]
    fn rare_words_weigh_more_and_all_words_score_one() {
        let docs = [
            doc("red apple pie"),
            doc("green apple"),
            doc("red car"),
            doc("blue sky"),
        ];
        let s = similarities("red apple", &docs);
        assert_eq!(s[0], 1.0);
        assert_eq!(s[3], 0.0);
        assert!(s[1] > 0.0 && s[1] < 1.0);
        assert!((s[1] - s[2]).abs() < 1e-9, "apple and red are as rare: {s:?}");
        let s = similarities("apple pie", &docs);
        assert!(s[0] == 1.0 && s[1] < 0.5, "pie is rarer than apple: {s:?}");
        assert_eq!(similarities("", &docs), [0.0; 4]);
    }
}
