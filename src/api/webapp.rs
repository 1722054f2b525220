//! The web app for every role: an installable shell at `/` (manifest, service worker, icon)
//! and its ES modules under `/app/`, compiled into the binary. It is built only on the
//! public API; nothing is fetched from another origin, and no script is inline.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// The app's files: path under `/app/`, content type, body.
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app/app.css"),
    ),
    ("main.js", JS, include_str!("../../assets/app/main.js")),
    ("api.js", JS, include_str!("../../assets/app/api.js")),
    ("dom.js", JS, include_str!("../../assets/app/dom.js")),
    ("photos.js", JS, include_str!("../../assets/app/photos.js")),
    ("outbox.js", JS, include_str!("../../assets/app/outbox.js")),
    ("i18n.js", JS, include_str!("../../assets/app/i18n.js")),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../assets/app/icon.svg"),
    ),
    (
        "screens/login.js",
        JS,
        include_str!("../../assets/app/screens/login.js"),
    ),
    (
        "screens/issues.js",
        JS,
        include_str!("../../assets/app/screens/issues.js"),
    ),
    (
        "screens/issue.js",
        JS,
        include_str!("../../assets/app/screens/issue.js"),
    ),
    (
        "screens/file.js",
        JS,
        include_str!("../../assets/app/screens/file.js"),
    ),
    (
        "screens/feed.js",
        JS,
        include_str!("../../assets/app/screens/feed.js"),
    ),
    (
        "screens/projects.js",
        JS,
        include_str!("../../assets/app/screens/projects.js"),
    ),
    (
        "screens/desk.js",
        JS,
        include_str!("../../assets/app/screens/desk.js"),
    ),
    (
        "screens/dashboard.js",
        JS,
        include_str!("../../assets/app/screens/dashboard.js"),
    ),
    (
        "screens/admin.js",
        JS,
        include_str!("../../assets/app/screens/admin.js"),
    ),
    (
        "screens/inspections.js",
        JS,
        include_str!("../../assets/app/screens/inspections.js"),
    ),
];

const JS: &str = "text/javascript; charset=utf-8";

/// Scripts and styles from this origin only; the API on this origin only; no framing.
pub const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn file(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // Revalidated on every load (the service worker serves them offline).
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(body)
}

pub async fn index() -> HttpResponse {
    file(
        "text/html; charset=utf-8",
        include_str!("../../assets/app/index.html"),
    )
}

pub async fn manifest() -> HttpResponse {
    file(
        "application/manifest+json",
        include_str!("../../assets/app/manifest.webmanifest"),
    )
}

/// At the root, so that it may control the whole app.
pub async fn service_worker() -> HttpResponse {
    file(JS, include_str!("../../assets/app/sw.js"))
}

pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    serve(&name)
}

pub async fn screen(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    serve(&format!("screens/{name}"))
}

fn serve(name: &str) -> Result<HttpResponse, AppError> {
    FILES
        .iter()
        .find(|(path, _, _)| *path == name)
        .map(|(_, content_type, body)| file(content_type, body))
        .ok_or_else(AppError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module the service worker keeps, or the page imports, that the server does not
    /// serve would break the whole app: every one is in the table.
    #[test]
    fn every_file_the_shell_names_is_served() {
        let sw = include_str!("../../assets/app/sw.js");
        let main = include_str!("../../assets/app/main.js");
        let named: Vec<&str> = sw
            .split('"')
            .chain(main.split('"'))
            .filter_map(|s| s.strip_prefix("/app/").or_else(|| s.strip_prefix("./")))
            .collect();
        assert!(named.len() >= 8, "{named:?}");
        for name in named {
            assert!(serve(name).is_ok(), "{name} is named but not served");
        }
    }
}
