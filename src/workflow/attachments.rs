//! A file kept on an issue: its row (the bytes are already stored), its timeline event and
//! the issue touched — one transaction script.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::{self, DbConn, attachments::AttachmentRow};
use crate::domain::lifecycle::EventKind;
use crate::domain::role::Actor;
use crate::error::AppError;
use crate::workflow::access::may_attach;
use crate::workflow::issue::{By, with_issue};

/// What is known of a stored file when its row is written.
pub struct StoredFile<'a> {
    pub comment_id: Option<i64>,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub location_kept: bool,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// Records `file` on issue `id` for `actor`. A file on a comment goes on the actor's own
/// comment of that issue, and is as internal as the comment.
pub fn record(
    c: &mut DbConn,
    actor: &Actor,
    id: i64,
    file: &StoredFile<'_>,
    now: NaiveDateTime,
) -> Result<AttachmentRow, AppError> {
    with_issue(c, By::Person(actor), id, |c, issue| {
        if !may_attach(actor, &issue) {
            return Err(AppError::forbidden());
        }
        let mut internal = false;
        if let Some(cid) = file.comment_id {
            let comment = db::issues::comment(c, cid)?
                .filter(|k| k.issue_id == issue.id)
                .ok_or_else(|| {
                    AppError::field("comment_id", "not_found", "no such comment on this issue")
                })?;
            if comment.author_id != actor.id {
                return Err(AppError::field(
                    "comment_id",
                    "not_yours",
                    "files go on your own comments",
                ));
            }
            internal = comment.internal;
        }
        let row = db::attachments::insert(
            c,
            &db::attachments::NewAttachment {
                issue_id: id,
                comment_id: file.comment_id,
                uploader_id: actor.id,
                file_name: file.file_name,
                content_type: file.content_type,
                size: file.size,
                sha256: file.sha256,
                storage_key: file.storage_key,
                location_kept: file.location_kept,
                width: file.width,
                height: file.height,
                created_at: now,
            },
        )?;
        db::issues::add_event(
            c,
            id,
            EventKind::Attachment,
            Some(actor.id),
            now,
            &json!({
                "attachment_id": row.id,
                "comment_id": row.comment_id,
                "file_name": row.file_name,
                "content_type": row.content_type,
                "size": row.size,
            }),
            internal,
        )?;
        db::issues::touch(c, id, now)?;
        Ok(row)
    })
}
