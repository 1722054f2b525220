//! Each request's log span.

/// Each request's span: the fields `tracing_actix_web` gives by default, each worked out only
/// when the span is logged (the default builder works out all of them for every request,
/// matching the route a second time even where nothing is logged). The route is recorded
/// when the answer is ready, from the match the metrics make (`startup`).
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        use tracing::field::Empty;
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = Empty,
            http.flavor = ?request.version(),
            http.scheme = %request.connection_info().scheme(),
            http.host = %request.connection_info().host(),
            // The address throttling counts against: `X-Forwarded-For` only from trusted
            // proxies, never as the client wrote it.
            http.client_ip = %client_address(request),
            http.user_agent = %request
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|h| h.to_str().ok())
                .unwrap_or(""),
            http.target = %request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""),
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request
                .extensions()
                .get::<tracing_actix_web::RequestId>()
                .map(ToString::to_string)
                .unwrap_or_default(),
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

fn client_address(request: &actix_web::dev::ServiceRequest) -> String {
    let hops = request
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(0, |state| state.settings.trusted_proxy_hops);
    crate::api::client::address(request.request(), hops)
}
