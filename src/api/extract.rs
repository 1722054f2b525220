//! Request extractors whose every failure is a problem+json 4xx: a JSON body with per-field
//! errors, and the handlers for bad paths and queries.

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode, FieldError};

/// A JSON object as the request body. Unlike `web::Json`, a type mismatch names the field
/// that failed, every rejection is a problem document, and an array is refused even where
/// serde would read one as a struct field by field.
pub struct Json<T>(pub T);

/// A JSON array as the request body, item by item as [`Json`] reads an object.
pub struct JsonList<T>(pub Vec<T>);

/// The JSON type a body must have at its top.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Top {
    Object,
    Array,
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body::<T>(req, payload, Top::Object);
        Box::pin(async move { body.await.map(Json) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonList<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body::<Vec<T>>(req, payload, Top::Array);
        Box::pin(async move { body.await.map(JsonList) })
    }
}

fn json_body<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    top: Top,
) -> LocalBoxFuture<'static, Result<T, AppError>> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        });
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        if !is_json {
            return Err(AppError::with_detail(
                ErrorCode::UnsupportedMediaType,
                "send the body as Content-Type: application/json",
            ));
        }
        let bytes = body.await.map_err(payload_error)?;
        parse_json_as(&bytes, top)
    })
}

fn payload_error(e: actix_web::Error) -> AppError {
    use actix_web::error::PayloadError;
    match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => AppError::new(ErrorCode::PayloadTooLarge),
        _ => AppError::with_detail(
            ErrorCode::MalformedJson,
            "the request body could not be read",
        ),
    }
}

/// Parses a JSON document, turning a data error into a 422 that names the field.
///
/// A number with a zero fraction (`13.0`) counts as the integer it equals, as JSON Schema
/// counts it, so a client whose JSON library writes every number as a float is understood;
/// `13.5` for an integer field, or an integer past what 53 bits hold exactly, is still refused.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    parse_json_as(bytes, Top::Object)
}

fn parse_json_as<T: DeserializeOwned>(bytes: &[u8], top: Top) -> Result<T, AppError> {
    use serde_json::error::Category;
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::with_detail(ErrorCode::MalformedJson, e.to_string()))?;
    let fits = match top {
        Top::Object => value.is_object(),
        Top::Array => value.is_array(),
    };
    if !fits {
        let want = if top == Top::Object {
            "an object"
        } else {
            "an array"
        };
        return Err(AppError::validation(vec![FieldError::new(
            ".",
            "invalid_type",
            format!("the body must be a JSON {want}"),
        )]));
    }
    integral_floats_as_integers(&mut value);
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            Category::Data => {
                let message = strip_position(&inner.to_string());
                let (code, field) = describe(&message, &path);
                AppError::validation(vec![FieldError::new(field, code, message)])
            }
            _ => AppError::with_detail(ErrorCode::MalformedJson, inner.to_string()),
        }
    })?;
    Ok(parsed)
}

/// Rewrites every float with a zero fraction that an `f64` holds exactly (|x| ≤ 2^53) as an
/// integer. Floats stay valid wherever a float is expected (serde reads an integer as `f64`).
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64()
                && x.fract() == 0.0
                && x.abs() <= EXACT
            {
                *value = Value::from(x as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A stable code for a serde data error, and the field it concerns.
fn describe(message: &str, path: &str) -> (&'static str, String) {
    let named = || {
        let start = message.find('`')? + 1;
        let len = message[start..].find('`')?;
        Some(message[start..start + len].to_string())
    };
    let join = |name: String| {
        // serde_path_to_error already ends the path with the name for some errors.
        if path == name || path.ends_with(&format!(".{name}")) {
            path.to_string()
        } else if path.is_empty() || path == "." {
            name
        } else {
            format!("{path}.{name}")
        }
    };
    let here = || {
        if path.is_empty() {
            ".".to_string()
        } else {
            path.to_string()
        }
    };
    if message.starts_with("missing field") {
        ("required", named().map(join).unwrap_or_else(here))
    } else if message.starts_with("unknown field") {
        ("unknown_field", named().map(join).unwrap_or_else(here))
    } else if message.starts_with("unknown variant") {
        ("unknown_value", here())
    } else if message.starts_with("invalid type") {
        ("invalid_type", here())
    } else {
        ("invalid", here())
    }
}

pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::with_detail(ErrorCode::InvalidPathParameter, err.to_string()).into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    AppError::with_detail(ErrorCode::InvalidQuery, err.to_string()).into()
}

/// The version an `If-Match` header asks for: `None` when absent or `*`. Any other value
/// that is not a tag this service issued (`"v3"`, also weak or unquoted) cannot match the
/// current version, so the condition is false: 412 (RFC 9110 §13.1.1) — decided where the
/// version is compared, after the request itself was found well-formed.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, AppError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let Ok(value) = value.to_str().map(str::trim) else {
        return Ok(Some(NO_VERSION));
    };
    if value == "*" {
        return Ok(None);
    }
    let tag = value.trim_start_matches("W/").trim_matches('"');
    Ok(Some(
        tag.strip_prefix('v')
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(NO_VERSION),
    ))
}

/// Stands for a tag this service never issued: versions start at 1, so it matches none.
const NO_VERSION: i64 = -1;

/// The version a client asked for with `If-Match`, checked against the current one.
pub struct Precondition(pub Option<i64>);

impl Precondition {
    pub fn from_request(req: &HttpRequest) -> Result<Precondition, AppError> {
        if_match(req).map(Precondition)
    }

    /// 412 when the client read another version than the current one.
    pub fn check(&self, current_version: i64) -> Result<(), AppError> {
        match self.0 {
            Some(v) if v != current_version => Err(AppError::new(ErrorCode::PreconditionFailed)),
            _ => Ok(()),
        }
    }

    /// The answer when a compare-and-set changed no row: another change came first. A
    /// client that sent `If-Match` hears 412, one that did not hears 409.
    pub fn lost_race(&self) -> AppError {
        AppError::new(if self.0.is_some() {
            ErrorCode::PreconditionFailed
        } else {
            ErrorCode::Conflict
        })
    }
}

/// Whether the client's `If-None-Match` names `tag` (or is `*`): its copy is current.
pub fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(actix_web::http::header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

/// A single read: 200 with the JSON and its `ETag`, or 304 (no body) when the client
/// already holds this version.
pub fn read_with_etag(
    req: &HttpRequest,
    tag: String,
    body: &impl serde::Serialize,
) -> actix_web::HttpResponse {
    respond_with_etag(req, tag, |mut ok| ok.json(body))
}

/// 200 with `ETag` and the body `answer` puts in it, or 304 (no body) when the client
/// already holds this version.
pub fn respond_with_etag(
    req: &HttpRequest,
    tag: String,
    answer: impl FnOnce(actix_web::HttpResponseBuilder) -> actix_web::HttpResponse,
) -> actix_web::HttpResponse {
    use actix_web::http::header::ETAG;
    if not_modified(req, &tag) {
        return actix_web::HttpResponse::NotModified()
            .insert_header((ETAG, tag))
            .finish();
    }
    let mut ok = actix_web::HttpResponse::Ok();
    ok.insert_header((ETAG, tag));
    answer(ok)
}

/// The entity tag of an object at a version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: i64,
    }

    fn code_and_field(raw: &str) -> Option<(ErrorCode, String, &'static str)> {
        parse_json::<Body>(raw.as_bytes()).err().map(|e| {
            (
                e.code,
                e.errors
                    .first()
                    .map(|f| f.field.clone())
                    .unwrap_or_default(),
                e.errors.first().map(|f| f.code).unwrap_or(""),
            )
        })
    }

    #[test]
    fn an_integral_float_is_the_integer_it_equals_and_a_fraction_is_still_refused() {
        let body = parse_json::<Body>(br#"{"name": "x", "count": 13.0}"#);
        assert_eq!(body.ok().map(|b| b.count), Some(13));
        assert_eq!(
            code_and_field(r#"{"name": "x", "count": 13.5}"#),
            Some((ErrorCode::ValidationFailed, "count".into(), "invalid_type"))
        );
        assert_eq!(
            code_and_field(r#"{"name": "x", "count": 1e300}"#),
            Some((ErrorCode::ValidationFailed, "count".into(), "invalid_type"))
        );
        assert_eq!(
            code_and_field(r#"{"name": "x", "count": 99999999999999999999}"#),
            Some((ErrorCode::ValidationFailed, "count".into(), "invalid_type"))
        );
    }

    #[test]
    fn data_errors_name_the_field() {
        assert_eq!(
            code_and_field(r#"{"name": "x", "count": "3"}"#),
            Some((ErrorCode::ValidationFailed, "count".into(), "invalid_type"))
        );
        assert_eq!(
            code_and_field(r#"{"name": "x"}"#),
            Some((ErrorCode::ValidationFailed, "count".into(), "required"))
        );
        assert_eq!(
            code_and_field(r#"{"name": "x", "count": 1, "extra": 1}"#),
            Some((ErrorCode::ValidationFailed, "extra".into(), "unknown_field"))
        );
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        assert_eq!(
            code_and_field(r#"{"name": "#).map(|c| c.0),
            Some(ErrorCode::MalformedJson)
        );
        assert_eq!(
            code_and_field(r#"{"name": "x", "count": 1} trailing"#).map(|c| c.0),
            Some(ErrorCode::MalformedJson)
        );
    }
}
