//! Refresh-token sessions: a login starts a family; each refresh spends one token and
//! issues the next; presenting a spent token again revokes the whole family.

use chrono::{NaiveDateTime, TimeDelta};

use crate::auth::tokens::{hash_refresh_token, random_token};
use crate::db::{self, DbConn, refresh_tokens};
use crate::error::ApiError;

/// What happened to a presented refresh token.
pub enum Rotation {
    /// The token was good: here is the user and the next token of the family.
    Rotated { user_id: i64, refresh_token: String },
    /// The token was spent already: the family is now revoked.
    ReuseDetected,
    /// Unknown, revoked or expired.
    Invalid,
}

/// Starts a new family for a fresh login and returns its first token.
pub fn start(
    conn: &mut DbConn,
    user_id: i64,
    ttl: TimeDelta,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let family = random_token(16);
    issue(conn, user_id, &family, ttl, now)
}

fn issue(
    conn: &mut DbConn,
    user_id: i64,
    family: &str,
    ttl: TimeDelta,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let token = random_token(32);
    refresh_tokens::insert(
        conn,
        &refresh_tokens::NewRefreshToken {
            user_id,
            family_id: family,
            token_hash: &hash_refresh_token(&token),
            created_at: now,
            expires_at: now + ttl,
        },
    )?;
    Ok(token)
}

/// Spends `token` and issues its successor, inside the caller's write transaction.
/// `ReuseDetected` must be committed (the revocation is the point), so it is an `Ok`.
pub fn rotate(
    conn: &mut DbConn,
    token: &str,
    ttl: TimeDelta,
    now: NaiveDateTime,
) -> Result<Rotation, ApiError> {
    let Some(row) = refresh_tokens::find_by_hash(conn, &hash_refresh_token(token))? else {
        return Ok(Rotation::Invalid);
    };
    if row.revoked_at.is_some() {
        return Ok(Rotation::Invalid);
    }
    if row.used_at.is_some() {
        refresh_tokens::revoke_family(conn, &row.family_id, now)?;
        tracing::warn!(
            user_id = row.user_id,
            "a spent refresh token was presented again: session family revoked"
        );
        return Ok(Rotation::ReuseDetected);
    }
    if row.expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    let active = db::users::find(conn, row.user_id)?.is_some_and(|u| u.active);
    if !active {
        return Ok(Rotation::Invalid);
    }
    // Compare-and-set: of two concurrent refreshes with one token, exactly one wins;
    // the loser is treated as a reuse.
    if refresh_tokens::mark_used(conn, row.id, now)? == 0 {
        refresh_tokens::revoke_family(conn, &row.family_id, now)?;
        return Ok(Rotation::ReuseDetected);
    }
    let next = issue(conn, row.user_id, &row.family_id, ttl, now)?;
    Ok(Rotation::Rotated {
        user_id: row.user_id,
        refresh_token: next,
    })
}

/// Ends the session the token belongs to. Unknown tokens are ignored.
/// Ends the session of a refresh token; returns whose it was, if it was known.
pub fn end(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Option<i64>, ApiError> {
    if let Some(row) = refresh_tokens::find_by_hash(conn, &hash_refresh_token(token))? {
        refresh_tokens::revoke_family(conn, &row.family_id, now)?;
        return Ok(Some(row.user_id));
    }
    Ok(None)
}
