//! One mapping from failures to HTTP: every error leaves the service as RFC 9457
//! `application/problem+json` with a stable machine `code` and a title in the caller's language.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The language a human-readable text is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// Chinese is the default; English when the caller's `Accept-Language` prefers it.
    pub fn from_accept_language(value: Option<&str>) -> Lang {
        let Some(value) = value else { return Lang::Zh };
        // The first listed language wins; quality values are rarely used by the apps.
        let first = value
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:ident, $en:literal, $zh:literal; )*) => {
        /// Every machine code a client may see. The table is the single source: the
        /// status, the English and the Chinese title of each code live here and nowhere else.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }
            pub fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status, )* }
            }
            pub fn title(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (ErrorCode::$variant, Lang::En) => $en,
                       (ErrorCode::$variant, Lang::Zh) => $zh, )*
                }
            }
        }
    };
}

error_codes! {
    MalformedJson = "malformed_json", BAD_REQUEST, "The request body is not valid JSON", "请求体不是有效的 JSON";
    MalformedMultipart = "malformed_multipart", BAD_REQUEST, "The multipart body is malformed", "multipart 请求体格式错误";
    InvalidQuery = "invalid_query", BAD_REQUEST, "A query parameter is invalid", "查询参数无效";
    InvalidPathParameter = "invalid_path_parameter", BAD_REQUEST, "A path parameter is invalid", "路径参数无效";
    InvalidCursor = "invalid_cursor", BAD_REQUEST, "The pagination cursor is invalid", "分页游标无效";
    InvalidHeader = "invalid_header", BAD_REQUEST, "A request header is invalid", "请求头无效";
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "Authentication is required", "需要登录";
    InvalidToken = "invalid_token", UNAUTHORIZED, "The access token is invalid or expired", "访问令牌无效或已过期";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "Wrong username or password", "用户名或密码错误";
    InvalidRefreshToken = "invalid_refresh_token", UNAUTHORIZED, "The refresh token is invalid, spent or revoked", "刷新令牌无效、已使用或已撤销";
    Forbidden = "forbidden", FORBIDDEN, "You are not allowed to do this", "无权执行此操作";
    NotFound = "not_found", NOT_FOUND, "The resource does not exist", "资源不存在";
    RouteNotFound = "route_not_found", NOT_FOUND, "No such route", "接口不存在";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed on this route", "该接口不支持此请求方法";
    UsernameTaken = "username_taken", CONFLICT, "The username is already taken", "用户名已被占用";
    DepartmentCodeTaken = "department_code_taken", CONFLICT, "The department code is already taken", "单位编码已被占用";
    LastAdmin = "last_admin", CONFLICT, "The last active admin cannot be removed or demoted", "不能停用或降级最后一个管理员";
    InvalidTransition = "invalid_transition", CONFLICT, "This action is not allowed in the issue's current state", "问题当前状态下不允许此操作";
    Conflict = "conflict", CONFLICT, "The change conflicts with the current state", "与当前状态冲突";
    PreconditionFailed = "precondition_failed", PRECONDITION_FAILED, "The resource has changed since you read it", "资源已被他人修改，请刷新后重试";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "The request body is too large", "请求体过大";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported content type", "不支持的内容类型";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "This Idempotency-Key was already used with another request", "该 Idempotency-Key 已用于另一个不同的请求";
    FileTooLarge = "file_too_large", PAYLOAD_TOO_LARGE, "The file is larger than allowed", "文件超过大小上限";
    ImageTooLarge = "image_too_large", UNPROCESSABLE_ENTITY, "The image has more pixels than allowed (50 megapixels)", "图片像素超过上限（5000 万像素）";
    LocationNotRemovable = "location_not_removable", UNPROCESSABLE_ENTITY, "The position cannot be removed from this kind of photo: send it as JPEG, PNG or WebP, or with keep_location=true", "无法从此类照片中去除位置信息：请以 JPEG、PNG 或 WebP 格式上传，或设置 keep_location=true";
    UnsupportedFileType = "unsupported_file_type", UNSUPPORTED_MEDIA_TYPE, "Only JPEG, PNG, WebP, HEIC images and PDF files are accepted", "仅接受 JPEG、PNG、WebP、HEIC 图片和 PDF 文件";
    RangeNotSatisfiable = "range_not_satisfiable", RANGE_NOT_SATISFIABLE, "The requested byte range is outside the file", "请求的字节范围超出文件";
    NoThumbnail = "no_thumbnail", NOT_FOUND, "This file type has no thumbnail", "该文件类型没有缩略图";
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "Some fields are invalid", "部分字段无效";
    TooManyRequests = "too_many_requests", TOO_MANY_REQUESTS, "Too many failed attempts; try again later", "失败次数过多，请稍后再试";
    DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE, "The database is unavailable; try again shortly", "数据库暂不可用，请稍后重试";
    Internal = "internal_error", INTERNAL_SERVER_ERROR, "Internal error", "服务器内部错误";
}

/// One field that failed validation, reported in a 422.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// The one error type of the HTTP layer.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    /// Safe for the caller to read.
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    /// The methods a route answers, sent as `Allow` with a 405.
    pub allow: Option<&'static [&'static str]>,
    /// Logged, never sent.
    cause: Option<String>,
    location: &'static std::panic::Location<'static>,
}

impl ApiError {
    #[track_caller]
    pub fn new(code: ErrorCode) -> Self {
        ApiError {
            code,
            detail: None,
            errors: Vec::new(),
            retry_after_secs: None,
            allow: None,
            cause: None,
            location: std::panic::Location::caller(),
        }
    }

    #[track_caller]
    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(code);
        e.detail = Some(detail.into());
        e
    }

    #[track_caller]
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = ApiError::new(ErrorCode::ValidationFailed);
        e.errors = errors;
        e
    }

    #[track_caller]
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError::new(field, code, message)])
    }

    #[track_caller]
    pub fn forbidden() -> Self {
        ApiError::new(ErrorCode::Forbidden)
    }

    #[track_caller]
    pub fn not_found() -> Self {
        ApiError::new(ErrorCode::NotFound)
    }

    #[track_caller]
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = ApiError::new(ErrorCode::TooManyRequests);
        e.retry_after_secs = Some(retry_after_secs.max(1));
        e
    }

    /// 405, naming the methods the route does answer (RFC 9110 §15.5.6).
    #[track_caller]
    pub fn method_not_allowed(allow: &'static [&'static str]) -> Self {
        let mut e = ApiError::new(ErrorCode::MethodNotAllowed);
        e.allow = Some(allow);
        e
    }

    /// An internal failure: the cause is logged, the caller sees an opaque 500.
    #[track_caller]
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = ApiError::new(ErrorCode::Internal);
        e.cause = Some(cause.to_string());
        e
    }

    #[track_caller]
    pub fn db_unavailable(cause: impl fmt::Display) -> Self {
        let mut e = ApiError::new(ErrorCode::DatabaseUnavailable);
        e.cause = Some(cause.to_string());
        e
    }

    /// The problem document in the given language.
    pub fn render(&self, lang: Lang) -> HttpResponse {
        let status = self.code.status();
        if status.is_server_error() {
            tracing::error!(
                code = self.code.as_str(),
                cause = self.cause.as_deref().unwrap_or(""),
                at = %self.location,
                "request failed"
            );
        }
        let body = Problem {
            kind: format!("urn:observer-desk:problem:{}", self.code.as_str()),
            title: self.code.title(lang),
            status: status.as_u16(),
            code: self.code.as_str(),
            detail: self.detail.as_deref(),
            errors: &self.errors,
        };
        let mut res = HttpResponse::build(status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(methods) = self.allow {
            res.insert_header((header::ALLOW, methods.join(", ")));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}

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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    /// Rendered in Chinese here; the `localize` middleware re-renders it when the caller
    /// asked for English, since this trait has no access to the request.
    fn error_response(&self) -> HttpResponse {
        self.render(Lang::Zh)
    }
}

impl From<diesel::result::Error> for ApiError {
    #[track_caller]
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::not_found(),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
            | Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::new(ErrorCode::Conflict)
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                ApiError::db_unavailable(info.message())
            }
            // PostgreSQL keeps no NUL in text: a value that carries one is the caller's
            // mistake wherever it slipped past the field checks.
            Error::DatabaseError(_, info)
                if info
                    .message()
                    .contains("invalid byte sequence for encoding") =>
            {
                ApiError::with_detail(ErrorCode::MalformedJson, "a text contains a NUL byte")
            }
            other => ApiError::internal(other),
        }
    }
}

/// Whether a diesel error is a unique-constraint violation (used to name the conflict).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_and_has_both_titles() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
            assert!(!code.title(Lang::En).is_empty());
            assert!(!code.title(Lang::Zh).is_empty());
        }
    }

    #[test]
    fn english_is_chosen_only_when_asked_for() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            Lang::Zh
        );
    }
}
