//! The one error of the service, in every layer: a stable machine `code` from one table,
//! a detail safe to show, field errors, and a cause that is only logged. Nothing here knows
//! HTTP beyond the status number each code carries; `api::problem` turns an error into an
//! RFC 9457 `application/problem+json` answer, in one place.

use std::fmt;

use serde::Serialize;

use crate::text::Lang;

macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:literal, $en:literal, $zh:literal; )*) => {
        /// Every machine code a client may see. The table is the single source: the
        /// status, the English and the Chinese title of each code live here and nowhere else.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }
            /// The HTTP status number the code is answered with.
            pub fn status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
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
    MalformedJson = "malformed_json", 400, "The request body is not valid JSON", "请求体不是有效的 JSON";
    MalformedMultipart = "malformed_multipart", 400, "The multipart body is malformed", "multipart 请求体格式错误";
    InvalidQuery = "invalid_query", 400, "A query parameter is invalid", "查询参数无效";
    InvalidPathParameter = "invalid_path_parameter", 400, "A path parameter is invalid", "路径参数无效";
    InvalidCursor = "invalid_cursor", 400, "The pagination cursor is invalid", "分页游标无效";
    InvalidHeader = "invalid_header", 400, "A request header is invalid", "请求头无效";
    Unauthenticated = "unauthenticated", 401, "Authentication is required", "需要登录";
    InvalidToken = "invalid_token", 401, "The access token is invalid or expired", "访问令牌无效或已过期";
    InvalidCredentials = "invalid_credentials", 401, "Wrong username or password", "用户名或密码错误";
    InvalidRefreshToken = "invalid_refresh_token", 401, "The refresh token is invalid, spent or revoked", "刷新令牌无效、已使用或已撤销";
    Forbidden = "forbidden", 403, "You are not allowed to do this", "无权执行此操作";
    NotFound = "not_found", 404, "The resource does not exist", "资源不存在";
    RouteNotFound = "route_not_found", 404, "No such route", "接口不存在";
    MethodNotAllowed = "method_not_allowed", 405, "Method not allowed on this route", "该接口不支持此请求方法";
    UsernameTaken = "username_taken", 409, "The username is already taken", "用户名已被占用";
    DepartmentCodeTaken = "department_code_taken", 409, "The department code is already taken", "单位编码已被占用";
    LastAdmin = "last_admin", 409, "The last active admin cannot be removed or demoted", "不能停用或降级最后一个管理员";
    InvalidTransition = "invalid_transition", 409, "This action is not allowed in the issue's current state", "问题当前状态下不允许此操作";
    Conflict = "conflict", 409, "The change conflicts with the current state", "与当前状态冲突";
    PreconditionFailed = "precondition_failed", 412, "The resource has changed since you read it", "资源已被他人修改，请刷新后重试";
    PayloadTooLarge = "payload_too_large", 413, "The request body is too large", "请求体过大";
    UnsupportedMediaType = "unsupported_media_type", 415, "Unsupported content type", "不支持的内容类型";
    IdempotencyKeyReused = "idempotency_key_reused", 422, "This Idempotency-Key was already used with another request", "该 Idempotency-Key 已用于另一个不同的请求";
    FileTooLarge = "file_too_large", 413, "The file is larger than allowed", "文件超过大小上限";
    ImageTooLarge = "image_too_large", 422, "The image has more pixels than allowed (50 megapixels)", "图片像素超过上限（5000 万像素）";
    LocationNotRemovable = "location_not_removable", 422, "The position cannot be removed from this kind of photo: send it as JPEG, PNG or WebP, or with keep_location=true", "无法从此类照片中去除位置信息：请以 JPEG、PNG 或 WebP 格式上传，或设置 keep_location=true";
    UnsupportedFileType = "unsupported_file_type", 415, "Only JPEG, PNG, WebP, HEIC images and PDF files are accepted", "仅接受 JPEG、PNG、WebP、HEIC 图片和 PDF 文件";
    RangeNotSatisfiable = "range_not_satisfiable", 416, "The requested byte range is outside the file", "请求的字节范围超出文件";
    NoThumbnail = "no_thumbnail", 404, "This file type has no thumbnail", "该文件类型没有缩略图";
    ValidationFailed = "validation_failed", 422, "Some fields are invalid", "部分字段无效";
    ImportRejected = "import_rejected", 422, "Some rows of the file are invalid; nothing was imported", "文件中有无效的行，未导入任何数据";
    UnreadableFile = "unreadable_file", 422, "The file cannot be read as CSV or XLSX", "无法以 CSV 或 XLSX 格式读取该文件";
    TooManyRequests = "too_many_requests", 429, "Too many failed attempts; try again later", "失败次数过多，请稍后再试";
    DatabaseUnavailable = "database_unavailable", 503, "The database is unavailable; try again shortly", "数据库暂不可用，请稍后重试";
    Internal = "internal_error", 500, "Internal error", "服务器内部错误";
}

/// One field that failed validation, reported in a 422.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
    /// The row of an imported file the error is in (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
            row: None,
        }
    }

    /// The same error, in row `row` of an imported file.
    pub fn at_row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }
}

/// The one error type of the service.
#[derive(Debug)]
pub struct AppError {
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

impl AppError {
    #[track_caller]
    pub fn new(code: ErrorCode) -> Self {
        AppError {
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
        let mut e = AppError::new(code);
        e.detail = Some(detail.into());
        e
    }

    #[track_caller]
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = AppError::new(ErrorCode::ValidationFailed);
        e.errors = errors;
        e
    }

    #[track_caller]
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AppError::validation(vec![FieldError::new(field, code, message)])
    }

    #[track_caller]
    pub fn forbidden() -> Self {
        AppError::new(ErrorCode::Forbidden)
    }

    #[track_caller]
    pub fn not_found() -> Self {
        AppError::new(ErrorCode::NotFound)
    }

    #[track_caller]
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = AppError::new(ErrorCode::TooManyRequests);
        e.retry_after_secs = Some(retry_after_secs.max(1));
        e
    }

    /// 405, naming the methods the route does answer (RFC 9110 §15.5.6).
    #[track_caller]
    pub fn method_not_allowed(allow: &'static [&'static str]) -> Self {
        let mut e = AppError::new(ErrorCode::MethodNotAllowed);
        e.allow = Some(allow);
        e
    }

    /// An internal failure: the cause is logged, the caller sees an opaque 500.
    #[track_caller]
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = AppError::new(ErrorCode::Internal);
        e.cause = Some(cause.to_string());
        e
    }

    #[track_caller]
    pub fn db_unavailable(cause: impl fmt::Display) -> Self {
        let mut e = AppError::new(ErrorCode::DatabaseUnavailable);
        e.cause = Some(cause.to_string());
        e
    }

    /// What went wrong inside, for the log only.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// Where the error was made.
    pub fn location(&self) -> &'static std::panic::Location<'static> {
        self.location
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<diesel::result::Error> for AppError {
    #[track_caller]
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::not_found(),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
            | Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::new(ErrorCode::Conflict)
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::db_unavailable(info.message())
            }
            // PostgreSQL's statement timeout (`OBSERVER_DESK_DB_STATEMENT_TIMEOUT_MS`): the
            // database is too busy for this now.
            Error::DatabaseError(_, info) if info.message().contains("statement timeout") => {
                AppError::db_unavailable(info.message())
            }
            // PostgreSQL keeps no NUL in text: a value that carries one is the caller's
            // mistake wherever it slipped past the field checks.
            Error::DatabaseError(_, info)
                if info
                    .message()
                    .contains("invalid byte sequence for encoding") =>
            {
                AppError::with_detail(ErrorCode::MalformedJson, "a text contains a NUL byte")
            }
            other => AppError::internal(other),
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
}
