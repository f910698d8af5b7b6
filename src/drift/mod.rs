//! Drift: how far a server's real answers (or a newer contract) are from `schemas/`, each
//! difference classified as breaking for clients or not, rendered for a terminal, JSON and
//! a Markdown pull-request comment.

mod diff;
mod resolve;

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

pub use self::diff::{Change, ChangeKind, diff_schema};
pub use self::resolve::Documents;

/// All differences between the contract and the observed schemas.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub compared: Vec<String>,
    pub changes: Vec<Change>,
}

impl DriftReport {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }
}

/// Compares every schema of `observed` with its counterpart in the contract: an operation's
/// `responses/<op>.json` with the same file, an error type's `errors/<T>.json` with
/// `error.json`. Files with no counterpart are skipped.
pub fn drift(contract: &Documents, observed: &Documents) -> DriftReport {
    let mut report = DriftReport {
        compared: Vec::new(),
        changes: Vec::new(),
    };
    for (rel, schema) in observed {
        let counterpart = if rel.starts_with("errors/") {
            "error.json"
        } else {
            rel.as_str()
        };
        let Some(documented) = contract.get(counterpart) else {
            continue;
        };
        report.compared.push(rel.clone());
        let name = rel.trim_end_matches(".json").to_string();
        report
            .changes
            .extend(diff_schema(contract, counterpart, documented, schema, &name));
    }
    report
}

fn kind_name(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::FieldAdded => "field added",
        ChangeKind::FieldRemoved => "field removed",
        ChangeKind::TypeChanged => "type changed",
        ChangeKind::RequiredChanged => "required changed",
        ChangeKind::NullabilityChanged => "nullability changed",
        ChangeKind::EnumValueAdded => "enum value added",
        ChangeKind::EnumValueRemoved => "enum value removed",
        ChangeKind::FormatChanged => "format changed",
    }
}

/// Terminal text: breaking changes first, then the others, then a closing count.
pub fn render_text(report: &DriftReport) -> String {
    let mut out = String::new();
    for breaking in [true, false] {
        for c in report.changes.iter().filter(|c| c.breaking == breaking) {
            let tag = if breaking { "BREAKING" } else { "ok      " };
            let _ = writeln!(
                out,
                "{tag} {:28} {:40} {:20} {}",
                c.schema,
                c.path,
                kind_name(c.kind),
                c.detail
            );
        }
    }
    let _ = writeln!(
        out,
        "{} schemas compared, {} changes, {} breaking",
        report.compared.len(),
        report.changes.len(),
        report.breaking()
    );
    out
}

/// Markdown for a pull-request comment.
pub fn render_markdown(report: &DriftReport) -> String {
    let mut out = String::from("## Schema drift\n\n");
    let _ = writeln!(
        out,
        "{} schemas compared, **{} breaking** of {} changes.\n",
        report.compared.len(),
        report.breaking(),
        report.changes.len()
    );
    if !report.changes.is_empty() {
        out.push_str("| | schema | path | change | detail |\n|---|---|---|---|---|\n");
        let mut ordered: Vec<&Change> = report.changes.iter().collect();
        ordered.sort_by_key(|c| !c.breaking);
        for c in ordered {
            let mark = if c.breaking { "❌" } else { "ℹ️" };
            let detail = c.detail.replace('|', "\\|");
            let _ = writeln!(
                out,
                "| {mark} | `{}` | `{}` | {} | {detail} |",
                c.schema,
                c.path,
                kind_name(c.kind)
            );
        }
    }
    out
}

/// The schema documents of a `SchemaSet`, by path.
pub fn documents_of(set: &crate::contract::SchemaSet) -> Documents {
    set.paths()
        .filter_map(|p| set.document(p).map(|d| (p.to_string(), d.clone())))
        .collect()
}

/// Documents from an inferred set (already by path).
pub fn documents_from(inferred: &crate::infer::Inferred) -> Documents {
    inferred
        .iter()
        .map(|(k, v): (&String, &Value)| (k.clone(), v.clone()))
        .collect()
}
