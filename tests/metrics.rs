//! `GET /metrics`: the Prometheus text format and the service's metrics.
//!
//! The recorder is process-wide and tests run in parallel, so the tests read
//! series labelled with their own slice id, or compare a counter before and
//! after their own action (`>=`), never exact global values. Where a
//! background task applies an event, they scrape again a bounded number of times.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use seatwarden::{
    mail::{self as outbox, EmailDraft, Line},
    metrics,
    state::AppState,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
use uuid::Uuid;

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, slice_input},
};

/// Scrapes at most this many times while waiting for the background task.
const POLL_ATTEMPTS: usize = 500;

/// Pause between two scrapes of a wait.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Upper bound of every wait for a WebSocket message.
const WAIT: Duration = Duration::from_secs(10);

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename ... on LoginRejected { reason } } }";

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(format!("{}/metrics", app.base_url)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET /metrics failed");
    response.text().await.unwrap()
}

/// One sample of the text format: metric name, labels and value.
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// Parses a sample line such as `name{a="b",c="d"} 1`; `None` for comments and blank lines.
fn parse_sample(line: &str) -> Option<Sample> {
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(['{', ' ']).unwrap();
    let name = line[..name_end].to_owned();
    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        let mut value = String::new();
        let mut in_value = false;
        loop {
            let (index, character) = chars.next().unwrap();
            match (in_value, character) {
                (false, '}') => {
                    rest = &inner[index + 1..];
                    break;
                }
                (false, ',') => {}
                (false, '=') => {
                    assert_eq!(chars.next().unwrap().1, '"', "a label value starts with a quote: {line}");
                    in_value = true;
                }
                (false, character) => key.push(character),
                (true, '\\') => value.push(chars.next().unwrap().1),
                (true, '"') => {
                    labels.push((std::mem::take(&mut key), std::mem::take(&mut value)));
                    in_value = false;
                }
                (true, character) => value.push(character),
            }
        }
    }
    let value = rest.split_whitespace().next().unwrap().parse().unwrap();
    Some(Sample { name, labels, value })
}

/// Returns the sum of the samples of `name` whose labels include every pair
/// of `labels`, or `None` when no sample matches.
fn sample(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<f64> = body
        .lines()
        .filter_map(parse_sample)
        .filter(|sample| sample.name == name)
        .filter(|sample| labels.iter().all(|(key, value)| sample.labels.iter().any(|(k, v)| k == key && v == value)))
        .map(|sample| sample.value)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

async fn value(app: &TestApp, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    sample(&scrape(app).await, name, labels)
}

/// Scrapes until the sample equals `expected`, and returns the last value read.
async fn wait_for(app: &TestApp, name: &str, labels: &[(&str, &str)], expected: f64) -> Option<f64> {
    let mut last = None;
    for _ in 0..POLL_ATTEMPTS {
        last = value(app, name, labels).await;
        if last == Some(expected) {
            break;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    last
}

/// Posts one GraphQL request with an `operationName` and returns the response body.
async fn post(app: &TestApp, token: Option<&str>, query: &str, operation_name: Option<&str>) -> Value {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base_url))
        .json(&json!({ "query": query, "variables": {}, "operationName": operation_name }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Creates an operator and a slice; returns the operator's token and the slice id.
async fn operator_and_slice(app: &TestApp, slice_name: &str) -> (String, String) {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input(slice_name)).await;
    (operator, slice)
}

db_test! {
    async fn scrape_uses_text_format(app) {
        let response = app.client.get(format!("{}/metrics", app.base_url)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "content type {content_type}");
        assert_eq!(content_type, metrics::CONTENT_TYPE);

        let body = response.text().await.unwrap();
        assert!(body.contains("# TYPE seatwarden_logins_total counter"), "{body}");
        assert!(body.contains("# HELP seatwarden_logins_total "), "{body}");
        for outcome in ["success", "invalid_credentials", "too_many_attempts"] {
            assert!(sample(&body, "seatwarden_logins_total", &[("outcome", outcome)]).is_some(), "outcome {outcome} is registered");
        }
    }
}

db_test! {
    async fn login_outcomes_are_counted(app) {
        let (operator, slice) = operator_and_slice(&app, "logins").await;
        app.create_user(&operator, &slice, "ada", "NAMED", "MEMBER").await;
        let success = [("outcome", "success")];
        let invalid = [("outcome", "invalid_credentials")];
        let login_requests = [("operation_type", "mutation"), ("root_fields", "login"), ("outcome", "ok")];
        let body = scrape(&app).await;
        let successes = sample(&body, "seatwarden_logins_total", &success).unwrap_or(0.0);
        let invalids = sample(&body, "seatwarden_logins_total", &invalid).unwrap_or(0.0);
        let requests = sample(&body, "seatwarden_graphql_requests_total", &login_requests).unwrap_or(0.0);

        app.login(Some("logins"), "ada", PASSWORD).await;
        let input = json!({ "input": { "slice": "logins", "username": "ada", "password": "wrong password" } });
        let rejected = app.ok(None, LOGIN, input).await;
        assert_eq!(rejected["login"]["reason"], "INVALID_CREDENTIALS");

        let body = scrape(&app).await;
        assert!(sample(&body, "seatwarden_logins_total", &success).unwrap() >= successes + 1.0);
        assert!(sample(&body, "seatwarden_logins_total", &invalid).unwrap() >= invalids + 1.0);
        assert!(sample(&body, "seatwarden_graphql_requests_total", &login_requests).unwrap() >= requests + 2.0);
    }
}

db_test! {
    async fn queries_are_labelled_by_root_fields(app) {
        let operator = app.operator("root").await;
        let labels = [("operation_type", "query"), ("root_fields", "currentSession,me"), ("outcome", "ok")];
        let body = scrape(&app).await;
        let requests = sample(&body, "seatwarden_graphql_requests_total", &labels).unwrap_or(0.0);
        let timed = sample(&body, "seatwarden_graphql_request_duration_seconds_count", &labels).unwrap_or(0.0);

        app.ok(Some(&operator), "{ me { username } currentSession { id } me2: me { role } }", json!({})).await;

        let body = scrape(&app).await;
        assert!(sample(&body, "seatwarden_graphql_requests_total", &labels).unwrap() >= requests + 1.0);
        assert!(sample(&body, "seatwarden_graphql_request_duration_seconds_count", &labels).unwrap() >= timed + 1.0);
        let bucket = [("root_fields", "currentSession,me"), ("le", "+Inf")];
        assert!(sample(&body, "seatwarden_graphql_request_duration_seconds_bucket", &bucket).unwrap() >= timed + 1.0);
    }
}

db_test! {
    async fn client_text_never_becomes_label(app) {
        let operator = app.operator("root").await;
        let marker = format!("zz{}", Uuid::new_v4().simple());
        let unknown_operation = [("operation_type", "unknown"), ("root_fields", "unknown"), ("outcome", "error")];
        let unknown_field = [("operation_type", "query"), ("root_fields", "unknown"), ("outcome", "error")];
        let body = scrape(&app).await;
        let unknown_operations = sample(&body, "seatwarden_graphql_requests_total", &unknown_operation).unwrap_or(0.0);
        let unknown_fields = sample(&body, "seatwarden_graphql_requests_total", &unknown_field).unwrap_or(0.0);

        let body = post(&app, Some(&operator), "query Mine { me { username } }", Some(&marker)).await;
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("Unknown operation"), "{body}");
        let body = post(&app, Some(&operator), &format!("{{ {marker} }}"), None).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
        let body = post(&app, Some(&operator), &format!("{{ {marker}: me {{ username }} }}"), None).await;
        assert_eq!(body["data"][marker.as_str()]["username"], "root", "{body}");
        let body = post(&app, Some(&operator), &format!("query {marker} {{ me {{ username }} }}"), Some(&marker)).await;
        assert_eq!(body["data"]["me"]["username"], "root", "{body}");
        let body = post(&app, None, "{ me { username ", Some(&marker)).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED", "{body}");

        let body = scrape(&app).await;
        assert!(!body.contains(&marker), "the scrape contains client text:\n{body}");
        assert!(sample(&body, "seatwarden_graphql_requests_total", &unknown_operation).unwrap() >= unknown_operations + 2.0);
        assert!(sample(&body, "seatwarden_graphql_requests_total", &unknown_field).unwrap() >= unknown_fields + 1.0);
    }
}

db_test! {
    async fn seat_gauges_follow_sessions_and_updates(app) {
        // app::start_up may have started the task already; a second start does nothing.
        metrics::start(&app.state);
        let (operator, slice) = operator_and_slice(&app, "seats").await;
        let concurrent_in_use = [("slice_id", slice.as_str()), ("license_type", "CONCURRENT")];
        let named_in_use = [("slice_id", slice.as_str()), ("license_type", "NAMED")];
        let in_use = "seatwarden_licenses_in_use";
        let owned = "seatwarden_licenses_owned";

        app.create_user(&operator, &slice, "cy", "CONCURRENT", "MEMBER").await;
        assert_eq!(wait_for(&app, in_use, &concurrent_in_use, 0.0).await, Some(0.0));
        assert_eq!(wait_for(&app, owned, &concurrent_in_use, 5.0).await, Some(5.0));
        app.create_user(&operator, &slice, "nia", "NAMED", "MEMBER").await;
        assert_eq!(wait_for(&app, in_use, &named_in_use, 1.0).await, Some(1.0));
        assert_eq!(wait_for(&app, owned, &named_in_use, 10.0).await, Some(10.0));

        let token = app.login(Some("seats"), "cy", PASSWORD).await;
        assert_eq!(wait_for(&app, in_use, &concurrent_in_use, 1.0).await, Some(1.0), "after the login");
        app.ok(Some(&token), "mutation { logout }", json!({})).await;
        assert_eq!(wait_for(&app, in_use, &concurrent_in_use, 0.0).await, Some(0.0), "after the logout");

        app.ok(
            Some(&operator),
            "mutation($id: ID!) { updateSlice(id: $id, input: {ownedConcurrentLicenses: 7, ownedNamedLicenses: 12}) { id } }",
            json!({ "id": slice }),
        )
        .await;
        assert_eq!(wait_for(&app, owned, &concurrent_in_use, 7.0).await, Some(7.0));
        assert_eq!(wait_for(&app, owned, &named_in_use, 12.0).await, Some(12.0));
        assert_eq!(value(&app, in_use, &named_in_use).await, Some(1.0));
    }
}

db_test! {
    async fn seat_gauges_start_from_database(app) {
        let (_, slice) = operator_and_slice(&app, "refill").await;
        let concurrent = [("slice_id", slice.as_str()), ("license_type", "CONCURRENT")];
        let named = [("slice_id", slice.as_str()), ("license_type", "NAMED")];

        // A change written straight to the database publishes no event, so only
        // a task's start-up read of the database can report it.
        let slice_id = Uuid::parse_str(&slice).unwrap();
        entity::slice::Entity::update_many()
            .col_expr(entity::slice::Column::OwnedConcurrentLicenses, Expr::value(9))
            .col_expr(entity::slice::Column::Version, Expr::col(entity::slice::Column::Version).add(1))
            .filter(entity::slice::Column::Id.eq(slice_id))
            .exec(&app.state.db)
            .await
            .unwrap();

        // A second instance on the same database starts its own task.
        let second = AppState::new(app.state.db.clone(), (*app.state.config).clone(), app.clock.clone()).unwrap();
        metrics::start(&second);
        assert_eq!(wait_for(&app, "seatwarden_licenses_owned", &concurrent, 9.0).await, Some(9.0));
        assert_eq!(wait_for(&app, "seatwarden_licenses_owned", &named, 10.0).await, Some(10.0));
        assert_eq!(value(&app, "seatwarden_licenses_in_use", &concurrent).await, Some(0.0));
        assert_eq!(value(&app, "seatwarden_licenses_in_use", &named).await, Some(0.0));
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Receives the next JSON message that is not a keep-alive ping.
async fn receive(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next()).await.expect("a message within the wait").unwrap().unwrap();
        if let Message::Text(text) = frame {
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] != "ping" {
                return message;
            }
        }
    }
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

db_test! {
    async fn websocket_subscriptions_are_gauged(app) {
        let (operator, slice) = operator_and_slice(&app, "live").await;
        let gauge = "seatwarden_websocket_subscriptions_active";
        let labels = [("root_fields", "licenseUsage")];

        let mut request = format!("{}/graphql", app.base_url.replace("http://", "ws://")).into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {operator}") } })).await;
        assert_eq!(receive(&mut socket).await["type"], "connection_ack");
        let query = "subscription($s: ID!) { licenseUsage(sliceId: $s) { version } }";
        send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "s": slice } } })).await;
        let first = receive(&mut socket).await;
        assert_eq!(first["type"], "next", "{first}");

        // The guard exists before the first result is sent, so this
        // subscription is counted; other tests' subscriptions may be too.
        let open = value(&app, gauge, &labels).await.unwrap();
        assert!(open >= 1.0, "gauge {open} while the subscription is open");

        send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
        // NOTE: the gauge is process-wide, so this waits until it is below the
        // value read while open. A subscription that another test opens in the
        // meantime and keeps open for the whole wait would fail this check.
        let mut current = open;
        for _ in 0..POLL_ATTEMPTS {
            current = value(&app, gauge, &labels).await.unwrap();
            if current < open {
                break;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        assert!(current < open, "gauge {current} after complete, {open} while open");
        socket.close(None).await.unwrap();
    }
}

/// Returns a port of 127.0.0.1 on which nothing listens.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

db_test! {
    async fn outbox_gauges_and_failures(app) {
        let body = scrape(&app).await;
        assert!(sample(&body, "seatwarden_outbox_emails", &[("status", "PENDING")]).is_some(), "{body}");
        assert!(sample(&body, "seatwarden_outbox_emails", &[("status", "FAILED")]).is_some(), "{body}");
        let unreachable = [("kind", "unreachable")];
        let failures = sample(&body, "seatwarden_outbox_delivery_failures_total", &unreachable).unwrap();

        let rendered = outbox::render("http://127.0.0.1:8080", "Metrics", &[Line::text("An email that cannot be delivered.")]);
        let draft = EmailDraft::new(vec!["ada@customer.example".to_owned()], "Metrics", rendered);
        let txn = app.state.db.begin().await.unwrap();
        outbox::enqueue(&txn, draft, app.now()).await.unwrap();
        txn.commit().await.unwrap();
        let mailer = crate::mail::smtp_mailer(&app, &format!("smtp://127.0.0.1:{}", closed_port().await));
        let report = outbox::dispatch_pending(&app.state.db, app.clock.as_ref(), &mailer).await.unwrap();
        assert_eq!(report.retried, 1);

        let body = scrape(&app).await;
        assert!(sample(&body, "seatwarden_outbox_delivery_failures_total", &unreachable).unwrap() >= failures + 1.0);
    }
}

db_test! {
    config = |config| config.metrics_token = Some("a-metrics-token-for-tests".to_owned().into());
    async fn metrics_token_guards_the_scrape(app) {
        let url = format!("{}/metrics", app.base_url);
        let missing = app.client.get(&url).send().await.unwrap();
        assert_eq!(missing.status(), 401);
        assert_eq!(missing.headers()["www-authenticate"], "Bearer");
        let wrong = app.client.get(&url).bearer_auth("a-metrics-token-for-test").send().await.unwrap();
        assert_eq!(wrong.status(), 401);
        let right = app.client.get(&url).bearer_auth("a-metrics-token-for-tests").send().await.unwrap();
        assert_eq!(right.status(), 200);
        assert!(right.text().await.unwrap().contains("seatwarden_logins_total"));
    }
}
