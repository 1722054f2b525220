//! The `attachments` table: metadata of photos and files; the bytes are in storage.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::attachments as a;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct AttachmentRow {
    pub id: i64,
    pub issue_id: i64,
    pub comment_id: Option<i64>,
    pub uploader_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub location_kept: bool,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = a)]
pub struct NewAttachment<'a> {
    pub issue_id: i64,
    pub comment_id: Option<i64>,
    pub uploader_id: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub location_kept: bool,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, n: &NewAttachment<'_>) -> QueryResult<AttachmentRow> {
    let id: i64 = diesel::insert_into(a::table)
        .values(n)
        .returning(a::id)
        .get_result(conn)?;
    a::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
}

/// Whether an attachment row points at `storage_key`.
pub fn key_is_known(conn: &mut DbConn, storage_key: &str) -> QueryResult<bool> {
    use diesel::dsl::exists;
    diesel::select(exists(a::table.filter(a::storage_key.eq(storage_key)))).get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<AttachmentRow>> {
    a::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()
}

/// An issue's attachments, oldest first; `hidden_comments` are left out (internal ones,
/// for a caller who may not read them).
pub fn of_issue(
    conn: &mut DbConn,
    issue_id: i64,
    hidden_comments: &[i64],
) -> QueryResult<Vec<AttachmentRow>> {
    let mut q = a::table
        .filter(a::issue_id.eq(issue_id))
        .select(AttachmentRow::as_select())
        .into_boxed();
    if !hidden_comments.is_empty() {
        q = q.filter(
            a::comment_id
                .is_null()
                .or(a::comment_id.ne_all(hidden_comments.to_vec())),
        );
    }
    q.order(a::id.asc()).load(conn)
}
