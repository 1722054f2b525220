//! The HTTP surface: the route table (which the OpenAPI test reads too) and one module per
//! resource with one file per action.

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod client;
pub mod compress;
pub mod dashboard;
pub mod departments;
pub mod devices;
pub mod encoded;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod inspections;
pub mod issues;
pub mod me;
pub mod milestones;
pub mod notifications;
pub mod pagination;
pub mod problem;
pub mod projects;
pub mod reports;
pub mod request_span;
pub mod routing_rules;
pub mod sla;
pub mod time;
pub mod users;
pub mod webapp;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, ErrorCode};

/// The pattern of the route table that answered a request: found among the request's data
/// once its resource took it, without matching the path again.
#[derive(Debug, Clone, Copy)]
pub struct RoutePattern(pub &'static str);

impl RoutePattern {
    /// The pattern that answered `req`, if any did.
    pub fn of(req: &actix_web::HttpRequest) -> Option<&'static str> {
        req.app_data::<RoutePattern>().map(|p| p.0)
    }
}

/// Declares every route once: the same table registers the handlers and lists the
/// (method, path) pairs that `openapi.yaml` must describe.
macro_rules! route_table {
    ($( $path:literal { $( $method:ident => $handler:path ),+ $(,)? } )*) => {
        /// Every (method, path) the server answers, in OpenAPI path syntax.
        pub const ROUTES: &[(&str, &str)] = &[ $( $( (stringify!($method), $path), )+ )* ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        .app_data(RoutePattern($path))
                        $( .route(web::method(Method::$method).to($handler)) )+
                        .default_service(web::to(|| method_not_allowed(&[ $( stringify!($method) ),+ ]))),
                );
            )*
        }
    };
}

route_table! {
    // Matched in this order, and a pattern with a `{segment}` costs a regular-expression
    // run to reject: the busiest routes first, the app's files (cached by its worker) last.
    "/healthz" { GET => health::healthz }
    "/api/v1/issues" { GET => issues::list::list, POST => issues::create::create }
    "/api/v1/issues/{id}" { GET => issues::get::get }
    "/api/v1/issues/{id}/transitions" { POST => issues::transition::transition }
    "/api/v1/issues/{id}/comments" { GET => issues::comments::list, POST => issues::comments::create }
    "/api/v1/issues/{id}/events" { GET => issues::events::list }
    "/api/v1/issues/{id}/attachments" { GET => attachments::upload::list, POST => attachments::upload::upload }
    "/" { GET => webapp::index }
    "/manifest.webmanifest" { GET => webapp::manifest }
    "/sw.js" { GET => webapp::service_worker }
    "/readyz" { GET => health::readyz }
    "/metrics" { GET => health::metrics }
    "/openapi.yaml" { GET => health::openapi }
    "/dashboard" { GET => dashboard::page }
    "/dashboard/app.js" { GET => dashboard::script }
    "/dashboard/app.css" { GET => dashboard::style }
    "/api/v1/auth/login" { POST => auth::login::login }
    "/api/v1/auth/refresh" { POST => auth::refresh::refresh }
    "/api/v1/auth/logout" { POST => auth::logout::logout }
    "/api/v1/me" { GET => me::get }
    "/api/v1/me/password" { POST => me::change_password }
    "/api/v1/users" { GET => users::list::list, POST => users::create::create }
    "/api/v1/users/{id}" { GET => users::get::get, PATCH => users::update::update }
    "/api/v1/departments" { GET => departments::list::list, POST => departments::create::create }
    "/api/v1/departments/{id}" { GET => departments::get::get, PATCH => departments::update::update }
    "/api/v1/projects" { GET => projects::list::list, POST => projects::create::create }
    "/api/v1/projects/{id}" { GET => projects::get::get, PATCH => projects::update::update }
    "/api/v1/projects/{id}/milestones" { GET => milestones::list::list, POST => milestones::create::create }
    "/api/v1/milestones/{id}" { PATCH => milestones::update::update }
    "/api/v1/routing-rules" { GET => routing_rules::list, POST => routing_rules::create }
    "/api/v1/routing-rules/{id}" { DELETE => routing_rules::delete }
    "/api/v1/attachments/{id}" { GET => attachments::download::get }
    "/api/v1/attachments/{id}/thumbnail" { GET => attachments::download::thumbnail }
    "/api/v1/devices" { GET => devices::list, POST => devices::register }
    "/api/v1/devices/{id}" { DELETE => devices::remove }
    "/api/v1/notifications" { GET => notifications::list }
    "/api/v1/notifications/read-all" { POST => notifications::read_all }
    "/api/v1/notifications/{id}/read" { POST => notifications::read }
    "/api/v1/admin/deliveries" { GET => admin::deliveries::list }
    "/api/v1/admin/deliveries/{id}/retry" { POST => admin::deliveries::retry }
    "/api/v1/admin/imports" { POST => admin::imports::import }
    "/api/v1/inspections" { GET => inspections::list::list, POST => inspections::create::create }
    "/api/v1/inspections/{id}" { GET => inspections::list::get, PATCH => inspections::update::update }
    "/api/v1/inspections/{id}/ratings" { POST => inspections::ratings::rate }
    "/api/v1/inspection-alerts" { GET => inspections::alerts::list }
    "/api/v1/inspection-limits" { GET => inspections::alerts::limits, PUT => inspections::alerts::set_limits }
    "/api/v1/reports/departments" { GET => reports::figures::departments }
    "/api/v1/reports/projects" { GET => reports::figures::projects }
    "/api/v1/reports/observers" { GET => reports::figures::observers }
    "/api/v1/reports/monthly" { GET => reports::bulletin::monthly }
    "/api/v1/reports/ranking" { GET => reports::bulletin::quarterly }
    "/api/v1/sla-policies" { GET => sla::policies::list, PUT => sla::policies::replace }
    "/api/v1/calendar/{year}" { GET => sla::calendar::get, PUT => sla::calendar::put }
    "/app/{name}" { GET => webapp::asset }
    "/app/screens/{name}" { GET => webapp::screen }
}

async fn method_not_allowed(allow: &'static [&'static str]) -> Result<HttpResponse, AppError> {
    Err(AppError::method_not_allowed(allow))
}

/// The answer for a path no route matches.
pub async fn route_not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::new(ErrorCode::RouteNotFound))
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

/// For optional fields that may be left out but not sent as `null` (the schema gives them
/// one type): absent is `None` through `#[serde(default)]`, `null` is refused.
pub fn non_null<'de, T, D>(de: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(de).map(Some)
}

/// Collects field errors from several parses and fails with all of them at once.
#[derive(Default)]
pub struct Fields {
    errors: Vec<crate::error::FieldError>,
}

impl Fields {
    pub fn check<T>(&mut self, r: Result<T, crate::error::FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn push(&mut self, e: crate::error::FieldError) {
        self.errors.push(e);
    }

    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(self.errors))
        }
    }
}
