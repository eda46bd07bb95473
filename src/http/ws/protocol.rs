//! The messages of graphql-transport-ws and graphql-ws, their parsing, the
//! close codes, and `End`, the close or disconnection that ends a connection.

use axum::http::HeaderValue;
use serde::Serialize;
use serde_json::Value;

pub(super) const INVALID_MESSAGE: u16 = 4400;
pub(super) const UNAUTHORIZED: u16 = 4401;
pub(super) const FORBIDDEN: u16 = 4403;
pub(super) const CONNECTION_INIT_TIMEOUT: u16 = 4408;
pub(super) const SUBSCRIBER_ALREADY_EXISTS: u16 = 4409;
pub(super) const TOO_MANY_INITIALISATION_REQUESTS: u16 = 4429;
/// The code async-graphql 7.2.1 also closes with when its keep-alive timeout passes.
pub(super) const IDLE_TIMEOUT: u16 = 3008;
pub(super) const INTERNAL_ERROR: u16 = 1011;
/// "Try Again Later": unlike after 1011, clients of the graphql-ws library reconnect after it.
pub(super) const TRY_AGAIN_LATER: u16 = 1013;
pub(super) const NORMAL_CLOSURE: u16 = 1000;
/// "Going Away": the server is shutting down (RFC 6455, section 7.4.1).
pub(super) const GOING_AWAY: u16 = 1001;

/// A close frame's reason is at most 123 bytes: 125 bytes of control-frame
/// payload minus the 2-byte code (RFC 6455, section 5.5).
pub(super) const MAX_CLOSE_REASON_BYTES: usize = 123;

/// The GraphQL-over-WebSocket subprotocol negotiated in the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subprotocol {
    /// `graphql-transport-ws`, from the graphql-ws library.
    TransportWs,
    /// `graphql-ws`, from the older subscriptions-transport-ws library.
    LegacyWs,
}

impl Subprotocol {
    pub(super) fn from_header(value: &HeaderValue) -> Option<Self> {
        match value.as_bytes() {
            b"graphql-transport-ws" => Some(Self::TransportWs),
            b"graphql-ws" => Some(Self::LegacyWs),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::LegacyWs => "graphql-ws",
        }
    }
}

/// A message from the client, in the terms of both subprotocols.
#[derive(Debug)]
pub(super) enum ClientMessage {
    ConnectionInit {
        payload: Option<Value>,
    },
    /// graphql-transport-ws only.
    Ping {
        payload: Option<Value>,
    },
    /// graphql-transport-ws only.
    Pong,
    /// `subscribe`, or `start` on graphql-ws.
    Subscribe {
        id: String,
        request: Box<async_graphql::Request>,
    },
    /// `complete`, or `stop` on graphql-ws.
    Complete {
        id: String,
    },
    /// graphql-ws only.
    ConnectionTerminate,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ServerMessage<'a> {
    ConnectionAck,
    /// graphql-ws only: the rejection of `connection_init`.
    ConnectionError {
        payload: ErrorPayload<'a>,
    },
    /// graphql-ws only: the keep-alive message.
    Ka,
    Ping,
    Pong {
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<Value>,
    },
    /// A result on graphql-transport-ws.
    Next {
        id: &'a str,
        payload: &'a async_graphql::Response,
    },
    /// A result on graphql-ws.
    Data {
        id: &'a str,
        payload: &'a async_graphql::Response,
    },
    Complete {
        id: &'a str,
    },
}

#[derive(Serialize)]
pub(super) struct ErrorPayload<'a> {
    pub(super) message: &'a str,
}

/// The end of a connection.
#[derive(Debug)]
pub(super) enum End {
    /// The server closes the socket with this code and reason.
    Close { code: u16, reason: String },
    /// The client closed the socket, or the socket failed, so nothing more can be sent.
    Disconnected,
}

impl End {
    pub(super) fn close(code: u16, reason: impl Into<String>) -> Self {
        Self::Close { code, reason: reason.into() }
    }

    pub(super) fn invalid(reason: impl std::fmt::Display) -> Self {
        Self::close(INVALID_MESSAGE, format!("Invalid message: {reason}"))
    }
}

/// Parses a client message of `subprotocol`, or returns the 4400 close that it calls for.
pub(super) fn parse_message(subprotocol: Subprotocol, text: &str) -> Result<ClientMessage, End> {
    let mut message: Value = serde_json::from_str(text).map_err(|error| End::invalid(format!("not JSON ({error})")))?;
    let Some(kind) = message.get("type").and_then(Value::as_str) else {
        return Err(End::invalid("a JSON object with a string `type` is expected"));
    };
    let kind = kind.to_owned();
    let payload = message.get_mut("payload").map(Value::take);
    match (subprotocol, kind.as_str()) {
        (_, "connection_init") => Ok(ClientMessage::ConnectionInit { payload }),
        (Subprotocol::TransportWs, "ping") => Ok(ClientMessage::Ping { payload }),
        (Subprotocol::TransportWs, "pong") => Ok(ClientMessage::Pong),
        (Subprotocol::TransportWs, "subscribe") | (Subprotocol::LegacyWs, "start") => {
            let id = operation_id(&message, &kind)?;
            let request = operation_request(payload, &kind)?;
            Ok(ClientMessage::Subscribe { id, request: Box::new(request) })
        }
        (Subprotocol::TransportWs, "complete") | (Subprotocol::LegacyWs, "stop") => {
            Ok(ClientMessage::Complete { id: operation_id(&message, &kind)? })
        }
        (Subprotocol::LegacyWs, "connection_terminate") => Ok(ClientMessage::ConnectionTerminate),
        _ => Err(End::invalid(format!("unknown message type `{kind}` for {}", subprotocol.name()))),
    }
}

fn operation_id(message: &Value, kind: &str) -> Result<String, End> {
    match message.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(End::invalid(format!("`{kind}` needs a non-empty string `id`"))),
    }
}

fn operation_request(payload: Option<Value>, kind: &str) -> Result<async_graphql::Request, End> {
    let payload = payload.unwrap_or(Value::Null);
    let has_query = payload.get("query").and_then(Value::as_str).is_some_and(|query| !query.trim().is_empty());
    if !has_query {
        return Err(End::invalid(format!("the `{kind}` payload needs a non-empty string `query`")));
    }
    serde_json::from_value(payload)
        .map_err(|error| End::invalid(format!("the `{kind}` payload is not a GraphQL request ({error})")))
}

/// Cuts `reason` to the length a close frame allows, at a character boundary.
pub(super) fn truncate_reason(mut reason: String) -> String {
    if reason.len() > MAX_CLOSE_REASON_BYTES {
        let end = reason.floor_char_boundary(MAX_CLOSE_REASON_BYTES);
        reason.truncate(end);
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close_code(result: Result<ClientMessage, End>) -> Option<u16> {
        match result {
            Err(End::Close { code, .. }) => Some(code),
            _ => None,
        }
    }

    #[test]
    fn parse_message_accepts_each_subprotocols_types() {
        let transport = Subprotocol::TransportWs;
        let legacy = Subprotocol::LegacyWs;
        let subscribe = r#"{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}}"#;
        let start = r#"{"type":"start","id":"1","payload":{"query":"{ __typename }","variables":null}}"#;

        assert!(matches!(parse_message(transport, subscribe), Ok(ClientMessage::Subscribe { .. })));
        assert!(matches!(parse_message(legacy, start), Ok(ClientMessage::Subscribe { .. })));
        assert!(matches!(
            parse_message(transport, r#"{"type":"complete","id":"1"}"#),
            Ok(ClientMessage::Complete { .. })
        ));
        assert!(matches!(parse_message(legacy, r#"{"type":"stop","id":"1"}"#), Ok(ClientMessage::Complete { .. })));
        assert!(matches!(parse_message(transport, r#"{"type":"ping"}"#), Ok(ClientMessage::Ping { payload: None })));
        assert!(matches!(
            parse_message(legacy, r#"{"type":"connection_terminate"}"#),
            Ok(ClientMessage::ConnectionTerminate)
        ));
    }

    #[test]
    fn parse_message_rejects_other_subprotocols_types() {
        assert_eq!(close_code(parse_message(Subprotocol::LegacyWs, r#"{"type":"ping"}"#)), Some(INVALID_MESSAGE));
        assert_eq!(
            close_code(parse_message(Subprotocol::TransportWs, r#"{"type":"start","id":"1"}"#)),
            Some(INVALID_MESSAGE)
        );
        assert_eq!(
            close_code(parse_message(Subprotocol::TransportWs, r#"{"type":"connection_terminate"}"#)),
            Some(INVALID_MESSAGE)
        );
    }

    #[test]
    fn parse_message_rejects_malformed_operations() {
        let cases = [
            "not json",
            "[1, 2]",
            r#"{"type": 7}"#,
            r#"{"type":"subscribe","payload":{"query":"{ __typename }"}}"#,
            r#"{"type":"subscribe","id":"","payload":{"query":"{ __typename }"}}"#,
            r#"{"type":"subscribe","id":"1"}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":"  "}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":"{ __typename }","variables":"x"}}"#,
            r#"{"type":"complete"}"#,
        ];
        for case in cases {
            assert_eq!(close_code(parse_message(Subprotocol::TransportWs, case)), Some(INVALID_MESSAGE), "{case}");
        }
    }

    #[test]
    fn truncate_reason_keeps_whole_characters() {
        let reason = "é".repeat(100);
        let truncated = truncate_reason(reason);
        assert!(truncated.len() <= MAX_CLOSE_REASON_BYTES);
        assert_eq!(truncated.len(), 122, "61 two-byte characters fit in 123 bytes");
        assert_eq!(truncate_reason("short".to_owned()), "short");
    }
}
