//! The connection phase up to `connection_ack`, authentication of the
//! client's bearer token, and the socket: receiving, sending and the closing
//! handshake.

use std::{net::SocketAddr, time::Duration};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde_json::Value;
use tokio::time::Instant;

use super::protocol::{
    CONNECTION_INIT_TIMEOUT, ClientMessage, End, ErrorPayload, FORBIDDEN, INTERNAL_ERROR, NORMAL_CLOSURE,
    ServerMessage, Subprotocol, TRY_AGAIN_LATER, UNAUTHORIZED, parse_message, truncate_reason,
};
use crate::{
    auth::{Auth, Principal},
    config::Config,
    error::AppError,
    graphql::error::to_graphql_error,
    http::{HttpState, graphql::bearer_token},
    sessions,
};

pub(super) const NO_LIVE_SESSION: &str = "Forbidden: the token belongs to no live session";

/// How long the server waits for the client's reply to its close frame before
/// dropping the connection.
const CLOSE_REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// Timing of a connection, from the `ws_*` configuration keys.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    init_timeout: Duration,
    pub(super) ping_interval: Duration,
    pub(super) idle_timeout: Duration,
}

impl Timing {
    pub(super) fn from_config(config: &Config) -> Self {
        Self {
            init_timeout: config.ws_init_timeout,
            ping_interval: config.ws_ping_interval,
            idle_timeout: config.ws_idle_timeout,
        }
    }
}

/// One client's WebSocket after the upgrade. The methods of the connection
/// phase and the socket are here, and those of the phase after
/// `connection_ack` are in `operations`.
pub(super) struct Connection {
    pub(super) socket: WebSocket,
    pub(super) subprotocol: Subprotocol,
    pub(super) peer: SocketAddr,
    pub(super) timing: Timing,
    /// When the last frame of any kind arrived; the idle timeout counts from here.
    pub(super) last_received: Instant,
}

impl Connection {
    /// Waits for `connection_init`, authenticates its token and sends
    /// `connection_ack`, then returns the token.
    ///
    /// Every subscription of this service is for administrators and operators,
    /// so `connection_init` without a token is rejected here with 4403 rather
    /// than acknowledged and left to fail operation by operation.
    pub(super) async fn initialize(&mut self, state: &HttpState) -> Result<String, End> {
        let deadline = Instant::now() + self.timing.init_timeout;
        loop {
            let received = match tokio::time::timeout_at(deadline, self.receive()).await {
                Ok(received) => received?,
                Err(_elapsed) => {
                    let timeout = humantime::format_duration(self.timing.init_timeout);
                    return Err(End::close(
                        CONNECTION_INIT_TIMEOUT,
                        format!("Connection initialisation timeout: no connection_init within {timeout}"),
                    ));
                }
            };
            match received {
                None | Some(ClientMessage::Pong) => {}
                Some(ClientMessage::ConnectionInit { payload }) => return self.authenticate(state, payload).await,
                Some(ClientMessage::Ping { payload }) => self.send(&ServerMessage::Pong { payload }).await?,
                Some(ClientMessage::Subscribe { .. }) => {
                    return Err(End::close(UNAUTHORIZED, "Unauthorized: an operation arrived before connection_ack"));
                }
                // Completing an operation that cannot exist yet changes nothing.
                Some(ClientMessage::Complete { .. }) => {}
                Some(ClientMessage::ConnectionTerminate) => {
                    return Err(End::close(NORMAL_CLOSURE, "connection_terminate received"));
                }
            }
        }
    }

    async fn authenticate(&mut self, state: &HttpState, payload: Option<Value>) -> Result<String, End> {
        let authorization = match &payload {
            None | Some(Value::Null) => None,
            Some(Value::Object(fields)) => {
                fields.iter().find(|(key, _)| key.eq_ignore_ascii_case("authorization")).map(|(_, value)| value)
            }
            Some(_) => return Err(End::invalid("the connection_init payload must be a JSON object")),
        };
        let Some(token) = authorization.and_then(Value::as_str).and_then(bearer_token) else {
            return Err(self
                .reject_init(
                    FORBIDDEN,
                    "Forbidden: send {\"Authorization\": \"Bearer TOKEN\"} in the connection_init payload",
                )
                .await);
        };

        let principal = match authenticate_token(state, token).await {
            Ok(principal) => principal,
            Err(AuthFailure::NoLiveSession) => return Err(self.reject_init(FORBIDDEN, NO_LIVE_SESSION).await),
            Err(AuthFailure::Error(error)) => {
                let code = match error {
                    AppError::ServiceUnavailable(_) => TRY_AGAIN_LATER,
                    _ => INTERNAL_ERROR,
                };
                // Logs the cause, which the client must not see.
                to_graphql_error(&error);
                return Err(self.reject_init(code, "Authentication failed on the server; retry later").await);
            }
        };
        tracing::info!(session_id = %principal.session.id, user_id = %principal.user.id, "WebSocket connection authenticated");

        self.send(&ServerMessage::ConnectionAck).await?;
        if self.subprotocol == Subprotocol::LegacyWs {
            // After the first `ka`, a subscriptions-transport-ws client closes the
            // connection when no `ka` arrives within its `timeout` option.
            self.send(&ServerMessage::Ka).await?;
        }
        Ok(token.to_owned())
    }

    /// Sends `connection_error` on graphql-ws, which has no close codes, and
    /// returns the close with `code`.
    async fn reject_init(&mut self, code: u16, reason: &str) -> End {
        if self.subprotocol == Subprotocol::LegacyWs {
            let rejection = ServerMessage::ConnectionError { payload: ErrorPayload { message: reason } };
            if let Err(end) = self.send(&rejection).await {
                return end;
            }
        }
        End::close(code, reason)
    }

    /// Receives the next frame: `Some` message for a text or binary frame, and
    /// `None` for a control frame, which only counts as activity.
    pub(super) async fn receive(&mut self) -> Result<Option<ClientMessage>, End> {
        let frame = match self.socket.recv().await {
            Some(Ok(frame)) => frame,
            Some(Err(error)) => {
                tracing::debug!(%error, "reading from the WebSocket failed");
                return Err(End::Disconnected);
            }
            None => return Err(End::Disconnected),
        };
        self.last_received = Instant::now();
        match frame {
            Message::Text(text) => parse_message(self.subprotocol, text.as_str()).map(Some),
            Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => parse_message(self.subprotocol, text).map(Some),
                Err(_) => Err(End::invalid("a binary message is not UTF-8 JSON")),
            },
            Message::Ping(_) | Message::Pong(_) => Ok(None),
            Message::Close(frame) => {
                tracing::debug!(?frame, "the client closed the WebSocket");
                Err(End::Disconnected)
            }
        }
    }

    pub(super) async fn send(&mut self, message: &ServerMessage<'_>) -> Result<(), End> {
        let text = serde_json::to_string(message).map_err(|error| {
            tracing::error!(%error, "serializing a WebSocket message failed");
            End::close(INTERNAL_ERROR, "Internal error")
        })?;
        self.send_frame(Message::text(text)).await
    }

    /// Sends one frame. A client that has not taken it within the idle timeout
    /// has stopped reading, so the connection is dropped.
    pub(super) async fn send_frame(&mut self, frame: Message) -> Result<(), End> {
        match tokio::time::timeout(self.timing.idle_timeout, self.socket.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                tracing::debug!(%error, "writing to the WebSocket failed");
                Err(End::Disconnected)
            }
            Err(_elapsed) => {
                tracing::info!("dropping the WebSocket: the client has not read a message within the idle timeout");
                Err(End::Disconnected)
            }
        }
    }

    /// Sends the close frame, if any, and waits a bounded time for the
    /// client's reply. Dropping the TCP connection while client frames are
    /// still unread makes the kernel send a reset, which can discard the close
    /// frame before the client reads it.
    pub(super) async fn finish(mut self, end: End) {
        let End::Close { code, reason } = end else {
            tracing::debug!("WebSocket connection ended by the client");
            return;
        };
        tracing::info!(code, reason, "closing the WebSocket connection");
        let frame = CloseFrame { code, reason: truncate_reason(reason).into() };
        if self.send_frame(Message::Close(Some(frame))).await.is_ok() {
            let _ = tokio::time::timeout(CLOSE_REPLY_TIMEOUT, async {
                while let Some(Ok(_)) = self.socket.recv().await {}
            })
            .await;
        }
    }
}

/// The reason a token failed to authenticate.
pub(super) enum AuthFailure {
    /// The token belongs to no live session of an active user.
    NoLiveSession,
    /// The check itself failed, for example because the database is unavailable.
    Error(AppError),
}

pub(super) async fn authenticate_token(state: &HttpState, token: &str) -> Result<Box<Principal>, AuthFailure> {
    let app = &state.app;
    match sessions::authenticate(&app.db, app.clock.as_ref(), &app.sessions, token).await {
        Ok(Auth::Authenticated(principal)) => Ok(principal),
        Ok(Auth::Anonymous | Auth::Rejected) => Err(AuthFailure::NoLiveSession),
        Err(error) => Err(AuthFailure::Error(error)),
    }
}
