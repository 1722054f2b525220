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

/// Admits one login attempt, or refuses it. Inside a write transaction: when no key is
/// locked, the attempt is counted against every key *before* the password is checked, so
/// that parallel guesses cannot all pass the check before any failure is recorded; the
/// caller takes the count back with [`forgive`] when the password was right. Answers the
/// seconds to wait when a key is locked (nothing is written then).
pub fn admit(
    conn: &mut DbConn,
    keys: &[(&str, u32)],
    now: chrono::NaiveDateTime,
    policy: &crate::config::ThrottleSettings,
) -> QueryResult<Option<u64>> {
    use crate::domain::throttle;
    lock_in_order(conn, keys.iter().map(|(k, _)| *k), Some(now))?;
    let mut records = Vec::with_capacity(keys.len());
    let mut wait = None;
    for (key, _) in keys {
        let record = load(conn, key)?;
        wait = wait.max(throttle::retry_after(record.as_ref(), now));
        records.push(record);
    }
    if wait.is_some() {
        return Ok(wait);
    }
    for ((key, limit), record) in keys.iter().zip(records) {
        let after = throttle::after_failure(record.as_ref(), now, *limit, policy);
        store(conn, key, &after)?;
    }
    Ok(None)
}

/// On PostgreSQL, the rows of `keys` locked until the end of the transaction, so that
/// concurrent attempts on one key count one after the other; with `create_at`, each row is
/// made first if it is missing. Every transaction that locks more than one key locks them
/// here, in one order (sorted), so that two of them never each hold a row the other waits
/// for. (SQLite's write transactions are serial already.)
fn lock_in_order<'k>(
    conn: &mut DbConn,
    keys: impl IntoIterator<Item = &'k str>,
    create_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<()> {
    use diesel::sql_types::{Text, Timestamp};
    let DbConn::Pg(pg) = conn else {
        return Ok(());
    };
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    for key in keys {
        if let Some(now) = create_at {
            diesel::sql_query(
                "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
                 VALUES ($1, 0, $2, NULL) ON CONFLICT (key) DO NOTHING",
            )
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .execute(pg)?;
        }
        diesel::sql_query("SELECT key FROM login_throttle WHERE key = $1 FOR UPDATE")
            .bind::<Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
}

/// After the right password at a login [`admit`] counted: the username's count cleared and
/// the attempt counted against the address taken back. The two rows are locked first, in
/// the order `admit` locks them: taken the other way round, a login that succeeded held the
/// username's row and waited for the address's while one being admitted held the address's
/// and waited for the username's, and PostgreSQL broke the cycle by failing one of them.
pub fn succeeded(
    conn: &mut DbConn,
    user_key: &str,
    address_key: &str,
    address_limit: u32,
) -> QueryResult<()> {
    lock_in_order(conn, [user_key, address_key], None)?;
    clear(conn, user_key)?;
    forgive(conn, address_key, address_limit)
}

/// Takes back the attempt [`admit`] counted against `key`, after the right password.
pub fn forgive(conn: &mut DbConn, key: &str, limit: u32) -> QueryResult<()> {
    let Some(record) = load(conn, key)? else {
        return Ok(());
    };
    let forgiven = crate::domain::throttle::forgive_one(&record, limit);
    store(conn, key, &forgiven)
}

pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::delete(login_throttle::table.find(key)).execute(conn)
}
