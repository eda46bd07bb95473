//! Keyset pagination: opaque cursors and page-size checks shared by every connection.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Page size used when a query gives no `first`.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// One page of a connection.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `LIMIT limit + 1`: the extra row,
    /// if present, only tells that a next page exists.
    pub fn from_rows(
        mut rows: Vec<T>,
        limit: u64,
        after_given: bool,
        total_count: u64,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let items = rows.into_iter().map(|row| (cursor_of(&row), row)).collect();
        Page { items, has_next_page, has_previous_page: after_given, total_count }
    }
}

/// Position of a row in one ordering: the ordering's name, the row's sort key
/// (null for rows whose key is null) and its id, which breaks ties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "o")]
    pub ordering: String,
    #[serde(rename = "k")]
    pub key: Option<String>,
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        // Serializing a struct of strings and a UUID cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Decodes a cursor from `after`; it must come from the same ordering.
    pub fn decode(raw: &str, expected_ordering: &str) -> AppResult<Cursor> {
        let invalid = || {
            AppError::bad_input(
                "after",
                "is not a cursor of this list; pass an `endCursor` returned with the same filter and order, or leave it out",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.ordering != expected_ordering {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

/// Returns the condition for rows after `cursor` in a newest-first list
/// ordered by the instant column `at`, with ties broken by `id` descending.
pub fn after_newest_first<C: ColumnTrait>(at: C, id: C, cursor: &Cursor) -> AppResult<Condition> {
    let instant = cursor
        .key
        .as_deref()
        .and_then(|key| DateTime::parse_from_rfc3339(key).ok())
        .map(|parsed| parsed.with_timezone(&Utc))
        .ok_or_else(|| AppError::bad_input("after", "is not a cursor of this list; leave it out to start over"))?;
    Ok(Condition::any()
        .add(at.lt(instant))
        .add(Condition::all().add(at.eq(instant)).add(id.lt(cursor.id))))
}

/// Checks `first` and returns how many rows to return.
pub fn page_size(first: Option<i32>, max: u32) -> AppResult<u64> {
    match first {
        None => Ok(u64::from(DEFAULT_PAGE_SIZE.min(max))),
        Some(value) if value < 0 => Err(AppError::bad_input("first", "must not be negative")),
        Some(value) if value as u32 > max => {
            Err(AppError::bad_input("first", format!("must be at most {max}; page through the rest with `after`")))
        }
        Some(value) => Ok(value as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let cursor = Cursor { ordering: "USERNAME_ASC".into(), key: Some("ana".into()), id: Uuid::nil() };
        assert_eq!(Cursor::decode(&cursor.encode(), "USERNAME_ASC").unwrap(), cursor);
    }

    #[test]
    fn cursor_of_other_ordering_is_rejected() {
        let cursor = Cursor { ordering: "USERNAME_ASC".into(), key: None, id: Uuid::nil() };
        assert!(Cursor::decode(&cursor.encode(), "CREATED_AT_ASC").is_err());
        assert!(Cursor::decode("not a cursor", "CREATED_AT_ASC").is_err());
    }

    #[test]
    fn page_size_bounds() {
        assert_eq!(page_size(None, 100).unwrap(), 50);
        assert_eq!(page_size(Some(0), 100).unwrap(), 0);
        assert!(page_size(Some(-1), 100).is_err());
        assert!(page_size(Some(101), 100).is_err());
    }
}
