//! `POST /api/v1/admin/imports` (admin): a county list from a spreadsheet, as the command
//! `observer-desk admin import` does it — multipart fields `kind` (`departments`, `users` or
//! `projects`), `file` (CSV or XLSX) and `dry_run` (`true` checks and writes nothing).

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::api::attachments::receive::{bad_form, check_headers, flag, read_text, too_large};
use crate::auth::AuthUser;
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};
use crate::import::records::Kind;
use crate::import::sheet::MAX_FILE_BYTES;
use crate::state::AppState;

pub async fn import(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    if auth.role != Role::Admin {
        return Err(AppError::forbidden());
    }
    check_headers(&req, MAX_FILE_BYTES as u64)?;
    let mut form = Multipart::new(req.headers(), payload);
    let (mut kind, mut file, mut dry_run) = (None, None, false);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "kind" => {
                let text = read_text(&mut field, &name).await?;
                kind = Some(Kind::parse(text.trim()).ok_or_else(|| {
                    AppError::field(
                        "kind",
                        "unknown_value",
                        "must be departments, users or projects",
                    )
                })?);
            }
            "dry_run" => dry_run = flag(&read_text(&mut field, &name).await?)?,
            "file" if file.is_some() => {
                return Err(AppError::field("file", "duplicate", "one file per import"));
            }
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(bad_form)?;
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        return Err(too_large(MAX_FILE_BYTES as u64));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            other => {
                return Err(AppError::validation(vec![FieldError::new(
                    if other.is_empty() { "(unnamed)" } else { other },
                    "unknown_field",
                    "expected `kind`, `file` or `dry_run`",
                )]));
            }
        }
    }
    let kind =
        kind.ok_or_else(|| AppError::field("kind", "required", "which list the file holds"))?;
    let file = file
        .ok_or_else(|| AppError::field("file", "required", "a field named `file` is required"))?;
    let report =
        crate::workflow::import::import(&state.db, &state.hashing, kind, file, dry_run).await?;
    tracing::info!(
        by = auth.id,
        kind = ?kind,
        dry_run,
        created = report.created,
        updated = report.updated,
        "import"
    );
    if !report.dry_run {
        // Roles, departments and passwords may have changed: nothing cached may stand for them.
        state.callers.forget_all();
    }
    Ok(HttpResponse::Ok()
        // The answer may carry generated passwords.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(report))
}
