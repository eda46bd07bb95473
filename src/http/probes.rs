//! `/health` (the process is up) and `/ready` (the database responds and the
//! service is not shutting down).

use axum::{extract::State, http::StatusCode};

use super::HttpState;

pub async fn health() -> &'static str {
    "ok"
}

/// Returns 503 once shutdown has started, so load balancers stop sending
/// requests before the server stops accepting them.
pub async fn ready(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    if state.app.lifecycle.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    // A probe gets its answer within a second, even while the pool waits for a connection.
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), crate::db::ping(&state.app.db)).await;
    match ping.unwrap_or_else(|_| Err(sea_orm::DbErr::Custom("no answer within 1 s".to_owned()))) {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed: the database does not respond");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
