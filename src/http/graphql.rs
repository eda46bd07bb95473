//! GraphQL over HTTP POST and over WebSocket.

use std::net::SocketAddr;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
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
    sessions,
};

/// Builds an HTTP-level error response with a GraphQL-shaped body.
fn http_error(status: StatusCode, code: &str, message: String) -> Response {
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
    let request = match parse_request(&bytes) {
        Ok(request) => request,
        Err(message) => return http_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", message),
    };

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
    GraphQLResponse::from(response).into_response()
}

/// `GET /graphql`: GraphQL subscriptions over WebSocket (graphql-transport-ws or graphql-ws).
///
/// The `Authorization` key of the `connection_init` payload (in any letter case)
/// authenticates the connection.
pub async fn websocket(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .as_object()
                        .and_then(|object| {
                            object.iter().find(|(key, _)| key.eq_ignore_ascii_case("authorization")).map(|(_, v)| v)
                        })
                        .and_then(|value| value.as_str())
                        .and_then(bearer_token)
                        .map(str::to_owned);
                    let auth = match token {
                        None => Auth::Anonymous,
                        Some(token) => {
                            let app = &state.app;
                            sessions::authenticate(&app.db, app.clock.as_ref(), &app.sessions, &token)
                                .await
                                .map_err(|error| async_graphql::Error::new(error.to_string()))?
                        }
                    };
                    let mut data = async_graphql::Data::default();
                    data.insert(RequestContext { auth, client_address: Some(peer.ip().to_string()) });
                    Ok(data)
                })
                .serve()
                .await
        })
}
