//! `GET /metrics`.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};

use super::{outbox, recorder};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::http::{HttpState, bearer_token};

/// Media type of the Prometheus text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Installs the recorder, so that everything from now on is recorded, and
/// returns the `GET /metrics` route.
pub fn route() -> MethodRouter<HttpState> {
    recorder::handle();
    get(scrape)
}

/// Renders every metric. HTTP 401 without the configured `metrics_token`,
/// HTTP 500 with a plain-text message when the recorder could not be
/// installed (the cause is in the log).
async fn scrape(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.app.config.metrics_token {
        let sent = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer_token);
        let matches = sent.is_some_and(|token| {
            // Comparing digests keeps the time independent of where the strings differ.
            let digest = |text: &str| Sha256::digest(text.as_bytes());
            digest(token) == digest(expected.expose_secret())
        });
        if !matches {
            let message = "send the configured metrics_token as `Authorization: Bearer TOKEN`\n";
            return (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::WWW_AUTHENTICATE, "Bearer")],
                message,
            )
                .into_response();
        }
    }
    let Some(handle) = recorder::handle() else {
        let message = "the Prometheus recorder is not installed; the service log has the cause\n";
        return (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response();
    };
    outbox::update_gauges(&state.app.db).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], handle.render()).into_response()
}
