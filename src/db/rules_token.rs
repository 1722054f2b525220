//! The `rules_token` row: a token that changes with every change to the rules filing and
//! the SLA clocks follow (routing rules, SLA policies, business calendars), so that an
//! instance holding them (`workflow::rulebook`) learns whether they are still current from
//! one indexed read. The writers of those three tables, all in `db`, renew it in the same
//! transaction as their change.
//!
//! The token is random rather than counted: a database put back from a copy carries the
//! token of the rules it holds, which an instance can only have seen with those same rules.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use diesel::prelude::*;

use super::schema::rules_token;
use super::{DbConn, native};

/// The token now.
pub fn token(conn: &mut DbConn) -> QueryResult<i64> {
    native!(conn, c => rules_token::table
        .find(1)
        .select(rules_token::token)
        .first(c))
}

/// Sets a new token, inside the caller's write transaction that changes the rules.
pub(super) fn renew(conn: &mut DbConn) -> QueryResult<()> {
    let token = OsRng.next_u64() as i64;
    diesel::update(rules_token::table.find(1))
        .set(rules_token::token.eq(token))
        .execute(conn)?;
    Ok(())
}
