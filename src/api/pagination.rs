//! Cursor pagination and `updated_since`, shared by every list.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::error::{AppError, ErrorCode};

pub const DEFAULT_LIMIT: i64 = 50;
/// How far `next_updated_since` reaches back before the read it comes with: a write that
/// had taken its timestamp but not yet committed when the list was read commits within
/// this, and is then caught by the next sync. The cost is that the last few seconds of
/// changes may come twice, in two syncs (never twice in one).
pub const SYNC_OVERLAP_SECS: i64 = 10;
pub const MAX_LIMIT: i64 = 200;

/// An optional id in a list's query (`project_id=7`).
pub fn id_param(name: &str, v: Option<&str>) -> Result<Option<i64>, AppError> {
    v.map(|s| {
        s.parse::<i64>().map_err(|_| {
            AppError::with_detail(ErrorCode::InvalidQuery, format!("{name} must be a number"))
        })
    })
    .transpose()
}

/// The paging part of a list query, parsed.
#[derive(Debug, Clone, Copy)]
pub struct PageParams {
    pub limit: i64,
    pub after_id: Option<i64>,
    pub updated_since: Option<NaiveDateTime>,
}

impl PageParams {
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        updated_since: Option<&str>,
    ) -> Result<PageParams, AppError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    AppError::with_detail(
                        ErrorCode::InvalidQuery,
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let after_id = cursor.map(decode_cursor).transpose()?;
        let updated_since = updated_since.map(parse_timestamp).transpose()?;
        Ok(PageParams {
            limit,
            after_id,
            updated_since,
        })
    }

    /// Rows to fetch: one more than asked, to know whether a next page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// `{ "items": [...], "next_cursor": "..." | null }`
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `fetch()` rows ordered by id.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        params: &PageParams,
        id: impl Fn(&R) -> i64,
        view: impl Fn(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > params.limit;
        rows.truncate(params.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

/// A cursor is the id of the last item of the previous page, in decimal: `openapi.yaml`
/// documents it as 1 to 18 digits, and every such value is a valid position.
pub fn encode_cursor(id: i64) -> String {
    id.to_string()
}

fn decode_cursor(raw: &str) -> Result<i64, AppError> {
    Some(raw)
        .filter(|r| (1..=18).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|r| r.parse::<i64>().ok())
        .ok_or_else(|| AppError::new(ErrorCode::InvalidCursor))
}

/// An RFC 3339 timestamp, as sent by a client, in UTC.
pub fn parse_timestamp(raw: &str) -> Result<NaiveDateTime, AppError> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .map_err(|_| {
            AppError::with_detail(
                ErrorCode::InvalidQuery,
                "updated_since must be an RFC 3339 timestamp such as 2026-11-28T08:00:00Z",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() -> Result<(), AppError> {
        let p = PageParams::parse(Some("2"), Some(&encode_cursor(41)), None)?;
        assert_eq!(p.after_id, Some(41));
        assert_eq!(
            PageParams::parse(None, Some("!!"), None)
                .err()
                .map(|e| e.code),
            Some(ErrorCode::InvalidCursor)
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "1234567890123456789",
            " 1",
            "aWQ6NDE",
        ] {
            assert!(PageParams::parse(None, Some(bad), None).is_err(), "{bad:?}");
        }
        assert_eq!(
            PageParams::parse(None, Some("000"), None)?.after_id,
            Some(0)
        );
        assert!(PageParams::parse(Some("0"), None, None).is_err());
        assert!(PageParams::parse(Some("201"), None, None).is_err());
        assert!(PageParams::parse(None, None, Some("yesterday")).is_err());
        Ok(())
    }

    #[test]
    fn a_full_page_has_a_next_cursor_and_the_last_does_not() -> Result<(), AppError> {
        let p = PageParams::parse(Some("2"), None, None)?;
        let page = Page::from_rows(vec![1, 2, 3], &p, |r| *r, |r| r);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(encode_cursor(2)));
        let last = Page::from_rows(vec![3], &p, |r| *r, |r| r);
        assert_eq!(last.next_cursor, None);
        Ok(())
    }
}

/// A page of a list a phone keeps in sync: the page, and what to pass as `updated_since`
/// on the next sync once the last page of this one has been read.
#[derive(Debug, Serialize)]
pub struct SyncPage<T> {
    #[serde(flatten)]
    pub page: Page<T>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub next_updated_since: NaiveDateTime,
}

impl<T> SyncPage<T> {
    /// `read_at`: the time taken just before the rows were read.
    pub fn new(page: Page<T>, read_at: NaiveDateTime) -> SyncPage<T> {
        SyncPage {
            page,
            next_updated_since: next_updated_since(read_at),
        }
    }
}

/// What a sync passes as `updated_since` after a page read at `read_at` (the time taken just
/// before the rows were read): a little earlier, to cover writes that committed meanwhile.
pub fn next_updated_since(read_at: NaiveDateTime) -> NaiveDateTime {
    read_at - chrono::Duration::seconds(SYNC_OVERLAP_SECS)
}
