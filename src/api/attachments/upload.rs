//! `POST /api/v1/issues/{id}/attachments` and `GET /api/v1/issues/{id}/attachments`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::attachments::AttachmentView;
use crate::api::attachments::receive::{Received, TempFile, receive};
use crate::api::idempotency::{Answer, Once};
use crate::api::issues::{scope, sees_internal};
use crate::auth::AuthUser;
use crate::db::{self, run_blocking};
use crate::error::{AppError, ErrorCode};
use crate::media::sniff::Kind;
use crate::state::AppState;
use crate::workflow::access::may_attach;
use crate::workflow::attachments::{self, StoredFile};

/// The file as it will be kept.
struct Prepared {
    size: i64,
    sha256: String,
    width: Option<i32>,
    height: Option<i32>,
}

pub async fn upload(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let issue_id = id.into_inner();
    may_attach_to(&state, &auth, issue_id).await?;
    let temp_dir = state.settings.data_dir.join("tmp");
    let mut got = receive(&req, payload, &temp_dir, state.settings.max_upload_bytes).await?;
    let fingerprint = json!({
        "sha256": got.sent_sha256,
        "file_name": got.file_name,
        "comment_id": got.comment_id,
        "keep_location": got.keep_location,
    });
    let once = Once::json(&req, state.settings.idempotency_ttl, &fingerprint)?;

    // Location and other metadata out of photos, unless the observer chose to keep it.
    let (kept, prepared) = prepare(&mut got, &temp_dir).await?;
    let key = format!(
        "issues/{issue_id}/{}.{}",
        crate::auth::tokens::random_token(18),
        got.kind.extension()
    );
    // The bytes are stored before the row that points at them is committed.
    state
        .storage
        .put_file(&key, &kept.0)
        .await
        .map_err(|e| AppError::internal(format!("storing an attachment: {e:#}")))?;
    let actor = auth.actor();
    let (file_name, kind, comment_id, keep) = (
        got.file_name.clone(),
        got.kind,
        got.comment_id,
        got.keep_location,
    );
    let stored_key = key.clone();
    let written = state
        .db
        .write(move |c| {
            let now = db::now();
            once.run(c, actor.id, now, |c| {
                let file = StoredFile {
                    comment_id,
                    file_name: &file_name,
                    content_type: kind.content_type(),
                    size: prepared.size,
                    sha256: &prepared.sha256,
                    storage_key: &stored_key,
                    location_kept: keep,
                    width: prepared.width,
                    height: prepared.height,
                };
                let row = attachments::record(c, &actor, issue_id, &file, now)?;
                let view = AttachmentView::from(row);
                Ok(Answer::json(StatusCode::CREATED, &view)?
                    .header(header::LOCATION, view.url.clone())
                    .header(header::ETAG, format!("\"{}\"", view.sha256)))
            })
        })
        .await;
    // A replay's copy is not needed (the first request stored its own), nor a failed one's.
    if !matches!(written, Ok((_, false))) {
        discard(&state, &key).await;
    }
    let (answer, replayed) = written?;
    Ok(answer.into_response(replayed))
}

/// Who may attach is known before a byte of the body is read.
async fn may_attach_to(state: &AppState, auth: &AuthUser, issue_id: i64) -> Result<(), AppError> {
    let scope = scope(&auth.actor());
    let issue = state
        .db
        .read(move |c| Ok(db::issues::find_visible(c, scope, issue_id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    if may_attach(&auth.actor(), &issue) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

async fn discard(state: &AppState, key: &str) {
    if let Err(e) = state.storage.delete(key).await {
        tracing::warn!(key, error = %e, "could not remove an unused attachment from storage");
    }
}

/// The most pixels an uploaded image may declare: a phone's largest photos are about 50
/// megapixels, and a thumbnail of anything larger would cost hundreds of megabytes to draw.
const MAX_PIXELS: u64 = crate::media::thumbnail::MAX_PIXELS;

/// Strips an image's metadata (where phones put the position) into a second temporary file
/// unless the location is to be kept; refuses what cannot be cleaned or is too large to
/// draw; then measures what will be stored.
async fn prepare(
    got: &mut Received,
    temp_dir: &std::path::Path,
) -> Result<(TempFile, Prepared), AppError> {
    let source = std::mem::replace(&mut got.temp, TempFile(std::path::PathBuf::new()));
    let kind = got.kind;
    if kind == Kind::Heic && !got.keep_location {
        return Err(AppError::new(ErrorCode::LocationNotRemovable));
    }
    let strip = matches!(kind, Kind::Jpeg | Kind::Png | Kind::Webp) && !got.keep_location;
    let out = if strip {
        Some(TempFile::new(temp_dir)?)
    } else {
        None
    };
    run_blocking(move || -> Result<(TempFile, Prepared), AppError> {
        let dims = if kind.has_thumbnail() {
            crate::media::thumbnail::dimensions(&source.0)
        } else {
            None
        };
        if dims.is_some_and(|(w, h)| u64::from(w) * u64::from(h) > MAX_PIXELS) {
            return Err(AppError::new(ErrorCode::ImageTooLarge));
        }
        let kept = match out {
            Some(out) => {
                strip_metadata(kind, &source.0, &out.0)?;
                out
            }
            None => source,
        };
        let mut f = std::fs::File::open(&kept.0).map_err(AppError::internal)?;
        let mut sha = <sha2::Sha256 as sha2::Digest>::new();
        let size = std::io::copy(&mut f, &mut sha).map_err(AppError::internal)?;
        Ok((
            kept,
            Prepared {
                size: i64::try_from(size).map_err(AppError::internal)?,
                sha256: crate::encoding::hex(&sha2::Digest::finalize(sha)),
                width: dims.and_then(|d| i32::try_from(d.0).ok()),
                height: dims.and_then(|d| i32::try_from(d.1).ok()),
            },
        ))
    })
    .await
}

/// Copies the image at `from` to `to` without its metadata, by its kind's rules.
fn strip_metadata(
    kind: Kind,
    from: &std::path::Path,
    to: &std::path::Path,
) -> Result<(), AppError> {
    let mut input = std::io::BufReader::new(std::fs::File::open(from).map_err(AppError::internal)?);
    let mut output =
        std::io::BufWriter::new(std::fs::File::create(to).map_err(AppError::internal)?);
    let stripped = match kind {
        Kind::Jpeg => crate::media::jpeg::strip(&mut input, &mut output).map(|_| ()),
        Kind::Png => crate::media::png::strip(&mut input, &mut output).map(|_| ()),
        Kind::Webp => crate::media::webp::strip(&mut input, &mut output).map(|_| ()),
        Kind::Heic | Kind::Pdf => return Err(AppError::internal("nothing to strip")),
    };
    stripped.map_err(|e| {
        AppError::with_detail(
            ErrorCode::UnsupportedFileType,
            format!(
                "the {} could not be read: {e}",
                kind.extension().to_uppercase()
            ),
        )
    })?;
    std::io::Write::flush(&mut output).map_err(AppError::internal)
}

pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let issue_id = id.into_inner();
    let scope = scope(&auth.actor());
    let internal = sees_internal(&auth.actor());
    let rows = state
        .db
        .read(move |c| {
            db::issues::find_visible(c, scope, issue_id)?.ok_or_else(AppError::not_found)?;
            let hidden = if internal {
                Vec::new()
            } else {
                db::issues::internal_comment_ids(c, issue_id)?
            };
            Ok(db::attachments::of_issue(c, issue_id, &hidden)?)
        })
        .await?;
    let items: Vec<AttachmentView> = rows.into_iter().map(AttachmentView::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}
