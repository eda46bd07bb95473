//! `/bench/…`: plain JSON handlers that read what two GraphQL queries read,
//! with the same token check and the same domain functions, so a benchmark
//! can measure what GraphQL adds on top. Mounted only when `bench_routes` is on.
//!
//! - `GET /bench/me/sessions` returns `me { sessions { id } }`: the caller's
//!   live sessions, newest first, at most 50.
//! - `GET /bench/users?sliceId=…` returns
//!   `users(sliceId: …, first: 50, filter: {licenseTypes: [NAMED]}) { totalCount edges { node { id username } } }`.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use entity::LicenseType;
use serde_json::{Value, json};

use super::{
    HttpState,
    graphql::{authenticate, http_error},
};
use crate::{
    access,
    error::{AppError, AppResult},
    graphql::error::{code_of, to_graphql_error},
    pagination::page_size,
    sessions,
    users::{self, UserFilter, UserOrder},
};

/// Page size of both lists, the default `first` of the GraphQL fields they mirror.
const FIRST: i32 = 50;

/// Returns the routes under `/bench/`, or no route when `enabled` (the `bench_routes` key) is false.
pub fn router(enabled: bool) -> Router<HttpState> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route("/bench/me/sessions", get(me_sessions))
        .route("/bench/users", get(named_users))
}

/// `GET /bench/me/sessions`: `{"sessions": [{"id": …}, …]}`.
async fn me_sessions(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    respond(list_own_sessions(&state, &headers).await)
}

/// `GET /bench/users?sliceId=…`: `{"totalCount": …, "nodes": [{"id": …, "username": …}, …]}`.
async fn named_users(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    respond(list_named_users(&state, &headers, &params).await)
}

async fn list_own_sessions(state: &HttpState, headers: &HeaderMap) -> AppResult<Value> {
    let auth = authenticate(state, headers).await?;
    let principal = auth.principal()?;
    let app = &state.app;
    let limit = page_size(Some(FIRST), app.config.max_page_size)?;
    let rows = sessions::list_for_user(&app.db, principal.user.id, true, limit, app.clock.now()).await?;
    let sessions: Vec<Value> = rows.iter().map(|session| json!({ "id": session.id })).collect();
    Ok(json!({ "sessions": sessions }))
}

async fn list_named_users(state: &HttpState, headers: &HeaderMap, params: &HashMap<String, String>) -> AppResult<Value> {
    let auth = authenticate(state, headers).await?;
    let principal = auth.principal()?;
    let app = &state.app;
    let slice_id = params
        .get("sliceId")
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| AppError::bad_input("sliceId", "is required: give the slice's id, e.g. ?sliceId=…"))?;
    let slice = access::administered_slice(&app.db, principal, slice_id).await?;
    let filter = UserFilter { license_types: Some(vec![LicenseType::Named]), ..UserFilter::default() };
    let page =
        users::list(&app.db, &slice, filter, UserOrder::default(), Some(FIRST), None, app.config.max_page_size).await?;
    let nodes: Vec<Value> =
        page.items.iter().map(|(_, user)| json!({ "id": user.id, "username": user.username })).collect();
    Ok(json!({ "totalCount": page.total_count, "nodes": nodes }))
}

/// Sends the JSON, or the error with an HTTP status and a GraphQL-shaped body.
fn respond(result: AppResult<Value>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            let status = match &error {
                AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::NotFound { .. } => StatusCode::NOT_FOUND,
                AppError::BadInput { .. } => StatusCode::BAD_REQUEST,
                AppError::LicenseLimitReached { .. } => StatusCode::CONFLICT,
                AppError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            // Converting the error logs an internal cause, which the client does not see.
            let message = to_graphql_error(&error).message;
            http_error(status, code_of(&error), message)
        }
    }
}
