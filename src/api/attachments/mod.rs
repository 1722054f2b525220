//! Photos and files on issues and comments (附件): uploaded as multipart, checked by
//! content, cleaned of location metadata, kept in `storage`, served with the issue's
//! authorisation, ranges and thumbnails.

pub mod download;
pub mod receive;
pub mod upload;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::attachments::AttachmentRow;
use crate::media::sniff::Kind;

#[derive(Debug, Serialize)]
pub struct AttachmentView {
    pub id: i64,
    pub issue_id: i64,
    pub comment_id: Option<i64>,
    pub uploader_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Whether the photo kept its GPS position (the observer chose to attach it).
    pub location_kept: bool,
    pub url: String,
    /// A small JPEG preview; `null` for PDF and HEIC.
    pub thumbnail_url: Option<String>,
    #[serde(serialize_with = "crate::api::time::serialize")]
    pub created_at: NaiveDateTime,
}

impl From<AttachmentRow> for AttachmentView {
    fn from(a: AttachmentRow) -> Self {
        let thumb = Kind::from_content_type(&a.content_type).is_some_and(Kind::has_thumbnail);
        AttachmentView {
            url: format!("/api/v1/attachments/{}", a.id),
            thumbnail_url: thumb.then(|| format!("/api/v1/attachments/{}/thumbnail", a.id)),
            id: a.id,
            issue_id: a.issue_id,
            comment_id: a.comment_id,
            uploader_id: a.uploader_id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            width: a.width,
            height: a.height,
            location_kept: a.location_kept,
            created_at: a.created_at,
        }
    }
}
