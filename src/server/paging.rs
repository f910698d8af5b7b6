//! Keyset pagination with opaque, signed `nextToken`s.
//!
//! A token carries the sort key of the last item served and a MAC over that key, the bot,
//! the operation and the query it came from. Replayed with another bot, another list or
//! other filters, the MAC no longer matches and the server answers `InvalidQuery` instead of
//! obeying it. Keyset (not offset) paging is what makes a walk return every item exactly
//! once while items are being created: a new item sorts before the cursor (newest first)
//! or after everything already served (oldest first).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::{ApiError, ApiResult};

type HmacSha256 = Hmac<Sha256>;

/// Where an item sorts: the sort field in milliseconds, then its creation sequence number.
pub type SortKey = (i64, u64);

/// A sort key a page token can carry: ordered, and written to and read from bytes.
pub trait CursorKey: Ord + Clone + Sized {
    fn to_bytes(&self) -> Vec<u8>;
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

impl CursorKey for SortKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(16);
        bytes.extend_from_slice(&self.0.to_be_bytes());
        bytes.extend_from_slice(&self.1.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 16 {
            return None;
        }
        let millis = i64::from_be_bytes(bytes[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(bytes[8..].try_into().ok()?);
        Some((millis, seq))
    }
}

/// A key that sorts on text first (a file key, a status), then a number, then the
/// creation sequence; lists sorted on a number leave the text empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextKey {
    pub text: String,
    pub number: i64,
    pub seq: u64,
}

impl CursorKey for TextKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(16 + self.text.len());
        bytes.extend_from_slice(&self.number.to_be_bytes());
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(self.text.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 16 {
            return None;
        }
        Some(TextKey {
            number: i64::from_be_bytes(bytes[..8].try_into().ok()?),
            seq: u64::from_be_bytes(bytes[8..16].try_into().ok()?),
            text: String::from_utf8(bytes[16..].to_vec()).ok()?,
        })
    }
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn parse(value: Option<&str>) -> Direction {
        match value {
            Some("asc") => Direction::Asc,
            _ => Direction::Desc,
        }
    }
}

/// Signs and checks page tokens with the server's secret key.
#[derive(Clone)]
pub struct Pager {
    key: [u8; 32],
    pub page_size: usize,
    /// Tokens bound to nothing but the cursor (the `token-not-bound` fault).
    loose: bool,
}

/// What a token is bound to.
pub struct Binding<'a> {
    pub bot: &'a str,
    pub operation: &'a str,
    pub fingerprint: &'a str,
}

impl Pager {
    pub fn new(key: [u8; 32], page_size: usize, loose: bool) -> Self {
        Pager { key, page_size, loose }
    }

    fn mac(&self, binding: &Binding<'_>, cursor: &[u8]) -> [u8; 16] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("hmac takes any key length");
        let bound: [&[u8]; 3] = if self.loose {
            [b"", b"", b""]
        } else {
            [
                binding.bot.as_bytes(),
                binding.operation.as_bytes(),
                binding.fingerprint.as_bytes(),
            ]
        };
        for part in bound.into_iter().chain([cursor]) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    pub fn encode<K: CursorKey>(&self, binding: &Binding<'_>, key: &K) -> String {
        let mut bytes = key.to_bytes();
        let mac = self.mac(binding, &bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(&self, binding: &Binding<'_>, token: &str) -> ApiResult<SortKey> {
        self.decode_key(binding, token)
    }

    pub fn decode_key<K: CursorKey>(&self, binding: &Binding<'_>, token: &str) -> ApiResult<K> {
        let invalid = || ApiError::invalid_query("nextToken is not valid for this list, bot and filters");
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| invalid())?;
        if bytes.len() <= 16 {
            return Err(invalid());
        }
        let (cursor, mac) = bytes.split_at(bytes.len() - 16);
        if self.mac(binding, cursor) != mac {
            return Err(invalid());
        }
        K::from_bytes(cursor).ok_or_else(invalid)
    }

    /// One page from `walk`, which yields the matching items in the list's order, strictly
    /// after the cursor it is given: only one item more than a page is taken from it, so a
    /// list over an index costs in proportion to the page.
    pub fn page_walk<'a, T: 'a>(
        &self,
        binding: &Binding<'_>,
        token: Option<&str>,
        walk: impl FnOnce(Option<SortKey>) -> Box<dyn Iterator<Item = (SortKey, T)> + 'a>,
    ) -> ApiResult<(Vec<T>, Option<String>)> {
        let after = token
            .filter(|t| !t.is_empty())
            .map(|t| self.decode_key::<SortKey>(binding, t))
            .transpose()?;
        let mut items: Vec<(SortKey, T)> = walk(after).take(self.page_size + 1).collect();
        let more = items.len() > self.page_size;
        items.truncate(self.page_size);
        let next = if more {
            items.last().map(|(key, _)| self.encode(binding, key))
        } else {
            None
        };
        Ok((items.into_iter().map(|(_, item)| item).collect(), next))
    }

    /// One page of `items` (already filtered), sorted by key in `direction`, after the
    /// cursor in `token` if any. Returns the page and the token of the next one.
    pub fn page<K: CursorKey, T>(
        &self,
        binding: &Binding<'_>,
        token: Option<&str>,
        direction: Direction,
        mut items: Vec<(K, T)>,
    ) -> ApiResult<(Vec<T>, Option<String>)> {
        let after = token
            .filter(|t| !t.is_empty())
            .map(|t| self.decode_key::<K>(binding, t))
            .transpose()?;
        if let Some(cursor) = after {
            items.retain(|(key, _)| match direction {
                Direction::Desc => *key < cursor,
                Direction::Asc => *key > cursor,
            });
        }
        match direction {
            Direction::Desc => items.sort_unstable_by(|a, b| b.0.cmp(&a.0)),
            Direction::Asc => items.sort_unstable_by(|a, b| a.0.cmp(&b.0)),
        }
        let more = items.len() > self.page_size;
        items.truncate(self.page_size);
        let next = if more {
            items.last().map(|(key, _)| self.encode(binding, key))
        } else {
            None
        };
        Ok((items.into_iter().map(|(_, item)| item).collect(), next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding<'a>(bot: &'a str, fingerprint: &'a str) -> Binding<'a> {
        Binding {
            bot,
            operation: "listUsers",
            fingerprint,
        }
    }

    #[test]
    fn walks_every_item_once_newest_first() {
        let pager = Pager::new([7; 32], 20, false);
        let items: Vec<(SortKey, u64)> = (0..45).map(|i| ((i as i64, i), i)).collect();
        let b = binding("bot_a", "");
        let (first, token) = pager.page(&b, None, Direction::Desc, items.clone()).unwrap();
        assert_eq!(first.len(), 20);
        assert_eq!(first[0], 44);
        let (second, token) = pager
            .page(&b, token.as_deref(), Direction::Desc, items.clone())
            .unwrap();
        let (third, token) = pager.page(&b, token.as_deref(), Direction::Desc, items).unwrap();
        assert_eq!(third.len(), 5);
        assert!(token.is_none());
        let mut all: Vec<_> = first.into_iter().chain(second).chain(third).collect();
        all.sort();
        assert_eq!(all, (0..45).collect::<Vec<_>>());
    }

    #[test]
    fn tokens_are_bound_to_bot_and_filters() {
        let pager = Pager::new([7; 32], 20, false);
        let token = pager.encode(&binding("bot_a", "tags.a=1&"), &(5i64, 5u64));
        assert!(pager.decode(&binding("bot_a", "tags.a=1&"), &token).is_ok());
        assert!(pager.decode(&binding("bot_b", "tags.a=1&"), &token).is_err());
        assert!(pager.decode(&binding("bot_a", "tags.a=2&"), &token).is_err());
        assert!(pager.decode(&binding("bot_a", "tags.a=1&"), "garbage").is_err());
        let mut tampered = token.into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        assert!(
            pager
                .decode(&binding("bot_a", "tags.a=1&"), std::str::from_utf8(&tampered).unwrap())
                .is_err()
        );
    }

    #[test]
    fn text_keys_walk_in_text_order() {
        let pager = Pager::new([7; 32], 2, false);
        let b = binding("bot_a", "");
        let key = |t: &str, seq| TextKey {
            text: t.into(),
            number: 0,
            seq,
        };
        let items = vec![(key("b.txt", 1), 1), (key("a.txt", 2), 2), (key("c.txt", 3), 3)];
        let (first, token) = pager.page(&b, None, Direction::Asc, items.clone()).unwrap();
        assert_eq!(first, [2, 1]);
        let (second, token) = pager.page(&b, token.as_deref(), Direction::Asc, items).unwrap();
        assert_eq!(second, [3]);
        assert!(token.is_none());
        let token = pager.encode(&b, &key("é/x", 9));
        assert_eq!(pager.decode_key::<TextKey>(&b, &token).unwrap(), key("é/x", 9));
    }
}
