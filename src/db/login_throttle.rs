//! The `login_throttle` table: failed-login counts per username and per client address,
//! kept in the database so that several instances share them.

use diesel::prelude::*;

use super::DbConn;
use super::schema::login_throttle;
use crate::domain::throttle::FailureRecord;

pub fn load(conn: &mut DbConn, key: &str) -> QueryResult<Option<FailureRecord>> {
    login_throttle::table
        .find(key)
        .select((
            login_throttle::failures,
            login_throttle::window_started_at,
            login_throttle::locked_until,
        ))
        .first(conn)
        .optional()
        .map(|row| {
            row.map(
                |(failures, window_started_at, locked_until)| FailureRecord {
                    failures,
                    window_started_at,
                    locked_until,
                },
            )
        })
}

/// Writes a key's record; inside a write transaction, so the read before it is current.
pub fn store(conn: &mut DbConn, key: &str, r: &FailureRecord) -> QueryResult<()> {
    let updated = diesel::update(login_throttle::table.find(key))
        .set((
            login_throttle::failures.eq(r.failures),
            login_throttle::window_started_at.eq(r.window_started_at),
            login_throttle::locked_until.eq(r.locked_until),
        ))
        .execute(conn)?;
    if updated > 0 {
        return Ok(());
    }
    // A savepoint, so that losing an insert race does not abort the whole transaction
    // on PostgreSQL; the winner's row is then updated instead.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::key.eq(key),
                login_throttle::failures.eq(r.failures),
                login_throttle::window_started_at.eq(r.window_started_at),
                login_throttle::locked_until.eq(r.locked_until),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_unique_violation(&e) => {
            diesel::update(login_throttle::table.find(key))
                .set((
                    login_throttle::failures.eq(login_throttle::failures + 1),
                    login_throttle::locked_until.eq(r.locked_until),
                ))
                .execute(conn)
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}

pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::delete(login_throttle::table.find(key)).execute(conn)
}
