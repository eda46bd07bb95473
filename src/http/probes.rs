//! `/health` (the process is up) and `/ready` (the database responds).

use axum::{extract::State, http::StatusCode};

use super::HttpState;

pub async fn health() -> &'static str {
    "ok"
}

pub async fn ready(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    match crate::db::ping(&state.app.db).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed: the database does not respond");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
