//! A bot's records of one kind (users, conversations, messages, events) with the indexes
//! their lists and get-or-create lookups need, so that each costs in proportion to the
//! page it answers, not to the store.
//!
//! Every record sorts on `(createdAt ms, seq)`; `order` holds that key for all of them,
//! and one set of keys per exact-match facet (a tag pair `tags.k=v`, or a field such as
//! `conversationId`). A query starts from the smallest set its filters name, walks it in
//! the list's order from the page cursor, and stops once the page is full: the handler
//! still checks every filter on what it is handed, so an index only narrows, it never
//! decides. Sorting on `updatedAt` has no index: those lists walk everything, as before.
//!
//! The store is bounded: past `cap` records of a kind, the oldest by creation are evicted
//! on insert (README, "What the reference server keeps").

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use super::paging::{Direction, SortKey};
use super::store::Tags;

/// A record a `Collection` can index.
pub trait Record {
    fn id(&self) -> &str;
    /// `(createdAt ms, seq)`: fixed at creation.
    fn sort_key(&self) -> SortKey;
    fn tags(&self) -> Option<&Tags> {
        None
    }
    /// Exact-match fields lists filter on, beside tags: `(field, value)`.
    fn fields(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }
}

/// The index key of a tag pair or a field value.
fn facet(name: &str, value: &str) -> String {
    let mut key = String::with_capacity(name.len() + value.len() + 1);
    key.push_str(name);
    key.push('\u{0}');
    key.push_str(value);
    key
}

fn tag_facet(key: &str, value: &str) -> String {
    facet(&format!("tags.{key}"), value)
}

fn facets_of<T: Record>(item: &T) -> Vec<String> {
    let mut out: Vec<String> = item.fields().into_iter().map(|(f, v)| facet(f, v)).collect();
    if let Some(tags) = item.tags() {
        out.extend(tags.iter().map(|(k, v)| tag_facet(k, v)));
    }
    out
}

/// What a query filters on exactly; anything else it filters on is checked by the caller.
#[derive(Debug, Default, Clone)]
pub struct Narrow<'a> {
    pub tags: Option<&'a Tags>,
    pub fields: Vec<(&'static str, &'a str)>,
}

/// Records of one kind, by id, with their order and facet indexes.
#[derive(Debug)]
pub struct Collection<T> {
    items: HashMap<String, T>,
    order: BTreeMap<SortKey, String>,
    facets: HashMap<String, BTreeSet<SortKey>>,
}

impl<T> Default for Collection<T> {
    fn default() -> Self {
        Collection {
            items: HashMap::new(),
            order: BTreeMap::new(),
            facets: HashMap::new(),
        }
    }
}

impl<T: Record> Collection<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&T> {
        self.items.get(id)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.items.contains_key(id)
    }

    /// Every record, in no order (analytics, and lists sorted on `updatedAt`).
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.items.values()
    }

    /// Adds `item`; past `cap` records, evicts the oldest and returns them.
    pub fn insert(&mut self, item: T, cap: usize) -> Vec<T> {
        let key = item.sort_key();
        let id = item.id().to_string();
        if let Some(old) = self.items.remove(&id) {
            self.unindex(&old);
        }
        for f in facets_of(&item) {
            self.facets.entry(f).or_default().insert(key);
        }
        self.order.insert(key, id.clone());
        self.items.insert(id, item);
        let mut evicted = Vec::new();
        while self.items.len() > cap.max(1) {
            let Some((_, oldest)) = self.order.first_key_value() else {
                break;
            };
            let oldest = oldest.clone();
            if let Some(gone) = self.remove(&oldest) {
                evicted.push(gone);
            }
        }
        evicted
    }

    pub fn remove(&mut self, id: &str) -> Option<T> {
        let item = self.items.remove(id)?;
        self.unindex(&item);
        Some(item)
    }

    fn unindex(&mut self, item: &T) {
        let key = item.sort_key();
        self.order.remove(&key);
        for f in facets_of(item) {
            if let Some(set) = self.facets.get_mut(&f) {
                set.remove(&key);
                if set.is_empty() {
                    self.facets.remove(&f);
                }
            }
        }
    }

    /// Changes a record through `change` and re-indexes what it changed (tags, fields).
    pub fn update<R>(&mut self, id: &str, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        let item = self.items.get_mut(id)?;
        let before = facets_of(item);
        let key = item.sort_key();
        let out = change(item);
        let after = facets_of(item);
        debug_assert_eq!(key, item.sort_key(), "a record's sort key is fixed");
        if before != after {
            for f in before.iter().filter(|f| !after.contains(f)) {
                if let Some(set) = self.facets.get_mut(f) {
                    set.remove(&key);
                    if set.is_empty() {
                        self.facets.remove(f);
                    }
                }
            }
            for f in after.into_iter().filter(|f| !before.contains(f)) {
                self.facets.entry(f).or_default().insert(key);
            }
        }
        Some(out)
    }

    /// Removes every record `drop` picks (a cascade, such as a conversation's messages).
    pub fn remove_where(&mut self, narrow: &Narrow<'_>, drop: impl Fn(&T) -> bool) {
        let ids: Vec<String> = self
            .scan(narrow, Direction::Asc, None)
            .filter(|t| drop(t))
            .map(|t| t.id().to_string())
            .collect();
        for id in ids {
            self.remove(&id);
        }
    }

    /// The records that may match `narrow`, in `direction` order of their sort key,
    /// strictly after `after`. Only the smallest index set `narrow` names is walked; the
    /// caller filters what it gets.
    pub fn scan<'a>(
        &'a self,
        narrow: &Narrow<'_>,
        direction: Direction,
        after: Option<SortKey>,
    ) -> Box<dyn Iterator<Item = &'a T> + 'a> {
        let mut wanted: Vec<String> = narrow.fields.iter().map(|(f, v)| facet(f, v)).collect();
        if let Some(tags) = narrow.tags {
            wanted.extend(tags.iter().map(|(k, v)| tag_facet(k, v)));
        }
        let mut smallest: Option<&BTreeSet<SortKey>> = None;
        for f in &wanted {
            match self.facets.get(f) {
                // A facet nobody has: nothing can match all of them.
                None => return Box::new(std::iter::empty()),
                Some(set) => {
                    if smallest.is_none_or(|s| set.len() < s.len()) {
                        smallest = Some(set);
                    }
                }
            }
        }
        let range = |after: Option<SortKey>| -> (Bound<SortKey>, Bound<SortKey>) {
            match (direction, after) {
                (_, None) => (Bound::Unbounded, Bound::Unbounded),
                (Direction::Desc, Some(k)) => (Bound::Unbounded, Bound::Excluded(k)),
                (Direction::Asc, Some(k)) => (Bound::Excluded(k), Bound::Unbounded),
            }
        };
        let lookup = move |key: &SortKey| self.order.get(key).and_then(|id| self.items.get(id));
        match (smallest, direction) {
            (Some(set), Direction::Desc) => Box::new(set.range(range(after)).rev().filter_map(lookup)),
            (Some(set), Direction::Asc) => Box::new(set.range(range(after)).filter_map(lookup)),
            (None, Direction::Desc) => Box::new(
                self.order
                    .range(range(after))
                    .rev()
                    .filter_map(|(_, id)| self.items.get(id)),
            ),
            (None, Direction::Asc) => Box::new(self.order.range(range(after)).filter_map(|(_, id)| self.items.get(id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Item {
        id: String,
        key: SortKey,
        tags: Tags,
        parent: String,
    }

    impl Record for Item {
        fn id(&self) -> &str {
            &self.id
        }
        fn sort_key(&self) -> SortKey {
            self.key
        }
        fn tags(&self) -> Option<&Tags> {
            Some(&self.tags)
        }
        fn fields(&self) -> Vec<(&'static str, &str)> {
            vec![("parent", &self.parent)]
        }
    }

    fn item(n: u64, parent: &str, tag: Option<&str>) -> Item {
        Item {
            id: format!("i{n}"),
            key: (n as i64 / 3, n),
            tags: tag.map(|t| Tags::from([("k".into(), t.into())])).unwrap_or_default(),
            parent: parent.into(),
        }
    }

    fn ids<'a>(it: impl Iterator<Item = &'a Item>) -> Vec<String> {
        it.map(|i| i.id.clone()).collect()
    }

    #[test]
    fn scans_the_smallest_set_in_order_from_the_cursor() {
        let mut c = Collection::default();
        for n in 0..30 {
            let tag = (n % 5 == 0).then_some("x");
            c.insert(item(n, if n % 2 == 0 { "a" } else { "b" }, tag), 1000);
        }
        let tags = Tags::from([("k".into(), "x".into())]);
        let narrow = Narrow {
            tags: Some(&tags),
            fields: vec![("parent", "a")],
        };
        // Tag x: 0, 5, 10, 15, 20, 25; the caller filters parent a out of them.
        let got = ids(c.scan(&narrow, Direction::Desc, None));
        assert_eq!(got, ["i25", "i20", "i15", "i10", "i5", "i0"]);
        let after = c.get("i15").unwrap().key;
        assert_eq!(ids(c.scan(&narrow, Direction::Desc, Some(after))), ["i10", "i5", "i0"]);
        assert_eq!(ids(c.scan(&narrow, Direction::Asc, Some(after))), ["i20", "i25"]);
        let nobody = Narrow {
            tags: None,
            fields: vec![("parent", "zzz")],
        };
        assert_eq!(c.scan(&nobody, Direction::Desc, None).count(), 0);
        assert_eq!(c.scan(&Narrow::default(), Direction::Asc, None).count(), 30);
    }

    #[test]
    fn updates_move_a_record_between_tag_sets() {
        let mut c = Collection::default();
        c.insert(item(1, "a", Some("x")), 10);
        c.update("i1", |i| i.tags.insert("k".into(), "y".into()));
        let x = Tags::from([("k".into(), "x".into())]);
        let y = Tags::from([("k".into(), "y".into())]);
        let by = |c: &Collection<Item>, t: &Tags| {
            ids(c.scan(
                &Narrow {
                    tags: Some(t),
                    fields: vec![],
                },
                Direction::Desc,
                None,
            ))
        };
        assert!(by(&c, &x).is_empty());
        assert_eq!(by(&c, &y), ["i1"]);
        c.remove("i1");
        assert!(by(&c, &y).is_empty());
        assert!(c.facets.is_empty() && c.order.is_empty());
    }

    #[test]
    fn the_oldest_are_evicted_past_the_cap() {
        let mut c = Collection::default();
        let mut evicted = Vec::new();
        for n in 0..10 {
            evicted.extend(c.insert(item(n, "a", Some("x")), 4));
        }
        assert_eq!(c.len(), 4);
        assert_eq!(ids(evicted.iter()), ["i0", "i1", "i2", "i3", "i4", "i5"]);
        assert_eq!(
            ids(c.scan(&Narrow::default(), Direction::Asc, None)),
            ["i6", "i7", "i8", "i9"]
        );
    }
}
