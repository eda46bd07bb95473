//! The HTTP surface: limits, probes, CORS, WebSocket handshakes and GraphiQL.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

/// The introspection query GraphiQL sends at start-up (graphql-js's standard one).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

async fn member_token(app: &TestApp) -> String {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    app.create_user(&operator, &slice, "nina", "NAMED", "MEMBER").await;
    app.login(Some("acme"), "nina", PASSWORD).await
}

/// Nests `me { sessions(first: 1) { user { sessions(first: 1) { … } } } }` to the
/// given depth; pages of one keep the complexity low.
fn nested_query(depth: usize) -> String {
    let mut query = String::from("id");
    for level in (0..depth.saturating_sub(2)).rev() {
        let field = if level % 2 == 0 { "sessions(first: 1)" } else { "user" };
        query = format!("{field} {{ {query} }}");
    }
    format!("{{ me {{ {query} }} }}")
}

db_test! {
    async fn introspection_passes_the_limits(app) {
        let data = app.ok(None, INTROSPECTION, json!({})).await;
        assert!(data["__schema"]["types"].as_array().is_some_and(|types| !types.is_empty()));
    }
}

db_test! {
    async fn query_past_depth_limit_is_rejected(app) {
        let token = member_token(&app).await;
        let limit = app.state.config.max_query_depth;
        app.ok(Some(&token), &nested_query(limit), json!({})).await;
        let error = app.error(Some(&token), &nested_query(limit + 1), json!({})).await;
        assert_eq!(code(&error), "QUERY_TOO_COMPLEX");
        assert_eq!(error["extensions"]["limit"], json!(limit));
    }
}

db_test! {
    async fn query_past_complexity_limit_is_rejected(app) {
        let token = member_token(&app).await;
        let query = "{ me { sessions(first: 100) { user { sessions(first: 100) { id } } } } }";
        let error = app.error(Some(&token), query, json!({})).await;
        assert_eq!(code(&error), "QUERY_TOO_COMPLEX");
        assert_eq!(error["extensions"]["limit"], json!(app.state.config.max_query_complexity));
    }
}

db_test! {
    async fn page_size_is_bounded(app) {
        let token = app.operator("root").await;
        let error = app.error(Some(&token), "{ slices(first: 101) { totalCount } }", json!({})).await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
        assert_eq!(error["extensions"]["field"], "first");
        let error = app.error(Some(&token), "{ me { sessions(first: 101) { id } } }", json!({})).await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
    }
}

db_test! {
    async fn body_past_size_limit_gets_413(app) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        // Only the headers are sent: the declared length alone must be refused,
        // before the server reads any of the body.
        let limit = app.state.config.max_body_bytes;
        let address = app.base_url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            limit + 1
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
        assert!(response.contains(&limit.to_string()), "the message names the limit: {response}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_past_limit_gets_413() {
    // A chunked body has no Content-Length, so the limit applies while reading it.
    // The limit is small here so the client has sent the whole body before the
    // server responds and closes the connection.
    let app = TestApp::start_with(crate::harness::Backend::Sqlite, |config| config.max_body_bytes = 2048)
        .await
        .unwrap();
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(vec![b' '; 4096])]);
    let response = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

db_test! {
    async fn malformed_json_gets_400(app) {
        for body in ["{\"query\": ", "not json at all", "[]", "{\"variables\": {}}"] {
            let response = app
                .client
                .post(format!("{}/graphql", app.base_url))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "body {body:?}");
            let answer: Value = response.json().await.unwrap();
            assert_eq!(code(&answer["errors"][0]), "BAD_REQUEST", "body {body:?}");
        }
    }
}

db_test! {
    async fn health_and_ready_answer(app) {
        let health = app.client.get(format!("{}/health", app.base_url)).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        assert!(ready.headers().contains_key("x-request-id"), "every response carries a request id");
    }
}

db_test! {
    async fn cors_is_closed_by_default(app) {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base_url))
            .header("Origin", "https://admin.example.com")
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("access-control-allow-origin").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_configured_origins() {
    let app = TestApp::start_with(crate::harness::Backend::Sqlite, |config| {
        config.cors_origins = vec!["https://admin.example.com".to_owned()];
    })
    .await
    .unwrap();
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.client
                .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base_url))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type")
                .send()
                .await
                .unwrap()
        }
    };
    let allowed = preflight("https://admin.example.com").await;
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://admin.example.com");
    let other = preflight("https://evil.example.net").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

/// Opens a GraphQL WebSocket with the given subprotocol and returns the server's reply to `connection_init`.
async fn websocket_init(app: &TestApp, protocol: &str, payload: Value) -> Value {
    let url = format!("{}/graphql", app.base_url.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(protocol).unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
        .send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string()))
        .await
        .unwrap();
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["type"] != "ka" {
                    return message;
                }
            }
            Some(Ok(Message::Close(frame))) => return json!({ "type": "close", "frame": format!("{frame:?}") }),
            Some(Ok(_)) => continue,
            other => panic!("WebSocket ended without an answer: {other:?}"),
        }
    }
}

db_test! {
    async fn websocket_accepts_both_protocols(app) {
        let token = member_token(&app).await;
        for protocol in ["graphql-transport-ws", "graphql-ws"] {
            let answer = websocket_init(&app, protocol, json!({ "authorization": format!("Bearer {token}") })).await;
            assert_eq!(answer["type"], "connection_ack", "{protocol}: {answer}");
            let anonymous = websocket_init(&app, protocol, json!({})).await;
            assert_ne!(anonymous["type"], "connection_ack", "{protocol} without a token: {anonymous}");
        }
    }
}

db_test! {
    async fn graphiql_loads_only_own_assets(app) {
        let page = app.client.get(format!("{}/graphiql", app.base_url)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = page.text().await.unwrap();

        let mut references = Vec::new();
        for attribute in ["src=\"", "href=\""] {
            for (start, _) in html.match_indices(attribute) {
                let rest = &html[start + attribute.len()..];
                references.push(rest[..rest.find('"').unwrap()].to_owned());
            }
        }
        assert!(references.iter().any(|r| r.ends_with(".js")), "the page loads scripts: {references:?}");
        assert!(references.iter().any(|r| r.ends_with(".css")), "the page loads styles: {references:?}");
        for reference in &references {
            assert!(reference.starts_with("/graphiql/"), "{reference} does not come from the service");
            let asset = app.client.get(format!("{}{reference}", app.base_url)).send().await.unwrap();
            assert_eq!(asset.status(), 200, "{reference}");
            assert!(!asset.bytes().await.unwrap().is_empty(), "{reference} is empty");
        }
        for foreign in ["https://", "http://", "//unpkg", "//cdn"] {
            assert!(!html.contains(foreign), "the page mentions {foreign}");
        }
    }
}

db_test! {
    async fn every_error_has_a_code(app) {
        let operator = app.operator("root").await;
        let cases = [
            ("{ me { id ", json!({}), "GRAPHQL_PARSE_FAILED", None),
            ("{ me { noSuchField } }", json!({}), "GRAPHQL_VALIDATION_FAILED", None),
            (
                "mutation { createSlice(input: {name: \"a\", displayName: \"A\", kind: MOON, edition: SERVICE_DESK}) { id } }",
                json!({}),
                "BAD_USER_INPUT",
                Some("input.kind"),
            ),
            (
                "mutation($input: CreateSliceInput!) { createSlice(input: $input) { id } }",
                json!({ "input": { "name": "a", "displayName": "A", "kind": "STAGING", "edition": "SERVICE_DESK", "ownedNamedLicenses": 3_000_000_000u64 } }),
                "BAD_USER_INPUT",
                None,
            ),
            (
                "query($id: ID!) { slice(id: $id) { id } }",
                json!({}),
                "BAD_USER_INPUT",
                None,
            ),
        ];
        for (query, variables, expected, field) in cases {
            let error = app.error(Some(&operator), query, variables).await;
            assert_eq!(code(&error), expected, "{query}: {error}");
            if let Some(field) = field {
                assert_eq!(error["extensions"]["field"], field, "{query}: {error}");
            }
        }
    }
}

db_test! {
    async fn non_json_content_type_gets_415(app) {
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("application/graphql")] {
            let mut request = app.client.post(format!("{}/graphql", app.base_url)).body("{\"query\": \"{ __typename }\"}");
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 415, "content type {content_type:?}");
        }
        let response = app
            .client
            .post(format!("{}/graphql", app.base_url))
            .header("content-type", "Application/JSON; charset=utf-8")
            .body("{\"query\": \"{ __typename }\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "media type parameters and letter case are accepted");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_body_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::start_with(crate::harness::Backend::Sqlite, |config| {
        config.request_timeout = std::time::Duration::from_secs(1);
    })
    .await
    .unwrap();
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The body is announced as 100 bytes but only one arrives.
    let head = format!("POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut response))
        .await
        .expect("the server answers within the timeout")
        .unwrap();
    let response = String::from_utf8_lossy(&response[..read]);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
}
