//! The parts of list handling every list shares: sort order, date bounds, page tokens.

use axum::response::Response;
use serde::Serialize;

use crate::server::error::ApiResult;
use crate::server::ids::Timestamp;
use crate::server::paging::{Binding, CursorKey, Direction, SortKey};
use crate::server::query::QueryParams;
use crate::server::state::AppState;

use super::reply;

/// Which timestamp a list sorts (and range-filters) on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
}

/// Sort and range options read from the query.
pub struct Window {
    pub sort: SortField,
    pub direction: Direction,
    pub range: SortField,
    pub after: Option<Timestamp>,
    pub before: Option<Timestamp>,
}

impl Window {
    /// Reads `sortField`, `sortDirection`, `rangeField`, `afterDate`, `beforeDate`, each
    /// only where the operation documents it.
    pub fn read(q: &QueryParams, sortable: bool, rangeable: bool, dated: bool) -> ApiResult<Window> {
        let field = |key: &str| -> ApiResult<SortField> {
            Ok(match q.choice(key, &["createdAt", "updatedAt"])? {
                Some("updatedAt") => SortField::UpdatedAt,
                _ => SortField::CreatedAt,
            })
        };
        let sort = if sortable {
            field("sortField")?
        } else {
            SortField::CreatedAt
        };
        let direction = if sortable {
            Direction::parse(q.choice("sortDirection", &["asc", "desc"])?)
        } else {
            Direction::Desc
        };
        let range = if rangeable {
            field("rangeField")?
        } else {
            SortField::CreatedAt
        };
        let (after, before) = if dated {
            (q.timestamp("afterDate")?, q.timestamp("beforeDate")?)
        } else {
            (None, None)
        };
        Ok(Window {
            sort,
            direction,
            range,
            after,
            before,
        })
    }

    /// Whether a record with these timestamps is inside the inclusive date bounds.
    pub fn admits(&self, created: Timestamp, updated: Timestamp) -> bool {
        let at = match self.range {
            SortField::CreatedAt => created,
            SortField::UpdatedAt => updated,
        };
        self.after.is_none_or(|a| at.millis() >= a.millis()) && self.before.is_none_or(|b| at.millis() <= b.millis())
    }

    pub fn key(&self, created: Timestamp, updated: Timestamp, seq: u64) -> SortKey {
        match self.sort {
            SortField::CreatedAt => (created.millis(), seq),
            SortField::UpdatedAt => (updated.millis(), seq),
        }
    }
}

/// Pages what `walk` yields (the matching items in order, after the cursor it is given)
/// and answers `{key: [...], meta}`, as [`respond`] does.
pub fn respond_walk<'a, T: Serialize + 'a>(
    state: &AppState,
    bot: &str,
    operation: &str,
    q: &QueryParams,
    key: &'static str,
    walk: impl FnOnce(Option<SortKey>) -> Box<dyn Iterator<Item = (SortKey, T)> + 'a>,
) -> ApiResult<Response> {
    let fingerprint = q.fingerprint();
    let binding = Binding {
        bot,
        operation,
        fingerprint: &fingerprint,
    };
    let (page, next) = state.pager().page_walk(&binding, q.get("nextToken"), walk)?;
    Ok(reply::list(key, &page, next.as_deref()))
}

/// Pages `items` and answers `{key: [...], meta}`; the token is bound to the bot, the
/// operation and the query.
pub fn respond<K: CursorKey, T: Serialize>(
    state: &AppState,
    bot: &str,
    operation: &str,
    q: &QueryParams,
    direction: Direction,
    key: &'static str,
    items: Vec<(K, T)>,
) -> ApiResult<Response> {
    let fingerprint = q.fingerprint();
    let binding = Binding {
        bot,
        operation,
        fingerprint: &fingerprint,
    };
    let (page, next) = state.pager().page(&binding, q.get("nextToken"), direction, items)?;
    Ok(reply::list(key, &page, next.as_deref()))
}
