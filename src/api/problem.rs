//! The one mapping from failures to HTTP: every error leaves the service as RFC 9457
//! `application/problem+json`, with the status of its code, a stable machine `code` and a
//! title in the caller's language.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::{AppError, FieldError};
use crate::text::Lang;

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

fn status(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The problem document of `e` in the given language; a server error is logged here.
pub fn render(e: &AppError, lang: Lang) -> HttpResponse {
    let status = status(e);
    if status.is_server_error() {
        tracing::error!(
            code = e.code.as_str(),
            cause = e.cause().unwrap_or(""),
            at = %e.location(),
            "request failed"
        );
    }
    let body = Problem {
        kind: format!("urn:observer-desk:problem:{}", e.code.as_str()),
        title: e.code.title(lang),
        status: status.as_u16(),
        code: e.code.as_str(),
        detail: e.detail.as_deref(),
        errors: &e.errors,
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    ));
    if let Some(secs) = e.retry_after_secs {
        res.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    if let Some(methods) = e.allow {
        res.insert_header((header::ALLOW, methods.join(", ")));
    }
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
    }
    res.body(serde_json::to_vec(&body).unwrap_or_default())
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status(self)
    }

    /// Rendered in Chinese here; the `localize` middleware renders it again when the caller
    /// asked for English, since this trait has no access to the request.
    fn error_response(&self) -> HttpResponse {
        render(self, Lang::Zh)
    }
}
