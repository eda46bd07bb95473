//! `GET /export/usage.csv`: a slice's usage history as CSV, with the same
//! bearer authentication, scoping and numbers as the `usage` field of the
//! Subscription Center.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use serde_json::json;

use super::{HttpState, graphql::authenticate};
use crate::{
    access,
    error::{AppError, AppResult},
    validation,
    graphql::error::to_graphql_error,
    history::{self, UsagePoint},
};

/// The header row; each following row is one UTC day, oldest first.
const HEADER: [&str; 6] =
    ["date", "named_assigned", "concurrent_peak", "sessions_started", "logins_blocked", "logins_would_be_blocked"];

/// Returns the CSV, or an error with its HTTP status and a GraphQL-shaped JSON body.
pub async fn usage_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match export(&state, &headers, &params).await {
        Ok((filename, body)) => {
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                .unwrap_or(HeaderValue::from_static("attachment"));
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response()
        }
        Err(error) => error_response(&error),
    }
}

async fn export(state: &HttpState, headers: &HeaderMap, params: &HashMap<String, String>) -> AppResult<(String, String)> {
    let auth = authenticate(state, headers).await?;
    let principal = auth.principal()?;
    let app = &state.app;
    let slice_id = param(params, "sliceId", "the slice's id, e.g. ?sliceId=…&from=2027-01-01&to=2027-01-31")?;
    let slice = access::administered_slice(&app.db, principal, slice_id).await?;
    let from = date_param(params, "from")?;
    let to = date_param(params, "to")?;
    let today = app.clock.now().date_naive();
    let points = history::usage_points(&app.db, slice.id, from, to, today, app.config.max_usage_range_days).await?;
    tracing::info!(slice_id = %slice.id, %from, %to, user_id = %principal.user.id, "usage exported");
    Ok((format!("usage-{}-{from}-{to}.csv", slice.name), to_csv(&points)?))
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str, what: &str) -> AppResult<&'a str> {
    params
        .get(name)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| AppError::bad_input(name, format!("is required: give {what}")))
}

fn date_param(params: &HashMap<String, String>, name: &str) -> AppResult<NaiveDate> {
    let raw = param(params, name, "a date as YYYY-MM-DD")?;
    validation::parse_date(raw)
        .ok_or_else(|| AppError::bad_input(name, format!("`{raw}` is not a date; expected YYYY-MM-DD, e.g. 2027-01-31")))
}

/// Writes the header row and one row per point.
pub fn to_csv(points: &[UsagePoint]) -> AppResult<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
        writer.write_record(HEADER)?;
        for point in points {
            writer.write_record([
                point.date.to_string(),
                point.named_assigned.to_string(),
                point.concurrent_peak.to_string(),
                point.sessions_started.to_string(),
                point.logins_blocked.to_string(),
                point.logins_would_be_blocked.to_string(),
            ])?;
        }
        writer.flush()?;
        Ok(())
    };
    write(&mut writer).map_err(AppError::internal)?;
    let bytes = writer.into_inner().map_err(|error| AppError::internal(anyhow::anyhow!("{error}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::BadInput { .. } => StatusCode::BAD_REQUEST,
        AppError::LicenseLimitReached { .. } => StatusCode::CONFLICT,
        AppError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Builds the error response with the same message and `extensions` (code, field) as the GraphQL API.
fn error_response(error: &AppError) -> Response {
    let graphql = to_graphql_error(error);
    let body = json!({ "errors": [{ "message": graphql.message, "extensions": graphql.extensions }] });
    let mut response = (status_of(error), Json(body)).into_response();
    if matches!(error, AppError::Unauthenticated) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
