//! The `idempotency_keys` table: the first answer to each (user, key), kept for replay.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::idempotency_keys as k;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = k)]
pub struct StoredRow {
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub headers: String,
    pub created_at: NaiveDateTime,
}

/// What `reserve` found.
pub enum Reservation {
    /// The key is new (or its earlier use expired): it is now held by this transaction.
    Fresh,
    /// The key was used: its stored answer.
    Used(StoredRow),
}

fn find(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
    not_before: NaiveDateTime,
) -> QueryResult<Option<StoredRow>> {
    k::table
        .filter(k::user_id.eq(user_id))
        .filter(k::key.eq(key))
        .filter(k::created_at.ge(not_before))
        .select(StoredRow::as_select())
        .first(conn)
        .optional()
}

/// Holds `key` for the caller's write transaction, or returns its stored answer. Uses
/// older than `not_before` are expired and forgotten. On PostgreSQL a second transaction
/// with the same key waits on the first one's row until it commits, then reads its answer;
/// on SQLite writes are serial and the second simply finds the row.
pub fn reserve(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
    not_before: NaiveDateTime,
) -> QueryResult<Reservation> {
    if let Some(row) = find(conn, user_id, key, not_before)? {
        return Ok(Reservation::Used(row));
    }
    // Only an expired use of the key is cleared: a fresh one committed by a concurrent
    // request after the look-up above must stay, so that this request meets it (unique
    // violation below) and replays its answer instead of doing the work again.
    diesel::delete(
        k::table
            .filter(k::user_id.eq(user_id))
            .filter(k::key.eq(key))
            .filter(k::created_at.lt(not_before)),
    )
    .execute(conn)?;
    let inserted = conn.transaction(|c| {
        diesel::insert_into(k::table)
            .values((
                k::user_id.eq(user_id),
                k::key.eq(key),
                k::request_hash.eq(request_hash),
                k::status.eq(0),
                k::body.eq(""),
                k::headers.eq("[]"),
                k::created_at.eq(now),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(Reservation::Fresh),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => match find(conn, user_id, key, not_before)? {
            Some(row) => Ok(Reservation::Used(row)),
            None => Err(diesel::result::Error::NotFound),
        },
        Err(e) => Err(e),
    }
}

/// Records the answer given under a key held by `reserve`.
pub fn complete(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
    status: i32,
    body: &str,
    headers: &str,
) -> QueryResult<usize> {
    diesel::update(
        k::table
            .filter(k::user_id.eq(user_id))
            .filter(k::key.eq(key)),
    )
    .set((
        k::status.eq(status),
        k::body.eq(body),
        k::headers.eq(headers),
    ))
    .execute(conn)
}

/// Forgets every key used before `before`. Returns how many.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(k::table.filter(k::created_at.lt(before))).execute(conn)
}
