//! The refresh token of a browser session, kept where page script cannot read it: an
//! `HttpOnly; Secure; SameSite=Strict` cookie scoped to the auth routes. A login opts in
//! (`"cookie": true`); native apps keep the token in the body. The cookie is honoured only
//! with the `X-Observer-Desk-Session: cookie` header, which a cross-site form cannot send and a
//! cross-origin script cannot send without a CORS grant this service never gives: with
//! `SameSite=Strict`, that covers cross-site request forgery twice.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

pub const NAME: &str = "od_refresh";
/// Only the refresh and logout routes (and login, which sets it) ever receive it.
pub const PATH: &str = "/api/v1/auth";
pub const HEADER: &str = "X-Observer-Desk-Session";

/// `Set-Cookie` for a new refresh token, living as long as the token.
pub fn set(token: &str, max_age: Duration) -> Option<HeaderValue> {
    cookie(token, max_age.as_secs())
}

/// `Set-Cookie` that removes it (the same attributes, no value, no age).
pub fn clear() -> HeaderValue {
    cookie("", 0).unwrap_or_else(|| HeaderValue::from_static(""))
}

fn cookie(value: &str, max_age_secs: u64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{NAME}={value}; Path={PATH}; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Strict"
    ))
    .ok()
}

/// Whether the caller asks for the cookie session (the header is present).
pub fn wanted(req: &HttpRequest) -> bool {
    req.headers()
        .get(HEADER)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cookie"))
}

/// The refresh token in the cookie, when the caller asks for the cookie session.
pub fn token(req: &HttpRequest) -> Option<String> {
    if !wanted(req) {
        return None;
    }
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_cookie_is_read_only_with_the_session_header() {
        let with = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; od_refresh=tok-en_1; b=2"))
            .insert_header((HEADER, "cookie"))
            .to_http_request();
        assert_eq!(token(&with).as_deref(), Some("tok-en_1"));
        let without = TestRequest::default()
            .insert_header((header::COOKIE, "od_refresh=tok"))
            .to_http_request();
        assert_eq!(token(&without), None);
        let empty = TestRequest::default()
            .insert_header((header::COOKIE, "od_refresh="))
            .insert_header((HEADER, "cookie"))
            .to_http_request();
        assert_eq!(token(&empty), None);
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped() {
        let v = set("abc", Duration::from_secs(60)).map(|v| v.to_str().unwrap_or("").to_string());
        assert_eq!(
            v.as_deref(),
            Some(
                "od_refresh=abc; Path=/api/v1/auth; Max-Age=60; HttpOnly; Secure; SameSite=Strict"
            )
        );
    }
}
