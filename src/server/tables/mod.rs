//! The tables engine of the reference server: schemas and naming rules, the stored tables
//! and rows, batch writes with partial success, and the query language of findTableRows
//! (filter, group, search, order, paging, select). Pure data in, data out: the HTTP side
//! lives in `routes/tables.rs` and `routes/rows.rs`.

mod filter;
mod find;
mod group;
mod schema;
mod search;
mod table;
mod value;
mod write;

pub use self::filter::QueryError;
pub use self::find::{Query, find, matching};
pub use self::schema::{MAX_COLUMNS, SchemaError, TableSchema, check_column_name, check_table_name};
pub use self::table::{Row, Table, Tables};
pub use self::write::{Batch, Problem, create_rows, update_rows, upsert_rows};
