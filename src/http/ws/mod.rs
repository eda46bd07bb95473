//! GraphQL over WebSocket on `GET /graphql`: the graphql-transport-ws
//! subprotocol and the legacy graphql-ws subprotocol of subscriptions-transport-ws.
//!
//! This module runs the connection phase, keep-alive and the table of running
//! operations itself, and hands each operation to async-graphql's
//! `Schema::execute_stream_with_session_data`. The `http::WebSocket` of
//! async-graphql 7.2.1 is not used because it closes with 1002 and 1011 where
//! graphql-transport-ws prescribes 4403 and 4401, replaces a running operation
//! whose id is reused instead of closing with 4409, and never sends pings.
//!
//! This file contains `upgrade` and the lifecycle of a connection. The rest is in:
//!
//! - `protocol`: the message types, their parsing and the close codes.
//! - `connection`: the connection phase up to `connection_ack`, token
//!   authentication, and sending and receiving on the socket.
//! - `operations`: the main loop after `connection_ack`, keep-alive and the
//!   table of running operations.
//!
//! Close codes, the same on both subprotocols:
//!
//! | code | cause |
//! | --- | --- |
//! | 4400 | a message that is not JSON of a known `type` with the fields that type requires |
//! | 4401 | `subscribe` (graphql-ws: `start`) before `connection_ack` |
//! | 4403 | `connection_init` without `Authorization: Bearer TOKEN` or with a token of no live session, or an operation after the session ended |
//! | 4408 | no `connection_init` within `ws_init_timeout` |
//! | 4409 | `subscribe` with the id of an operation still running (graphql-transport-ws only) |
//! | 4429 | a second `connection_init` |
//! | 3008 | nothing received within `ws_idle_timeout` after `connection_ack` |
//! | 1013 | authenticating `connection_init` failed because the database is unavailable |
//! | 1011 | authenticating `connection_init` failed for another reason than the token |
//! | 1000 | `connection_terminate` (graphql-ws only) |
//! | 1001 | the server is shutting down |
//!
//! graphql-ws defines no close codes, so on it the server also sends
//! `connection_error` before closing when it rejects `connection_init`.
//!
//! NOTE: a message larger than `max_body_bytes` ends the connection without a
//! close frame. axum 0.8 passes tungstenite's size error on as a boxed
//! `axum::Error`, and telling it apart would need a direct tungstenite dependency.

mod connection;
mod operations;
mod protocol;

use std::net::SocketAddr;

use async_graphql::{Context, http::ALL_WEBSOCKET_PROTOCOLS};
use axum::{
    extract::ws::{WebSocket, WebSocketUpgrade},
    http::StatusCode,
    response::Response,
};
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use self::{
    connection::{Connection, Timing},
    protocol::{End, GOING_AWAY, Subprotocol},
};
use super::{HttpState, graphql::http_error};
#[cfg(doc)]
use crate::graphql::RequestContext;

/// The WebSocket connection an operation arrived on, stored in the connection's
/// data next to [`RequestContext`].
#[derive(Debug, Clone)]
pub struct WebSocketConnection {
    /// The session whose token authenticated `connection_init`.
    pub session_id: Uuid,
    /// `graphql-transport-ws` or `graphql-ws`.
    pub subprotocol: &'static str,
}

impl WebSocketConnection {
    /// Returns the connection the operation runs on, or `None` for an operation sent by HTTP POST.
    pub fn of<'a>(ctx: &Context<'a>) -> Option<&'a WebSocketConnection> {
        ctx.data_opt::<WebSocketConnection>()
    }
}

/// Upgrades `GET /graphql` to a GraphQL WebSocket, or rejects with HTTP 400 a
/// request that offers neither `graphql-transport-ws` nor `graphql-ws` in
/// `Sec-WebSocket-Protocol`.
///
/// The subprotocol spoken is the one the upgrade response names: the first of
/// `graphql-transport-ws`, `graphql-ws` that the client offered.
pub fn upgrade(upgrade: WebSocketUpgrade, state: HttpState, peer: SocketAddr) -> Response {
    let max_message_bytes = state.app.config.max_body_bytes;
    let upgrade = upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes);
    let Some(subprotocol) = upgrade.selected_protocol().and_then(Subprotocol::from_header) else {
        return http_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "a GraphQL WebSocket needs the header `Sec-WebSocket-Protocol: graphql-transport-ws` (or the legacy `graphql-ws`)"
                .to_owned(),
        );
    };
    let span = tracing::info_span!("websocket", subprotocol = subprotocol.name(), peer = %peer);
    upgrade.on_upgrade(move |socket| serve(socket, subprotocol, state, peer).instrument(span))
}

async fn serve(socket: WebSocket, subprotocol: Subprotocol, state: HttpState, peer: SocketAddr) {
    let mut connection = Connection {
        socket,
        subprotocol,
        peer,
        timing: Timing::from_config(&state.app.config),
        last_received: Instant::now(),
    };
    let draining = state.app.lifecycle.draining();
    let end = {
        let work = async {
            match connection.initialize(&state).await {
                Ok(token) => match connection.run(&state, &token).await {
                    Err(end) => end,
                    Ok(never) => match never {},
                },
                Err(end) => end,
            }
        };
        // Dropping `work` on shutdown drops the table of running operations, which stops them.
        tokio::select! {
            end = work => end,
            () = draining => End::close(GOING_AWAY, "the server is shutting down; reconnect to another instance"),
        }
    };
    connection.finish(end).await;
}
