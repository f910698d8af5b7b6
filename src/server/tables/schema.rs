//! Table schemas: what createTable, getOrCreateTable and updateTable accept, the normalised
//! JSON Schema tables answer with, the naming rules, and the check of row values.
//!
//! Accepted: a plain column object (`{"name": {"type": "string"}}`) or a JSON Schema
//! (`{"type": "object", "properties": {...}, "required": [...]}`); an object whose `type`
//! or `$schema` is a string is read as the latter. Each column definition must be a
//! ColumnDef as `schemas/resources/column-def.json` describes it (its `x-zui.index` is
//! filled in when missing); anything else is `InvalidJsonSchema`, so what the table
//! answers with never carries a keyword it does not enforce. At most 20 columns.
//!
//! Names: tables follow the identifier rule of the error catalogue (a lowercase letter,
//! then letters and digits, 2 to 100 characters); columns the same characters but 1 to 30
//! long (the column bound of the spec), and never a name the row object uses for itself
//! (`id`, `createdAt`, `updatedAt`, `computed`, `stale`, `similarity`).

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::contract::{SchemaSet, violations};
use crate::server::ids::Timestamp;

use super::value::RESERVED_NAMES;

/// The most columns a table may have (a hard limit in the docs).
pub const MAX_COLUMNS: usize = 20;

/// Why a schema or a name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// `InvalidJsonSchema`.
    Malformed(String),
    /// `InvalidIdentifier`.
    Identifier(String),
    /// `LimitExceeded`: this many columns.
    TooManyColumns(usize),
}

fn identifier_chars(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

/// The identifier rule for table names.
pub fn check_table_name(name: &str) -> Result<(), String> {
    if identifier_chars(name) && (2..=100).contains(&name.len()) {
        Ok(())
    } else {
        Err(format!(
            "table name {name:?} must start with a lowercase letter, hold only letters and digits, and be 2 to 100 characters long"
        ))
    }
}

/// The rule for column names.
pub fn check_column_name(name: &str) -> Result<(), String> {
    if RESERVED_NAMES.contains(&name) {
        return Err(format!("column name {name:?} is reserved for a field every row has"));
    }
    if identifier_chars(name) && (1..=30).contains(&name.len()) {
        Ok(())
    } else {
        Err(format!(
            "column name {name:?} must start with a lowercase letter, hold only letters and digits, and be 1 to 30 characters long"
        ))
    }
}

/// One column: its definition as answered, and what row checks need from it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The definition as answered (an object).
    pub def: Value,
    pub ty: String,
    nullable: bool,
    date_time: bool,
    pattern: Option<Regex>,
    choices: Option<Vec<String>>,
    items: Option<String>,
    properties: Vec<(String, String)>,
    pub searchable: bool,
}

/// A table's schema.
#[derive(Debug, Clone, Default)]
pub struct TableSchema {
    pub columns: Vec<Column>,
    pub required: Vec<String>,
    dialect: Option<String>,
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn describe(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 60 {
        format!(
            "{}…",
            &text[..text.char_indices().nth(57).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

fn article(ty: &str) -> &'static str {
    if ty.starts_with(['a', 'o']) { "an" } else { "a" }
}

impl Column {
    fn parse(name: &str, def: &Value, index: usize) -> Result<Column, SchemaError> {
        check_column_name(name).map_err(SchemaError::Identifier)?;
        let Value::Object(map) = def else {
            return Err(SchemaError::Malformed(format!(
                "column {name:?}: the definition must be an object"
            )));
        };
        let mut def = map.clone();
        match def.get_mut("x-zui") {
            None => {
                def.insert("x-zui".into(), json!({ "index": index }));
            }
            Some(Value::Object(ui)) => {
                ui.entry("index").or_insert_with(|| json!(index));
            }
            Some(_) => {}
        }
        let validator = SchemaSet::embedded()
            .validator("resources/column-def.json")
            .map_err(|e| SchemaError::Malformed(format!("column schema unavailable: {e}")))?;
        let value = Value::Object(def);
        if let Some(v) = violations(&validator, &value, 1).into_iter().next() {
            let at = v.instance_path.trim_start_matches('/').replace('/', ".");
            let at = if at.is_empty() { String::new() } else { format!(".{at}") };
            return Err(SchemaError::Malformed(format!("column {name:?}{at}: {}", v.message)));
        }
        let def = value;
        let text = |key: &str| def.get(key).and_then(Value::as_str).map(str::to_string);
        let pattern = match text("pattern") {
            None => None,
            Some(p) => Some(Regex::new(&p).map_err(|e| {
                SchemaError::Malformed(format!(
                    "column {name:?}.pattern is not a valid regular expression: {e}"
                ))
            })?),
        };
        let ty = text("type").unwrap_or_default();
        if (pattern.is_some() || def.get("format").is_some() || def.get("enum").is_some()) && ty != "string" {
            return Err(SchemaError::Malformed(format!(
                "column {name:?}: pattern, format and enum apply to string columns only"
            )));
        }
        Ok(Column {
            name: name.to_string(),
            ty,
            nullable: def.get("nullable").and_then(Value::as_bool).unwrap_or(true),
            date_time: text("format").as_deref() == Some("date-time"),
            pattern,
            choices: def
                .get("enum")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()),
            items: def.pointer("/items/type").and_then(Value::as_str).map(str::to_string),
            properties: def
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.get("type")?.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            searchable: def
                .pointer("/x-zui/searchable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            def,
        })
    }

    fn dependencies(&self) -> Vec<String> {
        self.def
            .pointer("/x-zui/computed/dependencies")
            .and_then(Value::as_array)
            .map(|d| d.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Whether `value` (not missing) fits this column.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let name = &self.name;
        if value.is_null() {
            return if self.nullable || self.ty == "null" {
                Ok(())
            } else {
                Err(format!("column {name:?} is not nullable"))
            };
        }
        if !type_matches(&self.ty, value) {
            return Err(format!(
                "column {name:?} expects {} {}, got {}",
                article(&self.ty),
                self.ty,
                describe(value)
            ));
        }
        if let Value::String(s) = value {
            if self.date_time && Timestamp::parse(s).is_none() {
                return Err(format!(
                    "column {name:?} expects an ISO 8601 date-time, got {}",
                    describe(value)
                ));
            }
            if let Some(re) = &self.pattern
                && !re.is_match(s)
            {
                return Err(format!(
                    "column {name:?}: {} does not match the pattern {}",
                    describe(value),
                    re.as_str()
                ));
            }
            if let Some(choices) = &self.choices
                && !choices.contains(s)
            {
                return Err(format!(
                    "column {name:?}: {} is not one of {choices:?}",
                    describe(value)
                ));
            }
        }
        if let (Some(ty), Value::Array(items)) = (&self.items, value)
            && let Some((i, bad)) = items.iter().enumerate().find(|(_, v)| !type_matches(ty, v))
        {
            return Err(format!(
                "column {name:?}[{i}] expects {} {ty}, got {}",
                article(ty),
                describe(bad)
            ));
        }
        if let Value::Object(map) = value {
            for (key, ty) in &self.properties {
                if let Some(v) = map.get(key).filter(|v| !type_matches(ty, v)) {
                    return Err(format!(
                        "column {name:?}.{key} expects {} {ty}, got {}",
                        article(ty),
                        describe(v)
                    ));
                }
            }
        }
        Ok(())
    }
}

impl TableSchema {
    /// Reads a schema as a request gives it.
    pub fn parse(value: &Value) -> Result<TableSchema, SchemaError> {
        let Value::Object(top) = value else {
            return Err(SchemaError::Malformed("the schema must be an object".into()));
        };
        let json_schema =
            top.get("type").is_some_and(Value::is_string) || top.get("$schema").is_some_and(Value::is_string);
        let (properties, required, dialect) = if json_schema {
            for key in top.keys() {
                if ![
                    "$schema",
                    "type",
                    "properties",
                    "required",
                    "additionalProperties",
                    "title",
                    "description",
                ]
                .contains(&key.as_str())
                {
                    return Err(SchemaError::Malformed(format!(
                        "keyword {key:?} is not supported at the top of a table schema"
                    )));
                }
            }
            if top.get("type") != Some(&json!("object")) {
                return Err(SchemaError::Malformed(
                    "a table schema must have type \"object\"".into(),
                ));
            }
            if top.get("additionalProperties").is_some_and(|v| v != &json!(true)) {
                return Err(SchemaError::Malformed(
                    "additionalProperties of a table schema can only be true".into(),
                ));
            }
            let dialect = match top.get("$schema") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(SchemaError::Malformed("$schema must be a string".into())),
            };
            let properties = match top.get("properties") {
                None => Map::new(),
                Some(Value::Object(p)) => p.clone(),
                Some(_) => return Err(SchemaError::Malformed("properties must be an object of columns".into())),
            };
            let required = match top.get("required") {
                None => Vec::new(),
                Some(Value::Array(r)) if r.iter().all(Value::is_string) => {
                    r.iter().filter_map(Value::as_str).map(str::to_string).collect()
                }
                Some(_) => {
                    return Err(SchemaError::Malformed(
                        "required must be an array of column names".into(),
                    ));
                }
            };
            (properties, required, dialect)
        } else {
            (top.clone(), Vec::new(), None)
        };
        if properties.len() > MAX_COLUMNS {
            return Err(SchemaError::TooManyColumns(properties.len()));
        }
        let columns = properties
            .iter()
            .enumerate()
            .map(|(i, (name, def))| Column::parse(name, def, i))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = TableSchema {
            columns,
            required,
            dialect,
        };
        for name in &schema.required {
            if schema.column(name).is_none() {
                return Err(SchemaError::Malformed(format!(
                    "required names {name:?}, which is not a column"
                )));
            }
        }
        for column in &schema.columns {
            for dep in column.dependencies() {
                if schema.column(&dep).is_none() {
                    return Err(SchemaError::Malformed(format!(
                        "column {:?} is computed from {dep:?}, which is not a column",
                        column.name
                    )));
                }
            }
        }
        Ok(schema)
    }

    /// The schema as tables answer with it.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(d) = &self.dialect {
            out.insert("$schema".into(), json!(d));
        }
        out.insert("type".into(), json!("object"));
        let properties: Map<String, Value> = self.columns.iter().map(|c| (c.name.clone(), c.def.clone())).collect();
        out.insert("properties".into(), Value::Object(properties));
        out.insert("additionalProperties".into(), json!(true));
        if !self.required.is_empty() {
            out.insert("required".into(), json!(self.required));
        }
        Value::Object(out)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The type of a column or system field, `None` for a name the table does not have.
    pub fn field_type(&self, name: &str) -> Option<String> {
        match name {
            "id" => Some("number".into()),
            "createdAt" | "updatedAt" => Some("string".into()),
            _ => self.column(name).map(|c| c.ty.clone()),
        }
    }

    /// Whether every column has a fitting value and every required column one at all.
    pub fn check_row(&self, values: &Map<String, Value>) -> Result<(), String> {
        for column in &self.columns {
            match values.get(&column.name) {
                Some(v) => column.check(v)?,
                None if self.required.contains(&column.name) => {
                    return Err(format!("column {:?} is required", column.name));
                }
                None => {}
            }
        }
        Ok(())
    }

    /// The columns whose words `search` reads.
    pub fn search_columns(&self) -> Vec<&str> {
        let marked: Vec<&str> = self
            .columns
            .iter()
            .filter(|c| c.searchable)
            .map(|c| c.name.as_str())
            .collect();
        if marked.is_empty() {
            self.columns
                .iter()
                .filter(|c| c.ty == "string")
                .map(|c| c.name.as_str())
                .collect()
        } else {
            marked
        }
    }

    /// Renames a column in place, in `required` and in the dependencies of computed columns.
    pub fn rename(&mut self, from: &str, to: &str) {
        for column in &mut self.columns {
            if column.name == from {
                column.name = to.to_string();
            }
            if let Some(Value::Array(deps)) = column.def.pointer_mut("/x-zui/computed/dependencies") {
                for dep in deps.iter_mut().filter(|d| d.as_str() == Some(from)) {
                    *dep = json!(to);
                }
            }
        }
        for name in self.required.iter_mut().filter(|n| n.as_str() == from) {
            *name = to.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_columns_and_json_schema_give_the_same_table() {
        let plain = TableSchema::parse(&json!({ "name": { "type": "string" }, "age": { "type": "number" } })).unwrap();
        let full = TableSchema::parse(&json!({
            "type": "object",
            "properties": { "name": { "type": "string" }, "age": { "type": "number" } }
        }))
        .unwrap();
        assert_eq!(plain.to_json(), full.to_json());
        let out = plain.to_json();
        assert_eq!(out["additionalProperties"], json!(true));
        assert_eq!(out["properties"]["age"]["x-zui"]["index"], json!(1));
        let names: Vec<&String> = out["properties"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["name", "age"], "column order is kept");
        let validator = SchemaSet::embedded().validator("resources/table-schema.json").unwrap();
        assert!(validator.is_valid(&out), "{out}");
    }

    #[test]
    fn malformed_schemas_and_names_are_refused() {
        let err = |v: Value| TableSchema::parse(&v).unwrap_err();
        assert!(
            matches!(err(json!({ "a": { "type": "text" } })), SchemaError::Malformed(m) if m.contains("column \"a\".type"))
        );
        assert!(matches!(err(json!({ "a": "string" })), SchemaError::Malformed(_)));
        assert!(matches!(
            err(json!({ "a": { "type": "string", "minimum": 1 } })),
            SchemaError::Malformed(_)
        ));
        assert!(matches!(err(json!({ "type": "array" })), SchemaError::Malformed(_)));
        assert!(matches!(
            err(json!({ "type": "object", "properties": { "a": { "type": "string" } }, "required": ["b"] })),
            SchemaError::Malformed(m) if m.contains("\"b\"")
        ));
        assert!(matches!(
            err(json!({ "a": { "type": "string", "pattern": "(" } })),
            SchemaError::Malformed(_)
        ));
        assert!(matches!(
            err(json!({ "a": { "type": "number", "enum": ["x"] } })),
            SchemaError::Malformed(_)
        ));
        assert!(matches!(
            err(json!({ "Bad": { "type": "string" } })),
            SchemaError::Identifier(_)
        ));
        assert!(
            matches!(err(json!({ "id": { "type": "number" } })), SchemaError::Identifier(m) if m.contains("reserved"))
        );
        let many: Map<String, Value> = (0..21)
            .map(|i| (format!("c{i}"), json!({ "type": "string" })))
            .collect();
        assert_eq!(err(Value::Object(many)), SchemaError::TooManyColumns(21));
        assert!(check_table_name("ordersTable").is_ok());
        assert!(check_table_name("o").is_err());
        assert!(check_table_name("Orders").is_err());
        assert!(check_table_name("my_table").is_err());
        assert!(check_column_name(&"a".repeat(31)).is_err());
    }

    #[test]
    fn rows_are_checked_against_their_columns() {
        let schema = TableSchema::parse(&json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "pattern": "^[A-Z]" },
                "age": { "type": "number", "nullable": false },
                "when": { "type": "string", "format": "date-time" },
                "level": { "type": "string", "enum": ["low", "high"] },
                "list": { "type": "array", "items": { "type": "number" } },
                "info": { "type": "object", "properties": { "city": { "type": "string" } } }
            },
            "required": ["name"]
        }))
        .unwrap();
        let check = |v: Value| schema.check_row(v.as_object().unwrap());
        assert!(
            check(
                json!({ "name": "Ada", "age": 3, "when": "2025-01-01T00:00:00Z", "level": "low",
            "list": [1, 2], "info": { "city": "x", "other": 1 } })
            )
            .is_ok()
        );
        assert!(check(json!({ "age": 3 })).unwrap_err().contains("\"name\" is required"));
        assert!(
            check(json!({ "name": "Ada", "age": "3" }))
                .unwrap_err()
                .contains("expects a number, got \"3\"")
        );
        assert!(
            check(json!({ "name": "Ada", "age": null }))
                .unwrap_err()
                .contains("not nullable")
        );
        assert!(check(json!({ "name": "ada" })).unwrap_err().contains("pattern"));
        assert!(
            check(json!({ "name": "Ada", "when": "yesterday" }))
                .unwrap_err()
                .contains("date-time")
        );
        assert!(
            check(json!({ "name": "Ada", "level": "mid" }))
                .unwrap_err()
                .contains("not one of")
        );
        assert!(
            check(json!({ "name": "Ada", "list": [1, "2"] }))
                .unwrap_err()
                .contains("\"list\"[1]")
        );
        assert!(
            check(json!({ "name": "Ada", "info": { "city": 1 } }))
                .unwrap_err()
                .contains("\"info\".city")
        );
        assert!(
            check(json!({ "name": "Ada", "when": null })).is_ok(),
            "nullable by default"
        );
    }

    #[test]
    fn rename_follows_required_and_dependencies() {
        let mut schema = TableSchema::parse(&json!({
            "type": "object",
            "properties": {
                "a": { "type": "string" },
                "b": { "type": "string", "x-zui": { "index": 1, "computed": { "action": "ai", "dependencies": ["a"] } } }
            },
            "required": ["a"]
        }))
        .unwrap();
        schema.rename("a", "z");
        let out = schema.to_json();
        assert_eq!(out["required"], json!(["z"]));
        assert!(out["properties"]["z"].is_object());
        assert_eq!(
            out["properties"]["b"]["x-zui"]["computed"]["dependencies"],
            json!(["z"])
        );
        assert!(matches!(
            TableSchema::parse(
                &json!({ "b": { "type": "string", "x-zui": { "index": 0, "computed": { "action": "ai", "dependencies": ["q"] } } } })
            ),
            Err(SchemaError::Malformed(_))
        ));
    }
}
