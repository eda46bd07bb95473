//! The HTTP surface: GraphQL over POST and WebSocket, GraphiQL, the license
//! dashboard, the usage export, metrics, health and readiness.

mod assets;
mod bench;
mod dashboard;
mod export;
mod graphiql;
mod graphql;
mod probes;
mod ws;

use std::time::Duration;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, Request, StatusCode, header},
    routing::get,
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnFailure, TraceLayer},
};

pub use graphql::bearer_token;
pub use ws::WebSocketConnection;

use crate::{graphql::AppSchema, state::AppState};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// State of the HTTP handlers.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
}

/// Builds the service's router.
pub fn router(app: AppState, schema: AppSchema) -> Router {
    let cors = cors_layer(&app.config.cors_origins);
    // A WebSocket upgrade answers at once, so the timeout does not limit the
    // upgraded connection, only the time to read a request and respond.
    // NOTE: axum's server sets no header-read timeout, so a client that never
    // finishes its headers holds its connection until it goes away.
    let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, app.config.request_timeout);
    let state = HttpState { app, schema };
    let mut router = Router::new()
        .route("/graphql", get(graphql::websocket).post(graphql::post))
        .route("/export/usage.csv", get(export::usage_csv))
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .route("/metrics", crate::metrics::route())
        .merge(graphiql::router())
        .merge(dashboard::router())
        .merge(bench::router(state.app.config.bench_routes))
        .with_state(state);
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router
        .layer(timeout)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
                })
                // A 5xx answer such as `/ready`'s 503 is expected in operation;
                // internal errors are logged at ERROR where they happen.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Allows the configured origins, or returns `None` when none are configured.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(Duration::from_secs(600)),
    )
}
