//! GraphQL over HTTP POST and over WebSocket.

use std::net::SocketAddr;

use axum::{
    Json,
    body::Body,
    extract::{ConnectInfo, State, WebSocketUpgrade},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::HttpState;
use crate::{
    auth::Auth,
    error::AppError,
    graphql::{
        RequestContext,
        error::{code_of, to_graphql_error},
    },
    metrics, sessions,
};

/// Builds an HTTP-level error response with a GraphQL-shaped body.
pub(super) fn http_error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))).into_response()
}

/// Tells whether reading the body failed because it passed the size limit.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// Establishes the caller from the `Authorization` header.
pub async fn authenticate(state: &HttpState, headers: &HeaderMap) -> Result<Auth, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Auth::Anonymous);
    };
    let Some(token) = value.to_str().ok().and_then(bearer_token) else {
        return Ok(Auth::Rejected);
    };
    let app = &state.app;
    sessions::authenticate(&app.db, app.clock.as_ref(), &app.sessions, token).await
}

/// Extracts the token of a `Bearer TOKEN` credential (the scheme in any letter case).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Parses a GraphQL-over-HTTP request body: a JSON object with a non-empty
/// `query` string, and optional `operationName`, `variables` and `extensions`.
fn parse_request(bytes: &[u8]) -> Result<async_graphql::Request, String> {
    const EXAMPLE: &str = "send JSON such as {\"query\": \"{ me { username } }\"}";
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| format!("the body is not valid JSON: {error}; {EXAMPLE}"))?;
    let has_query = value.get("query").and_then(|query| query.as_str()).is_some_and(|query| !query.trim().is_empty());
    if !value.is_object() || !has_query {
        return Err(format!("the body must be a JSON object with a non-empty `query` string; {EXAMPLE}"));
    }
    serde_json::from_value(value).map_err(|error| format!("the body is not a GraphQL request: {error}; {EXAMPLE}"))
}

/// `POST /graphql`: reads a bounded JSON body, authenticates and executes one operation.
pub async fn post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Records the request when dropped, so every return below is counted.
    let mut measured = metrics::GraphqlRequest::start();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        // Requiring JSON also keeps browsers from sending the API a cross-site
        // "simple request" (form or text/plain) without a CORS preflight.
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request with `Content-Type: application/json`".to_owned(),
        );
    }
    let limit = state.app.config.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return http_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than the limit of {limit} bytes"),
        );
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) if is_length_limit(&error) => {
            return http_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than the limit of {limit} bytes"),
            );
        }
        Err(error) => {
            return http_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", format!("reading the request body failed: {error}"));
        }
    };
    let mut request = match parse_request(&bytes) {
        Ok(request) => request,
        Err(message) => return http_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
    };
    measured.classify(&mut request);

    let auth = match authenticate(&state, &headers).await {
        Ok(auth) => auth,
        Err(error) => {
            // Logs the cause where the client must not see it.
            let graphql_error = to_graphql_error(&error);
            return http_error(StatusCode::OK, code_of(&error), graphql_error.message);
        }
    };
    let context = RequestContext { auth, client_address: Some(peer.ip().to_string()) };
    let response = state.schema.execute(request.data(context)).await;
    measured.finish(&response);
    Json(response).into_response()
}

/// `GET /graphql`: GraphQL over WebSocket (graphql-transport-ws or graphql-ws); see [`super::ws`].
pub async fn websocket(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    super::ws::upgrade(upgrade, state, peer)
}
