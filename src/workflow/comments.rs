//! A comment on an issue: the row, its timeline event, the issue touched, and who hears of
//! it — one transaction script.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::{self, DbConn, issues::CommentRow};
use crate::domain::lifecycle::EventKind;
use crate::domain::role::Actor;
use crate::error::AppError;
use crate::notify::outbox;
use crate::workflow::access::sees_internal;
use crate::workflow::issue::{By, with_issue};

/// Adds `text` (already checked) to issue `id` as `actor`; an internal comment only from
/// those who read internal ones.
pub fn add(
    c: &mut DbConn,
    actor: &Actor,
    id: i64,
    text: &str,
    internal: bool,
    now: NaiveDateTime,
) -> Result<CommentRow, AppError> {
    if internal && !sees_internal(actor) {
        return Err(AppError::forbidden());
    }
    with_issue(c, By::Person(actor), id, |c, issue| {
        let row = db::issues::add_comment(c, id, actor.id, text, internal, now)?;
        db::issues::add_event(
            c,
            id,
            EventKind::Comment,
            Some(actor.id),
            now,
            &json!({ "comment_id": row.id, "body": row.body, "internal": row.internal }),
            row.internal,
        )?;
        db::issues::touch(c, id, now)?;
        outbox::after_comment(c, &issue, actor.id, &row.body, row.internal)?;
        Ok(row)
    })
}
