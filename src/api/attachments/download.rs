//! `GET /api/v1/attachments/{id}` (the bytes, with ranges) and
//! `GET /api/v1/attachments/{id}/thumbnail`: whoever may see the issue may read its files,
//! except files on internal comments, which observers never see.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::extract::not_modified;
use crate::api::issues::{scope, sees_internal};
use crate::auth::AuthUser;
use crate::db::{self, attachments::AttachmentRow, run_blocking};
use crate::error::{AppError, ErrorCode};
use crate::media::sniff::Kind;
use crate::state::AppState;

/// The attachment, if the caller may read it; 404 otherwise, as if it did not exist.
async fn readable(state: &AppState, auth: &AuthUser, id: i64) -> Result<AttachmentRow, AppError> {
    let scope = scope(&auth.actor());
    let internal = sees_internal(&auth.actor());
    state
        .db
        .read(move |c| {
            let row = db::attachments::find(c, id)?.ok_or_else(AppError::not_found)?;
            db::issues::find_visible(c, scope, row.issue_id)?.ok_or_else(AppError::not_found)?;
            if let Some(cid) = row.comment_id
                && !internal
                && db::issues::comment(c, cid)?.is_some_and(|k| k.internal)
            {
                return Err(AppError::not_found());
            }
            Ok(row)
        })
        .await
}

pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let row = readable(&state, &auth, id.into_inner()).await?;
    let tag = format!("\"{}\"", row.sha256);
    let size = u64::try_from(row.size).map_err(AppError::internal)?;
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    let range = match requested_range(&req, size) {
        Ok(r) => r,
        Err(()) => {
            let mut e = crate::api::problem::render(
                &AppError::new(ErrorCode::RangeNotSatisfiable),
                crate::text::Lang::Zh,
            );
            if let Ok(v) = header::HeaderValue::from_str(&format!("bytes */{size}")) {
                e.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(e);
        }
    };
    let stream = state
        .storage
        .read(&row.storage_key, range.clone())
        .await
        .map_err(|e| AppError::internal(format!("reading an attachment: {e:#}")))?;
    let mut r = match &range {
        Some(r) => {
            let mut b = HttpResponse::PartialContent();
            b.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ));
            b
        }
        None => HttpResponse::Ok(),
    };
    let len = range.as_ref().map_or(size, |r| r.end - r.start);
    let inline = Kind::from_content_type(&row.content_type).is_some_and(|k| k != Kind::Pdf);
    r.insert_header((header::CONTENT_TYPE, row.content_type.clone()))
        .insert_header(disposition(&row.file_name, inline))
        .insert_header((header::ETAG, tag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        // Photos and PDF are compressed already; a byte range must stay a byte range.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .no_chunking(len);
    Ok(r.streaming(stream))
}

pub async fn thumbnail(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let row = readable(&state, &auth, id.into_inner()).await?;
    if !Kind::from_content_type(&row.content_type).is_some_and(Kind::has_thumbnail) {
        return Err(AppError::new(ErrorCode::NoThumbnail));
    }
    let tag = format!("\"{}-thumb\"", row.sha256);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    let key = format!("{}.thumb.jpg", row.storage_key);
    let fail = |e: anyhow::Error| AppError::internal(format!("thumbnail: {e:#}"));
    let bytes = match state.storage.read_all(&key).await.map_err(fail)? {
        Some(b) => b,
        None => {
            // Drawn on first request, then kept.
            let original = state
                .storage
                .read_all(&row.storage_key)
                .await
                .map_err(fail)?
                .ok_or_else(|| AppError::internal("attachment missing from storage"))?;
            // At most two drawn at once: each may hold up to 256 MiB while it decodes.
            let _permit = state
                .thumbnailing
                .acquire()
                .await
                .map_err(AppError::internal)?;
            let thumb = run_blocking(move || {
                crate::media::thumbnail::make(&original)
                    .map_err(|e| AppError::with_detail(ErrorCode::NoThumbnail, e))
            })
            .await?;
            state
                .storage
                .put_bytes(&key, thumb.clone())
                .await
                .map_err(fail)?;
            thumb
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(bytes))
}

fn disposition(name: &str, inline: bool) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The one byte range asked for with `Range: bytes=…`, as a half-open range. No header, a
/// malformed one or several ranges: the whole file (`Ok(None)`). A range outside the file:
/// `Err`, answered 416.
fn requested_range(req: &HttpRequest, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let raw = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    parse_range(raw, size)
}

/// [`requested_range`] on the header's text. Every bound is clamped to the file, so no
/// number a client sends can overflow.
fn parse_range(raw: Option<&str>, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => s..e.saturating_add(1).min(size),
        (Ok(_), Ok(_)) => return Ok(None),
        (Ok(s), Err(_)) if end.is_empty() => s..size,
        (Err(_), Ok(n)) if start.is_empty() => {
            if n == 0 {
                return Err(());
            }
            size.saturating_sub(n)..size
        }
        _ => return Ok(None),
    };
    if range.start >= size {
        return Err(());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_clamped_to_the_file_and_never_overflow() {
        let r = |h: &str| parse_range(Some(h), 100);
        assert_eq!(r("bytes=0-18446744073709551615"), Ok(Some(0..100)));
        assert_eq!(
            r("bytes=18446744073709551615-18446744073709551615"),
            Err(())
        );
        assert_eq!(r("bytes=0-99999999999999999999999"), Ok(None));
        assert_eq!(r("bytes=-18446744073709551615"), Ok(Some(0..100)));
        assert_eq!(r("bytes=10-19"), Ok(Some(10..20)));
        assert_eq!(r("bytes=90-"), Ok(Some(90..100)));
        assert_eq!(r("bytes=-10"), Ok(Some(90..100)));
        assert_eq!(r("bytes=100-"), Err(()));
        assert_eq!(r("bytes=-0"), Err(()));
        assert_eq!(r("bytes=5-1"), Ok(None));
        assert_eq!(r("bytes=0-1,5-6"), Ok(None));
        assert_eq!(r("items=0-1"), Ok(None));
        assert_eq!(r("bytes=a-b"), Ok(None));
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-"), 0), Err(()));
    }
}
