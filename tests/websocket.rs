//! GraphQL over WebSocket: the connection phase and close codes of
//! graphql-transport-ws and graphql-ws, operations with the connection's
//! principal, and keep-alive, over real sockets.
//!
//! Every wait on the server is bounded by `WAIT`. The keep-alive tests set
//! intervals of a few hundred milliseconds and wait for the server's own
//! frames, so they take a few seconds each.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use seatwarden::config::Config;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, slice_input},
};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";
const SUBPROTOCOLS: [&str; 2] = [TRANSPORT_WS, LEGACY_WS];

/// Upper bound of every wait for the server.
const WAIT: Duration = Duration::from_secs(10);

/// A frame from the server, as the tests look at it.
#[derive(Debug)]
enum Received {
    Json(Value),
    /// A WebSocket Ping frame.
    Ping,
    Close(u16, String),
    /// The connection ended without a close frame.
    Ended,
}

fn websocket_url(app: &TestApp) -> String {
    format!("{}/graphql", app.base_url.replace("http://", "ws://"))
}

/// Opens a WebSocket offering `subprotocols` (comma-separated) and checks that the server chose `chosen`.
async fn connect_offering(app: &TestApp, subprotocols: &str, chosen: &str) -> Socket {
    let mut request = websocket_url(app).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(subprotocols).unwrap());
    let (socket, response) =
        tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await.unwrap().unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], chosen, "offered {subprotocols}");
    socket
}

async fn connect(app: &TestApp, subprotocol: &str) -> Socket {
    connect_offering(app, subprotocol, subprotocol).await
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// Receives the next frame other than a Pong frame.
async fn receive(socket: &mut Socket) -> Received {
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .unwrap_or_else(|_| panic!("the server sent nothing within {WAIT:?}"));
        return match frame {
            Some(Ok(Message::Text(text))) => Received::Json(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Ping(_))) => Received::Ping,
            Some(Ok(Message::Pong(_))) => continue,
            Some(Ok(Message::Close(Some(frame)))) => Received::Close(u16::from(frame.code), frame.reason.to_string()),
            Some(Ok(other)) => panic!("unexpected frame {other:?}"),
            Some(Err(_)) | None => Received::Ended,
        };
    }
}

fn is_keepalive(received: &Received) -> bool {
    match received {
        Received::Ping => true,
        Received::Json(message) => message["type"] == "ping" || message["type"] == "ka",
        _ => false,
    }
}

/// Receives the next JSON message that is not a keep-alive.
async fn receive_message(socket: &mut Socket) -> Value {
    loop {
        match receive(socket).await {
            received if is_keepalive(&received) => continue,
            Received::Json(message) => return message,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// Receives frames until the close frame and returns its code and reason;
/// panics on any message other than a keep-alive or `connection_error`.
async fn receive_close(socket: &mut Socket) -> (u16, String) {
    loop {
        match receive(socket).await {
            Received::Close(code, reason) => return (code, reason),
            received if is_keepalive(&received) => continue,
            Received::Json(message) if message["type"] == "connection_error" => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn connection_init(token: &str) -> Value {
    json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })
}

/// Opens a connection and completes the connection phase with `token`.
async fn initialized(app: &TestApp, subprotocol: &str, token: &str) -> Socket {
    let mut socket = connect(app, subprotocol).await;
    send(&mut socket, connection_init(token)).await;
    let ack = receive_message(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{subprotocol}: {ack}");
    socket
}

fn subscribe(subprotocol: &str, id: &str, query: &str) -> Value {
    let kind = if subprotocol == TRANSPORT_WS { "subscribe" } else { "start" };
    json!({ "type": kind, "id": id, "payload": { "query": query } })
}

/// Returns the message type that carries a result on `subprotocol`.
fn result_type(subprotocol: &str) -> &'static str {
    if subprotocol == TRANSPORT_WS { "next" } else { "data" }
}

/// Runs a single-result operation and returns its result payload, after checking that `complete` follows.
async fn run_operation(socket: &mut Socket, subprotocol: &str, id: &str, query: &str) -> Value {
    send(socket, subscribe(subprotocol, id, query)).await;
    let result = receive_message(socket).await;
    assert_eq!(result["type"], result_type(subprotocol), "{subprotocol}: {result}");
    assert_eq!(result["id"], id, "{subprotocol}: {result}");
    let complete = receive_message(socket).await;
    assert_eq!(complete, json!({ "type": "complete", "id": id }), "{subprotocol}");
    result["payload"].clone()
}

db_test! {
    async fn valid_token_is_acknowledged(app) {
        let token = app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            for key in ["Authorization", "authorization", "AUTHORIZATION"] {
                let mut socket = connect(&app, subprotocol).await;
                send(&mut socket, json!({ "type": "connection_init", "payload": { key: format!("bearer {token}") } })).await;
                let ack = receive(&mut socket).await;
                assert!(
                    matches!(&ack, Received::Json(message) if message["type"] == "connection_ack"),
                    "{subprotocol} with key {key}: {ack:?}"
                );
                if subprotocol == LEGACY_WS {
                    let keepalive = receive(&mut socket).await;
                    assert!(
                        matches!(&keepalive, Received::Json(message) if message["type"] == "ka"),
                        "graphql-ws sends `ka` right after the ack: {keepalive:?}"
                    );
                }
            }
        }
    }
}

db_test! {
    async fn missing_token_closes_4403(app) {
        let payloads = [
            json!({ "type": "connection_init" }),
            json!({ "type": "connection_init", "payload": null }),
            json!({ "type": "connection_init", "payload": {} }),
            json!({ "type": "connection_init", "payload": { "Authorization": "" } }),
            json!({ "type": "connection_init", "payload": { "Authorization": "Bearer " } }),
            json!({ "type": "connection_init", "payload": { "Authorization": "Basic cm9vdDpwdw==" } }),
            json!({ "type": "connection_init", "payload": { "Authorization": 42 } }),
        ];
        for subprotocol in SUBPROTOCOLS {
            for payload in &payloads {
                let mut socket = connect(&app, subprotocol).await;
                send(&mut socket, payload.clone()).await;
                if subprotocol == LEGACY_WS {
                    let rejection = receive_message(&mut socket).await;
                    assert_eq!(rejection["type"], "connection_error", "{payload}: {rejection}");
                    assert!(rejection["payload"]["message"].as_str().unwrap().contains("Bearer TOKEN"), "{rejection}");
                }
                let (code, reason) = receive_close(&mut socket).await;
                assert_eq!(code, 4403, "{subprotocol} {payload}: {reason}");
                assert!(reason.contains("Bearer TOKEN"), "the reason names the expected payload: {reason}");
            }
        }
    }
}

db_test! {
    async fn unknown_or_ended_token_closes_4403(app) {
        let operator = app.operator("ops").await;
        let ended = app.login(None, "ops", PASSWORD).await;
        let logout = app.ok(Some(&ended), "mutation { logout }", json!({})).await;
        assert_eq!(logout["logout"], true);

        for subprotocol in SUBPROTOCOLS {
            for token in ["0000000000000000000000000000000000000000000", ended.as_str()] {
                let mut socket = connect(&app, subprotocol).await;
                send(&mut socket, connection_init(token)).await;
                let (code, reason) = receive_close(&mut socket).await;
                assert_eq!(code, 4403, "{subprotocol}: {reason}");
                assert!(reason.contains("no live session"), "{reason}");
            }
            // The operator's other session is unaffected.
            initialized(&app, subprotocol, &operator).await;
        }
    }
}

db_test! {
    async fn operation_after_logout_closes_4403(app) {
        app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            let token = app.login(None, "ops", PASSWORD).await;
            let mut socket = initialized(&app, subprotocol, &token).await;
            run_operation(&mut socket, subprotocol, "1", "{ me { username } }").await;

            app.ok(Some(&token), "mutation { logout }", json!({})).await;
            send(&mut socket, subscribe(subprotocol, "2", "{ me { username } }")).await;
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 4403, "{subprotocol}: {reason}");
        }
    }
}

db_test! {
    async fn subscribe_before_init_closes_4401(app) {
        for subprotocol in SUBPROTOCOLS {
            let mut socket = connect(&app, subprotocol).await;
            send(&mut socket, subscribe(subprotocol, "1", "{ __typename }")).await;
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 4401, "{subprotocol}: {reason}");
        }
    }
}

db_test! {
    async fn second_init_closes_4429(app) {
        let token = app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            let mut socket = initialized(&app, subprotocol, &token).await;
            send(&mut socket, connection_init(&token)).await;
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 4429, "{subprotocol}: {reason}");
        }
    }
}

db_test! {
    async fn malformed_message_closes_4400(app) {
        let token = app.operator("ops").await;
        let cases: [(&str, Message); 9] = [
            (TRANSPORT_WS, Message::text("not json")),
            (TRANSPORT_WS, Message::text("[]")),
            (TRANSPORT_WS, Message::text(r#"{"type":"bogus"}"#)),
            (TRANSPORT_WS, Message::text(r#"{"type":"start","id":"1","payload":{"query":"{ __typename }"}}"#)),
            (TRANSPORT_WS, Message::text(r#"{"type":"connection_init","payload":"Bearer x"}"#)),
            (TRANSPORT_WS, Message::binary(vec![0xff, 0xfe, 0x00])),
            (LEGACY_WS, Message::text("not json")),
            (LEGACY_WS, Message::text(r#"{"type":"ping"}"#)),
            (LEGACY_WS, Message::text(r#"{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}}"#)),
        ];
        for (subprotocol, message) in cases {
            let mut socket = connect(&app, subprotocol).await;
            let sent = format!("{message:?}");
            socket.send(message).await.unwrap();
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 4400, "{subprotocol} {sent}: {reason}");
            assert!(reason.starts_with("Invalid message: "), "{reason}");
        }

        // After the acknowledgement, too.
        let after_ack = [
            json!({ "type": "subscribe", "payload": { "query": "{ __typename }" } }),
            json!({ "type": "subscribe", "id": "", "payload": { "query": "{ __typename }" } }),
            json!({ "type": "subscribe", "id": "1" }),
            json!({ "type": "subscribe", "id": "1", "payload": { "query": "" } }),
            json!({ "type": "complete" }),
        ];
        for message in after_ack {
            let mut socket = initialized(&app, TRANSPORT_WS, &token).await;
            send(&mut socket, message.clone()).await;
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 4400, "{message}: {reason}");
        }
    }
}

db_test! {
    async fn operation_sees_connection_principal(app) {
        let token = app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            let mut socket = initialized(&app, subprotocol, &token).await;
            let payload = run_operation(&mut socket, subprotocol, "me", "{ me { username role } }").await;
            assert_eq!(payload, json!({ "data": { "me": { "username": "ops", "role": "OPERATOR" } } }), "{subprotocol}");
        }
    }
}

db_test! {
    async fn finished_operation_id_is_reusable(app) {
        let token = app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            let mut socket = initialized(&app, subprotocol, &token).await;
            for _ in 0..3 {
                let payload = run_operation(&mut socket, subprotocol, "1", "{ __typename }").await;
                assert_eq!(payload, json!({ "data": { "__typename": "Query" } }), "{subprotocol}");
            }
        }
    }
}

db_test! {
    async fn invalid_operation_gets_errors(app) {
        let token = app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            let mut socket = initialized(&app, subprotocol, &token).await;
            // async-graphql reports validation errors in a result message
            // followed by `complete`, not in graphql-transport-ws's `error` message.
            let payload = run_operation(&mut socket, subprotocol, "1", "{ noSuchField }").await;
            assert!(payload["errors"][0]["message"].as_str().unwrap().contains("noSuchField"), "{subprotocol}: {payload}");

            let after = run_operation(&mut socket, subprotocol, "2", "{ __typename }").await;
            assert_eq!(after["data"]["__typename"], "Query", "{subprotocol}: the connection stays usable");
        }
    }
}

fn session_events(subprotocol: &str, id: &str, slice_id: &str) -> Value {
    let mut message = subscribe(
        subprotocol,
        id,
        "subscription($s: ID!) { sessionEvents(sliceId: $s) { kind session { user { username } } } }",
    );
    message["payload"]["variables"] = json!({ "s": slice_id });
    message
}

db_test! {
    async fn running_operation_id_closes_4409(app) {
        let operator = app.operator("ops").await;
        let slice = app.create_slice(&operator, slice_input("acme")).await;
        let mut socket = initialized(&app, TRANSPORT_WS, &operator).await;
        send(&mut socket, session_events(TRANSPORT_WS, "events", &slice)).await;
        send(&mut socket, session_events(TRANSPORT_WS, "events", &slice)).await;
        let (code, reason) = receive_close(&mut socket).await;
        assert_eq!(code, 4409, "{reason}");
        assert_eq!(reason, "Subscriber for events already exists");
    }
}

db_test! {
    async fn legacy_running_operation_id_is_replaced(app) {
        let operator = app.operator("ops").await;
        let slice = app.create_slice(&operator, slice_input("acme")).await;
        let mut socket = initialized(&app, LEGACY_WS, &operator).await;
        send(&mut socket, session_events(LEGACY_WS, "events", &slice)).await;
        send(&mut socket, session_events(LEGACY_WS, "events", &slice)).await;

        // Neither the replaced operation nor the stopped one sends `complete`,
        // so the next messages are the query's.
        let payload = run_operation(&mut socket, LEGACY_WS, "q1", "{ __typename }").await;
        assert_eq!(payload["data"]["__typename"], "Query");
        send(&mut socket, json!({ "type": "stop", "id": "events" })).await;
        let payload = run_operation(&mut socket, LEGACY_WS, "q2", "{ __typename }").await;
        assert_eq!(payload["data"]["__typename"], "Query");
    }
}

db_test! {
    async fn complete_of_unknown_id_is_ignored(app) {
        let token = app.operator("ops").await;
        for subprotocol in SUBPROTOCOLS {
            let mut socket = initialized(&app, subprotocol, &token).await;
            let kind = if subprotocol == TRANSPORT_WS { "complete" } else { "stop" };
            send(&mut socket, json!({ "type": kind, "id": "never-started" })).await;
            let payload = run_operation(&mut socket, subprotocol, "1", "{ __typename }").await;
            assert_eq!(payload["data"]["__typename"], "Query", "{subprotocol}");
        }
    }
}

db_test! {
    async fn client_ping_gets_pong(app) {
        let token = app.operator("ops").await;
        let mut socket = connect(&app, TRANSPORT_WS).await;
        send(&mut socket, json!({ "type": "ping", "payload": { "sent": 1 } })).await;
        assert_eq!(receive_message(&mut socket).await, json!({ "type": "pong", "payload": { "sent": 1 } }), "before init");

        send(&mut socket, connection_init(&token)).await;
        assert_eq!(receive_message(&mut socket).await["type"], "connection_ack");
        send(&mut socket, json!({ "type": "ping" })).await;
        assert_eq!(receive_message(&mut socket).await, json!({ "type": "pong" }), "after the ack");
    }
}

db_test! {
    async fn legacy_terminate_closes_1000(app) {
        let token = app.operator("ops").await;
        let mut socket = initialized(&app, LEGACY_WS, &token).await;
        send(&mut socket, json!({ "type": "connection_terminate" })).await;
        let (code, reason) = receive_close(&mut socket).await;
        assert_eq!(code, 1000, "{reason}");
    }
}

db_test! {
    async fn negotiated_subprotocol_is_spoken(app) {
        // The server prefers graphql-transport-ws whatever the client's order,
        // and speaks the subprotocol it named in the response.
        let mut socket = connect_offering(&app, "graphql-ws, graphql-transport-ws", TRANSPORT_WS).await;
        send(&mut socket, json!({ "type": "ping" })).await;
        assert_eq!(receive_message(&mut socket).await, json!({ "type": "pong" }));

        let mut legacy = connect_offering(&app, "graphql-ws, other", LEGACY_WS).await;
        send(&mut legacy, json!({ "type": "ping" })).await;
        let (code, _) = receive_close(&mut legacy).await;
        assert_eq!(code, 4400, "graphql-ws has no ping message");
    }
}

db_test! {
    async fn upgrade_without_subprotocol_is_400(app) {
        for offered in [None, Some("graphql-sse"), Some("GRAPHQL-WS")] {
            let mut request = websocket_url(&app).into_client_request().unwrap();
            if let Some(offered) = offered {
                request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(offered));
            }
            let error = tokio_tungstenite::connect_async(request).await.expect_err("the upgrade must fail");
            let tungstenite::Error::Http(response) = error else {
                panic!("expected an HTTP error response for {offered:?}, got {error:?}");
            };
            assert_eq!(response.status(), 400, "{offered:?}");
        }
    }
}

db_test! {
    config = |config| config.ws_init_timeout = Duration::from_millis(300);
    async fn no_init_within_timeout_closes_4408(app) {
        for subprotocol in SUBPROTOCOLS {
            let opened = Instant::now();
            let mut socket = connect(&app, subprotocol).await;
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 4408, "{subprotocol}: {reason}");
            assert!(opened.elapsed() >= Duration::from_millis(300), "closed after {:?}", opened.elapsed());
            assert!(reason.contains("300ms"), "the reason names the timeout: {reason}");
        }
    }
}

db_test! {
    config = |config| {
        config.ws_ping_interval = Duration::from_millis(200);
        config.ws_idle_timeout = Duration::from_secs(5);
    };
    async fn server_pings_at_interval(app) {
        let token = app.operator("ops").await;

        let mut socket = initialized(&app, TRANSPORT_WS, &token).await;
        let mut ping_times = Vec::new();
        while ping_times.len() < 4 {
            match receive(&mut socket).await {
                Received::Json(message) if message == json!({ "type": "ping" }) => {
                    ping_times.push(Instant::now());
                    send(&mut socket, json!({ "type": "pong" })).await;
                }
                other => panic!("expected a ping message, got {other:?}"),
            }
        }
        for pair in ping_times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= Duration::from_millis(100), "pings {gap:?} apart with a 200ms interval");
        }

        let mut legacy = initialized(&app, LEGACY_WS, &token).await;
        let (mut frames, mut kas) = (0, 0);
        while frames < 3 || kas < 3 {
            match receive(&mut legacy).await {
                Received::Ping => frames += 1,
                Received::Json(message) if message["type"] == "ka" => kas += 1,
                other => panic!("expected a Ping frame or `ka`, got {other:?}"),
            }
        }
    }
}

db_test! {
    config = |config| {
        config.ws_ping_interval = Duration::from_millis(200);
        config.ws_idle_timeout = Duration::from_millis(600);
    };
    async fn silent_client_is_dropped(app) {
        let token = app.operator("ops").await;
        // The server's idle time starts after this instant, when it has sent the ack.
        let started = Instant::now();
        let mut socket = initialized(&app, TRANSPORT_WS, &token).await;
        let mut pings = 0;
        let (code, reason) = loop {
            match receive(&mut socket).await {
                Received::Json(message) if message["type"] == "ping" => pings += 1,
                Received::Close(code, reason) => break (code, reason),
                other => panic!("expected pings, then the close frame; got {other:?}"),
            }
        };
        assert_eq!(code, 3008, "{reason}");
        assert!(pings >= 1, "the client was pinged before being dropped");
        assert!(started.elapsed() >= Duration::from_millis(600), "dropped after {:?}", started.elapsed());
    }
}

db_test! {
    config = |config| {
        config.ws_ping_interval = Duration::from_millis(200);
        config.ws_idle_timeout = Duration::from_secs(1);
    };
    async fn responsive_client_stays_connected(app) {
        let token = app.operator("ops").await;
        let stay = Duration::from_secs(3);

        let mut socket = initialized(&app, TRANSPORT_WS, &token).await;
        let acknowledged = Instant::now();
        while acknowledged.elapsed() < stay {
            match receive(&mut socket).await {
                Received::Json(message) if message["type"] == "ping" => send(&mut socket, json!({ "type": "pong" })).await,
                other => panic!("graphql-transport-ws: expected pings, got {other:?}"),
            }
        }
        let payload = run_operation(&mut socket, TRANSPORT_WS, "1", "{ __typename }").await;
        assert_eq!(payload["data"]["__typename"], "Query");

        // tungstenite replies to each Ping frame with a Pong frame while the socket is read.
        let mut legacy = initialized(&app, LEGACY_WS, &token).await;
        let acknowledged = Instant::now();
        while acknowledged.elapsed() < stay {
            let received = receive(&mut legacy).await;
            assert!(is_keepalive(&received), "graphql-ws: expected Ping frames and `ka`, got {received:?}");
        }
        let payload = run_operation(&mut legacy, LEGACY_WS, "1", "{ __typename }").await;
        assert_eq!(payload["data"]["__typename"], "Query");
    }
}

/// Opens a graphql-ws connection over a plain TCP stream, so that no client
/// library replies to the server's Ping frames, and sends `connection_init`.
async fn raw_legacy_connection(app: &TestApp, token: &str) -> TcpStream {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /graphql HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-ws\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();

    // Reads the response head byte by byte, so no frame is consumed with it.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(WAIT, stream.read(&mut byte)).await.unwrap().unwrap();
        assert_eq!(read, 1, "the connection ended during the handshake: {}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");

    let init = connection_init(token).to_string();
    stream.write_all(&masked_text_frame(&init)).await.unwrap();
    stream
}

/// Encodes a client text frame. Clients must mask their frames; a zero
/// masking key is valid and leaves the payload as it is.
fn masked_text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mut frame = vec![0x81];
    if payload.len() < 126 {
        frame.push(0x80 | payload.len() as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// Splits the first whole server frame off `buffer` as (opcode, payload).
fn take_frame(buffer: &mut Vec<u8>) -> Option<(u8, Vec<u8>)> {
    if buffer.len() < 2 {
        return None;
    }
    assert_eq!(buffer[1] & 0x80, 0, "server frames are unmasked");
    let (length, header) = match buffer[1] & 0x7f {
        126 if buffer.len() >= 4 => (usize::from(u16::from_be_bytes([buffer[2], buffer[3]])), 4),
        127 => panic!("unexpectedly long frame"),
        126 => return None,
        length => (usize::from(length), 2),
    };
    if buffer.len() < header + length {
        return None;
    }
    let opcode = buffer[0] & 0x0f;
    let payload = buffer[header..header + length].to_vec();
    buffer.drain(..header + length);
    Some((opcode, payload))
}

db_test! {
    config = |config| {
        config.ws_ping_interval = Duration::from_millis(200);
        config.ws_idle_timeout = Duration::from_millis(600);
    };
    async fn silent_legacy_client_is_dropped(app) {
        const TEXT: u8 = 0x1;
        const CLOSE: u8 = 0x8;
        const PING: u8 = 0x9;

        let token = app.operator("ops").await;
        let mut stream = raw_legacy_connection(&app, &token).await;
        let mut buffer = Vec::new();
        let mut texts = Vec::new();
        let mut pings = 0;
        let close = 'read: loop {
            let mut chunk = [0u8; 1024];
            let read = tokio::time::timeout(WAIT, stream.read(&mut chunk)).await.unwrap().unwrap();
            assert!(read > 0, "the connection ended before a close frame; texts so far: {texts:?}");
            buffer.extend_from_slice(&chunk[..read]);
            while let Some((opcode, payload)) = take_frame(&mut buffer) {
                match opcode {
                    TEXT => texts.push(String::from_utf8(payload).unwrap()),
                    PING => pings += 1,
                    CLOSE => break 'read payload,
                    other => panic!("unexpected opcode {other}"),
                }
            }
        };

        assert!(texts[0].contains("connection_ack"), "{texts:?}");
        assert!(pings >= 1, "the client was pinged before being dropped");
        let code = u16::from_be_bytes([close[0], close[1]]);
        assert_eq!(code, 3008, "{}", String::from_utf8_lossy(&close[2..]));
    }
}

#[test]
fn invalid_ws_timing_names_keys() {
    let cases = [
        (Config { ws_init_timeout: Duration::ZERO, ..Config::default() }, "SEATWARDEN_WS_INIT_TIMEOUT"),
        (Config { ws_ping_interval: Duration::ZERO, ..Config::default() }, "SEATWARDEN_WS_PING_INTERVAL"),
        (
            Config {
                ws_ping_interval: Duration::from_secs(15),
                ws_idle_timeout: Duration::from_secs(20),
                ..Config::default()
            },
            "SEATWARDEN_WS_IDLE_TIMEOUT",
        ),
    ];
    for (config, key) in cases {
        let error = config.validate().expect_err(key);
        assert!(error.0.contains(key), "{error}");
    }
    assert!(Config::default().validate().is_ok(), "the defaults are valid");
}

db_test! {
    async fn oversized_message_ends_connection(app) {
        let token = app.operator("ops").await;
        let mut socket = initialized(&app, TRANSPORT_WS, &token).await;
        let query = format!("{{ __typename }} # {}", "x".repeat(app.state.config.max_body_bytes));
        // The server may close while the frame is still being written, so the send may fail.
        let _ = socket.send(Message::text(subscribe(TRANSPORT_WS, "1", &query).to_string())).await;
        let received = receive(&mut socket).await;
        assert!(matches!(received, Received::Ended), "{received:?}");
    }
}

db_test! {
    async fn operation_burst_leaves_pool_free(app) {
        let token = app.operator("ops").await;
        let mut socket = initialized(&app, TRANSPORT_WS, &token).await;
        // More operations at once than the pool has connections: each runs in
        // its own task, so none waits on a connection only the others hold.
        let query = "{ me { username sessions { id user { username } } } currentSession { id } }";
        for index in 0..60 {
            send(&mut socket, subscribe(TRANSPORT_WS, &format!("op{index}"), query)).await;
        }
        let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
        assert_eq!(ready.status(), 200, "the pool still serves other requests");
        let mut completed = 0;
        while completed < 60 {
            let message = receive_message(&mut socket).await;
            match message["type"].as_str() {
                Some("next") => assert!(message["payload"].get("errors").is_none(), "{message}"),
                Some("complete") => completed += 1,
                other => panic!("unexpected message {other:?}: {message}"),
            }
        }
        let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
        assert_eq!(ready.status(), 200);
    }
}

db_test! {
    async fn draining_closes_subscriptions_with_going_away(app) {
        let operator = app.operator("root").await;
        let slice = app.create_slice(&operator, slice_input("acme")).await;
        let mut sockets = Vec::new();
        for subprotocol in SUBPROTOCOLS {
            let mut socket = initialized(&app, subprotocol, &operator).await;
            send(&mut socket, session_events(subprotocol, "1", &slice)).await;
            // The subscription is registered once a second operation on the same connection answers.
            let answer = run_operation(&mut socket, subprotocol, "2", "{ me { username } }").await;
            assert_eq!(answer["data"]["me"]["username"], "root", "{subprotocol}: {answer}");
            sockets.push((subprotocol, socket));
        }
        let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
        assert_eq!(ready.status(), 200);

        app.state.lifecycle.begin_drain();
        for (subprotocol, mut socket) in sockets {
            let (code, reason) = receive_close(&mut socket).await;
            assert_eq!(code, 1001, "{subprotocol}: {reason}");
        }
        let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
        assert_eq!(ready.status(), 503, "/ready answers 503 while draining");
        let mut late = connect(&app, TRANSPORT_WS).await;
        let (code, _) = receive_close(&mut late).await;
        assert_eq!(code, 1001, "a connection opened while draining is closed at once");
    }
}
