//! Refresh-token sessions: a login starts a family; each refresh spends one token and
//! issues the next; presenting a spent token again revokes the whole family.

use chrono::{NaiveDateTime, TimeDelta};

use crate::auth::tokens::{TokenService, hash_refresh_token, random_token};
use crate::db::{self, DbConn, refresh_tokens};
use crate::error::AppError;

/// What happened to a presented refresh token.
pub enum Rotation {
    /// The token was good (or retried within the grace window): here is the user, the next
    /// token of the family and the session it belongs to.
    Rotated {
        user_id: i64,
        refresh_token: String,
        session: String,
    },
    /// The token was spent already: the family is now revoked.
    ReuseDetected,
    /// Unknown, revoked or expired.
    Invalid,
}

/// How rotation treats a token: the key its successors are derived with, their lifetime,
/// and how long after spending a token its retry is answered again instead of revoking.
pub struct RotationPolicy<'a> {
    pub tokens: &'a TokenService,
    pub ttl: TimeDelta,
    pub reuse_grace: TimeDelta,
}

/// Starts a new family for a fresh login: its first token and the session id.
pub fn start(
    conn: &mut DbConn,
    user_id: i64,
    ttl: TimeDelta,
    now: NaiveDateTime,
) -> Result<(String, String), AppError> {
    let family = random_token(16);
    let token = random_token(32);
    store(conn, user_id, &family, &token, now + ttl, now)?;
    Ok((token, family))
}

fn store(
    conn: &mut DbConn,
    user_id: i64,
    family: &str,
    token: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    refresh_tokens::insert(
        conn,
        &refresh_tokens::NewRefreshToken {
            user_id,
            family_id: family,
            token_hash: &hash_refresh_token(token),
            created_at: now,
            expires_at,
        },
    )?;
    Ok(())
}

/// Spends `token` and issues its successor, inside the caller's write transaction.
/// `ReuseDetected` must be committed (the revocation is the point), so it is an `Ok`.
///
/// A token spent less than `reuse_grace` ago whose successor is still unused is a retry of
/// a refresh whose answer was lost (a phone on one bar of signal): it gets the same
/// successor again. Any other reuse revokes the whole family.
pub fn rotate(
    conn: &mut DbConn,
    token: &str,
    policy: &RotationPolicy<'_>,
    now: NaiveDateTime,
) -> Result<Rotation, AppError> {
    let Some(row) = refresh_tokens::find_by_hash(conn, &hash_refresh_token(token))? else {
        return Ok(Rotation::Invalid);
    };
    if row.revoked_at.is_some() {
        return Ok(Rotation::Invalid);
    }
    let active = db::users::find(conn, row.user_id)?.is_some_and(|u| u.active);
    if row.used_at.is_none() {
        if row.expires_at <= now || !active {
            return Ok(Rotation::Invalid);
        }
        // Compare-and-set: of two concurrent refreshes with one token, exactly one spends
        // it; the other finds it spent just now and is answered by the grace rule below.
        if refresh_tokens::mark_used(conn, row.id, now)? == 1 {
            let next = policy.tokens.successor(token);
            store(
                conn,
                row.user_id,
                &row.family_id,
                &next,
                now + policy.ttl,
                now,
            )?;
            return Ok(Rotation::Rotated {
                user_id: row.user_id,
                refresh_token: next,
                session: row.family_id,
            });
        }
    }
    let spent_at = refresh_tokens::find_by_hash(conn, &hash_refresh_token(token))?
        .and_then(|r| r.used_at)
        .unwrap_or(now);
    let next = policy.tokens.successor(token);
    let successor = refresh_tokens::find_by_hash(conn, &hash_refresh_token(&next))?;
    let retried_in_grace = now - spent_at <= policy.reuse_grace
        && active
        && successor
            .as_ref()
            .is_some_and(|s| s.used_at.is_none() && s.revoked_at.is_none() && s.expires_at > now);
    if retried_in_grace {
        return Ok(Rotation::Rotated {
            user_id: row.user_id,
            refresh_token: next,
            session: row.family_id,
        });
    }
    refresh_tokens::revoke_family(conn, &row.family_id, now)?;
    tracing::warn!(
        user_id = row.user_id,
        "a spent refresh token was presented again: session family revoked"
    );
    Ok(Rotation::ReuseDetected)
}

/// Ends the session of a refresh token (unknown tokens are ignored); returns whose it was,
/// if it was known.
pub fn end(conn: &mut DbConn, token: &str, now: NaiveDateTime) -> Result<Option<i64>, AppError> {
    if let Some(row) = refresh_tokens::find_by_hash(conn, &hash_refresh_token(token))? {
        refresh_tokens::revoke_family(conn, &row.family_id, now)?;
        return Ok(Some(row.user_id));
    }
    Ok(None)
}
