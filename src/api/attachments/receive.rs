//! Receiving one upload: the multipart body is streamed to a temporary file under the data
//! folder, never held whole in memory; the type is told by the first bytes and a body over
//! the cap is refused as soon as it is seen, without reading the rest.

use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, ErrorCode, FieldError};
use crate::media::sniff::{Kind, SNIFF_LEN, sniff};

/// Room for the multipart framing and the small fields around the file.
const FRAMING_ALLOWANCE: u64 = 64 * 1024;
const MAX_TEXT_FIELD: usize = 64;
const MAX_NAME_CHARS: usize = 200;

/// A file received and checked, in a temporary file the caller must consume or drop.
pub struct Received {
    pub temp: TempFile,
    pub kind: Kind,
    pub file_name: String,
    /// SHA-256 of the bytes as sent, for `Idempotency-Key`.
    pub sent_sha256: String,
    pub comment_id: Option<i64>,
    pub keep_location: bool,
}

/// A temporary file, removed when dropped.
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl TempFile {
    pub fn new(dir: &Path) -> Result<TempFile, AppError> {
        std::fs::create_dir_all(dir).map_err(AppError::internal)?;
        let name = format!("upload-{}", crate::auth::tokens::random_token(12));
        Ok(TempFile(dir.join(name)))
    }
}

pub async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    temp_dir: &Path,
    max_bytes: u64,
) -> Result<Received, AppError> {
    check_headers(req, max_bytes)?;
    let mut form = Multipart::new(req.headers(), payload);
    let mut file: Option<(TempFile, Kind, String, String)> = None;
    let mut comment_id = None;
    let mut keep_location = false;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(AppError::field(
                        "file",
                        "duplicate",
                        "one file per request: send each file in its own request",
                    ));
                }
                let sent_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(str::to_string);
                let temp = TempFile::new(temp_dir)?;
                let (kind, sha) = stream_file(&mut field, &temp.0, max_bytes).await?;
                let file_name = clean_name(sent_name.as_deref(), kind);
                file = Some((temp, kind, file_name, sha));
            }
            "comment_id" => {
                let text = read_text(&mut field, &name).await?;
                comment_id = Some(text.trim().parse::<i64>().map_err(|_| {
                    AppError::field("comment_id", "invalid_type", "must be a number")
                })?);
            }
            "keep_location" => {
                keep_location = flag(&read_text(&mut field, &name).await?)?;
            }
            other => {
                return Err(AppError::validation(vec![FieldError::new(
                    if other.is_empty() { "(unnamed)" } else { other },
                    "unknown_field",
                    "expected `file`, `comment_id` or `keep_location`",
                )]));
            }
        }
    }
    let Some((temp, kind, file_name, sent_sha256)) = file else {
        return Err(AppError::field(
            "file",
            "required",
            "a field named `file` is required",
        ));
    };
    Ok(Received {
        temp,
        kind,
        file_name,
        sent_sha256,
        comment_id,
        keep_location,
    })
}

/// A multipart body, and a declared length under the cap: refused before a byte of the
/// body is read otherwise.
pub(crate) fn check_headers(req: &HttpRequest, max_bytes: u64) -> Result<(), AppError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_multipart {
        return Err(AppError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "send the file as multipart/form-data in a field named `file`",
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes + FRAMING_ALLOWANCE) {
        return Err(too_large(max_bytes));
    }
    Ok(())
}

/// The `keep_location` field: true or false (1 or 0; empty is false).
pub(crate) fn flag(text: &str) -> Result<bool, AppError> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(AppError::field(
            "keep_location",
            "invalid_type",
            "must be true or false",
        )),
    }
}

/// Streams one file part to `path`; returns its kind and SHA-256 as sent.
async fn stream_file(
    field: &mut actix_multipart::Field,
    path: &Path,
    max_bytes: u64,
) -> Result<(Kind, String), AppError> {
    let mut out = tokio::fs::File::create(path)
        .await
        .map_err(AppError::internal)?;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
    let mut kind = None;
    let mut written: u64 = 0;
    let mut sha = Sha256::new();
    while let Some(chunk) = field.next().await {
        let chunk: Bytes = chunk.map_err(bad_form)?;
        written += chunk.len() as u64;
        if written > max_bytes {
            return Err(too_large(max_bytes));
        }
        if kind.is_none() {
            let take = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() >= SNIFF_LEN {
                kind = Some(sniff(&head).ok_or_else(unsupported)?);
            }
        }
        sha.update(&chunk);
        out.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    out.flush().await.map_err(AppError::internal)?;
    out.sync_all().await.map_err(AppError::internal)?;
    let kind = match kind {
        Some(k) => k,
        None => sniff(&head).ok_or_else(unsupported)?,
    };
    Ok((kind, crate::encoding::hex(&sha.finalize())))
}

pub(crate) async fn read_text(
    field: &mut actix_multipart::Field,
    name: &str,
) -> Result<String, AppError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(bad_form)?;
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_TEXT_FIELD {
            return Err(AppError::field(name, "too_long", "too long"));
        }
    }
    String::from_utf8(buf).map_err(|_| AppError::field(name, "invalid_type", "not UTF-8 text"))
}

/// The name to show and to offer on download: no folders, no control characters, at most
/// 200 characters, and an extension that matches the content.
fn clean_name(sent: Option<&str>, kind: Kind) -> String {
    let base = sent
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        return format!("attachment.{}", kind.extension());
    }
    let has_ext = cleaned.rsplit_once('.').is_some_and(|(_, ext)| {
        ext.eq_ignore_ascii_case(kind.extension())
            || (kind == Kind::Jpeg && ext.eq_ignore_ascii_case("jpeg"))
    });
    if has_ext {
        cleaned
    } else {
        format!("{cleaned}.{}", kind.extension())
    }
}

pub(crate) fn too_large(max: u64) -> AppError {
    AppError::with_detail(
        ErrorCode::FileTooLarge,
        format!("a file may be at most {max} bytes"),
    )
}

fn unsupported() -> AppError {
    AppError::new(ErrorCode::UnsupportedFileType)
}

pub(crate) fn bad_form(e: actix_multipart::MultipartError) -> AppError {
    AppError::with_detail(ErrorCode::MalformedMultipart, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_folders_and_get_the_extension_of_their_content() {
        assert_eq!(
            clean_name(Some("../../etc/passwd"), Kind::Pdf),
            "passwd.pdf"
        );
        assert_eq!(
            clean_name(Some("C:\\相册\\现场.JPG"), Kind::Jpeg),
            "现场.JPG"
        );
        assert_eq!(clean_name(Some("photo.jpeg"), Kind::Jpeg), "photo.jpeg");
        assert_eq!(
            clean_name(Some("invoice.exe"), Kind::Pdf),
            "invoice.exe.pdf"
        );
        assert_eq!(clean_name(None, Kind::Png), "attachment.png");
        assert_eq!(clean_name(Some(".hidden"), Kind::Webp), "hidden.webp");
        assert_eq!(clean_name(Some("a\"b\nc.png"), Kind::Png), "abc.png");
    }
}
