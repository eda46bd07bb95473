//! The command line, run as a separate process: configuration errors,
//! `create-operator`, `serve --demo` and signals.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::Duration,
};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::harness::{Backend, fresh_database};

const BINARY: &str = env!("CARGO_BIN_EXE_seatwarden");

/// Builds a command with a cheap Argon2 cost and no configuration from the test's own environment.
fn seatwarden(database_url: &str) -> Command {
    let mut command = Command::new(BINARY);
    for (key, _) in std::env::vars() {
        if key.starts_with("SEATWARDEN_") {
            command.env_remove(key);
        }
    }
    command
        .env("SEATWARDEN_DATABASE_URL", database_url)
        .env("SEATWARDEN_ARGON2_MEMORY_KIB", "8")
        .env("SEATWARDEN_ARGON2_ITERATIONS", "1")
        .env("SEATWARDEN_LOG_FILTER", "warn");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn invalid_environment_value_names_key() {
    let output = seatwarden("sqlite::memory:").arg("migrate").env("SEATWARDEN_LOG_FORMAT", "xml").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SEATWARDEN_LOG_FORMAT"), "{stderr}");
    assert!(stderr.contains("`text`"), "the accepted forms are named: {stderr}");
    assert!(stderr.contains("`json`"), "the accepted forms are named: {stderr}");
}

#[test]
fn invalid_file_values_name_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seatwarden.toml");
    for (content, key) in [
        ("bind = \"localhost\"\n", "SEATWARDEN_BIND"),
        ("web_idle_timeout = \"soon\"\n", "SEATWARDEN_WEB_IDLE_TIMEOUT"),
        ("max_page_size = 0\n", "SEATWARDEN_MAX_PAGE_SIZE"),
        ("databse_url = \"sqlite://x.db\"\n", "databse_url"),
    ] {
        std::fs::write(&path, content).unwrap();
        let output = seatwarden("sqlite::memory:").arg("--config").arg(&path).arg("migrate").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{content}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(key), "{content}: {stderr}");
    }
}

#[test]
fn missing_config_file_is_named() {
    let output = seatwarden("sqlite::memory:").args(["--config", "/nonexistent/seatwarden.toml", "migrate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/seatwarden.toml"), "{stderr}");
}

#[test]
fn build_variable_is_not_configuration() {
    let output = seatwarden("sqlite::memory:").arg("migrate").env("SEATWARDEN_ASSETS_DIR", "/tmp/assets").output().unwrap();
    assert!(output.status.success(), "SEATWARDEN_ASSETS_DIR belongs to the build: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn every_command_prints_help() {
    for command in [&[][..], &["serve"], &["migrate"], &["export-schema"], &["create-operator"], &["import-contracts"]] {
        let output = Command::new(BINARY).args(command).arg("--help").output().unwrap();
        assert!(output.status.success(), "{command:?} --help");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage:"), "{command:?} --help");
    }
}

async fn create_operator_reads_stdin(backend: Backend) {
    let Some((url, _dir)) = fresh_database(backend).await else {
        return;
    };
    let mut child = seatwarden(&url)
        .args(["create-operator", "--username", "Root", "--email", "root@vendor.example", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b" spaced secret \r\nignored second line\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "create-operator failed: {}", String::from_utf8_lossy(&output.stderr));

    let config = crate::harness::test_config(url.clone());
    let db = seatwarden::db::connect(&config).await.unwrap();
    let operator = entity::user::Entity::find()
        .filter(entity::user::Column::UsernameKey.eq("root"))
        .one(&db)
        .await
        .unwrap()
        .expect("the operator exists");
    assert_eq!(operator.role, entity::Role::Operator);
    assert_eq!(operator.slice_id, None);
    let hasher = seatwarden::auth::PasswordHasher::new(8, 1, 1).unwrap();
    assert!(hasher.verify(" spaced secret ", Some(&operator.password_hash)).await.unwrap(), "the line end is not part of the password");
    assert!(!operator.password_hash.contains("spaced"), "only the hash is stored");

    let duplicate = seatwarden(&url)
        .args(["create-operator", "--username", "ROOT", "--email", "root@vendor.example", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut duplicate = duplicate;
    duplicate.stdin.take().unwrap().write_all(b"another secret\n").unwrap();
    let output = duplicate.wait_with_output().unwrap();
    assert!(!output.status.success(), "a second operator with the same name in other letter case is rejected");
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}

#[tokio::test]
async fn create_operator_sqlite() {
    create_operator_reads_stdin(Backend::Sqlite).await;
}

#[tokio::test]
async fn create_operator_postgres() {
    create_operator_reads_stdin(Backend::Postgres).await;
}

/// Starts `serve --demo` on a free port with extra environment variables,
/// waits for its banner, and returns the process, the port and the printed password.
fn start_demo(url: &str, env: &[(&str, &str)]) -> (std::process::Child, u16, impl std::future::Future<Output = String>) {
    let port = free_port();
    let mut command = seatwarden(url);
    command.args(["serve", "--demo"]).env("SEATWARDEN_BIND", format!("127.0.0.1:{port}"));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = line.contains("printed only now");
            banner.push(line);
            if done {
                break;
            }
        }
        banner.join("\n")
    });
    let password = async move {
        let banner = tokio::time::timeout(Duration::from_secs(60), banner).await.expect("the demo banner is printed").unwrap();
        banner
            .split("log in with the password ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no password in the banner: {banner}"))
            .to_owned()
    };
    (child, port, password)
}

/// Starts `serve --demo`, which prints its banner once it listens, logs in with the printed credentials, queries, and stops it with SIGTERM.
async fn demo_serves_and_stops(backend: Backend) {
    let Some((url, _dir)) = fresh_database(backend).await else {
        return;
    };
    let (mut child, port, password) = start_demo(&url, &[]);
    let password = password.await;

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let graphql = |token: Option<String>, query: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let mut request = client.post(format!("{base}/graphql")).json(&json!({ "query": query }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let body: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
            assert!(body.get("errors").is_none(), "{query}: {body}");
            body["data"].clone()
        }
    };
    let login = |slice: &'static str, username: &'static str| {
        let client = client.clone();
        let base = base.clone();
        let password = password.clone();
        async move {
            let body: serde_json::Value = client
                .post(format!("{base}/graphql"))
                .json(&json!({
                    "query": "mutation($i: LoginInput!) { login(input: $i) { ... on LoginSuccess { token } ... on LoginRejected { reason } } }",
                    "variables": { "i": { "slice": slice, "username": username, "password": password } }
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["data"]["login"]["token"].as_str().unwrap_or_else(|| panic!("login of {username}: {body}")).to_owned()
        }
    };

    let operator = login("", "operator").await;
    let operator_token = operator.clone();
    let slices = graphql(Some(operator.clone()), "{ slices { totalCount edges { node { id name kind } } } }").await;
    assert_eq!(slices["slices"]["totalCount"], 2);
    let admin = login("northwind-prod", "ada").await;
    let me = graphql(Some(admin.clone()), "{ me { username role slice { name } } }").await;
    assert_eq!(me["me"]["role"], "ADMIN");
    let own = graphql(Some(admin.clone()), "{ slices { edges { node { id } } } }").await;
    let slice_id = own["slices"]["edges"][0]["node"]["id"].as_str().unwrap().to_owned();
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&admin)
        .json(&json!({
            "query": "query($s: ID!) { users(sliceId: $s, filter: {licenseTypes: [NAMED]}) { totalCount edges { node { username licenseType } } } }",
            "variables": { "s": slice_id }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let named = &body["data"]["users"];
    assert!(named["totalCount"].as_i64().unwrap() >= 2, "{body}");
    for edge in named["edges"].as_array().unwrap() {
        assert_eq!(edge["node"]["licenseType"], "NAMED");
    }
    let sessions = graphql(Some(operator), "{ me { sessions { id } } }").await;
    assert_eq!(sessions["me"]["sessions"].as_array().unwrap().len(), 1);

    // The flows the banner describes: ben's third WEB session, the last free
    // CONCURRENT seat in WARN, and the same seat refused once the rollout enforces.
    let web_login = |username: &'static str| {
        let client = client.clone();
        let base = base.clone();
        let password = password.clone();
        async move {
            let body: serde_json::Value = client
                .post(format!("{base}/graphql"))
                .json(&json!({
                    "query": "mutation($i: LoginInput!) { login(input: $i) { __typename ... on LoginSuccess { token warnings { code } } } }",
                    "variables": { "i": { "slice": "northwind-prod", "username": username, "password": password, "channel": "WEB" } }
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["data"]["login"].clone()
        }
    };
    assert_eq!(web_login("ben").await["__typename"], "LoginSuccess");
    assert_eq!(web_login("ben").await["__typename"], "SessionLimitReached");
    assert_eq!(web_login("eve").await["__typename"], "LoginSuccess");
    let fay = web_login("fay").await;
    assert_eq!(fay["__typename"], "LoginSuccess", "WARN lets fay in: {fay}");
    assert_eq!(fay["warnings"][0]["code"], "WOULD_BE_BLOCKED_WHEN_ENFORCED");

    let fay_token = fay["token"].as_str().unwrap().to_owned();
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&fay_token)
        .json(&json!({ "query": "mutation { logout }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["logout"], true);
    let now = chrono::Utc::now();
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&operator_token)
        .json(&json!({
            "query": "mutation($w: DateTime!, $e: DateTime!) { setRolloutSchedule(warnAt: $w, enforceAt: $e) { phase } }",
            "variables": { "w": (now - chrono::Duration::minutes(1)).to_rfc3339(), "e": now.to_rfc3339() }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(web_login("fay").await["__typename"], "LicenseUnavailable", "ENFORCE refuses the third seat");

    // The Subscription Center shows a few weeks of history, the renewal and the warnings.
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(28)).to_string();
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&admin)
        .json(&json!({
            "query": "query($s: ID!, $f: Date!, $t: Date!) { subscriptionCenter(sliceId: $s) { daysUntilRenewal \
                licenses { licenseType owned inUse } usage(from: $f, to: $t) { date namedAssigned concurrentPeak sessionsStarted loginsBlocked } \
                seatCurve(date: $f) { seatsInUse } warnings { kind } } }",
            "variables": { "s": slice_id, "f": from, "t": today.to_string() }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let center = &body["data"]["subscriptionCenter"];
    assert_eq!(center["daysUntilRenewal"], 45, "{body}");
    let usage = center["usage"].as_array().unwrap();
    assert_eq!(usage.len(), 29);
    assert!(usage[..28].iter().all(|day| day["namedAssigned"] == 3 && day["sessionsStarted"].as_i64().unwrap() > 0), "{body}");
    let last = &usage[28];
    assert_eq!(last["concurrentPeak"], 3, "dev, eve and fay while WARN let fay in: {last}");
    assert_eq!(last["loginsBlocked"], 1, "{last}");
    let kinds: Vec<&str> = center["warnings"].as_array().unwrap().iter().map(|w| w["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"LOGIN_BLOCKED"), "{kinds:?}");
    assert!(kinds.contains(&"MODE_CHANGED"), "{kinds:?}");
    let csv = client
        .get(format!("{base}/export/usage.csv"))
        .query(&[("sliceId", slice_id.as_str()), ("from", from.as_str()), ("to", today.to_string().as_str())])
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.text().await.unwrap().lines().count(), 30, "a header row and one row per day");

    // A legacy contract file (Fixed/Floater, a byte-order mark, Windows line
    // ends) imported while the service runs shows in the Subscription Center.
    let contracts = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(contracts.path(), "\u{feff}Slice,Fixed,Floater,Renewal_Date,Edition\r\nNorthwind-Prod,6,3,2027-06-30,service_management\r\n").unwrap();
    let import = seatwarden(&url).arg("import-contracts").arg(contracts.path()).output().unwrap();
    assert!(import.status.success(), "import failed: {}", String::from_utf8_lossy(&import.stderr));
    let summary = String::from_utf8_lossy(&import.stdout);
    assert!(summary.contains("northwind-prod: named 4 → 6"), "{summary}");
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&admin)
        .json(&json!({
            "query": "query($s: ID!) { subscriptionCenter(sliceId: $s) { renewalDate licenses { licenseType owned } } }",
            "variables": { "s": slice_id }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let center = &body["data"]["subscriptionCenter"];
    assert_eq!(center["renewalDate"], "2027-06-30", "{body}");
    assert_eq!(center["licenses"][0]["owned"], 6, "{body}");
    assert_eq!(center["licenses"][1]["owned"], 3, "{body}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap());
    let exit = tokio::time::timeout(Duration::from_secs(20), exit).await.expect("the server stops on SIGTERM").unwrap();
    assert!(exit.success(), "the server exits cleanly on SIGTERM: {exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_and_stops_sqlite() {
    demo_serves_and_stops(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_and_stops_postgres() {
    demo_serves_and_stops(Backend::Postgres).await;
}

/// Starts `serve` with the host time zone set to `zone` and returns the
/// rollout steps and the production slice's mode that it reports.
async fn rollout_in_zone(url: &str, zone: &str, warn_at: &str, enforce_at: &str, create_slice: bool) -> (serde_json::Value, String) {
    let port = free_port();
    let mut child = seatwarden(url)
        .args(["serve"])
        .env("TZ", zone)
        .env("SEATWARDEN_BIND", format!("127.0.0.1:{port}"))
        .env("SEATWARDEN_ROLLOUT_VISIBLE_AT", "2020-01-01T00:00:00Z")
        .env("SEATWARDEN_ROLLOUT_WARN_AT", warn_at)
        .env("SEATWARDEN_ROLLOUT_ENFORCE_AT", enforce_at)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    // The process needs a moment to bind; each attempt is a real connection to it.
    let mut token = None;
    for _ in 0..200 {
        let login = client
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": "mutation { login(input: {username: \"root\", password: \"zone test secret\", channel: API}) { ... on LoginSuccess { token } } }" }))
            .send()
            .await;
        if let Ok(response) = login {
            let body: serde_json::Value = response.json().await.unwrap();
            token = body["data"]["login"]["token"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = token.expect("the operator logs in");
    if create_slice {
        let created: serde_json::Value = client
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": "mutation { createSlice(input: {name: \"zoned\", displayName: \"Zoned\", kind: PRODUCTION, edition: SERVICE_MANAGEMENT}) { id } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(created.get("errors").is_none(), "{created}");
    }
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ rolloutSchedule { phase effectiveAt } slices { edges { node { enforcementMode } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    let mode = body["data"]["slices"]["edges"][0]["node"]["enforcementMode"].as_str().unwrap_or_default().to_owned();
    (body["data"]["rolloutSchedule"].clone(), mode)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_cutoffs_ignore_host_time_zone() {
    // Without the zone files the C library falls back to UTC and the test would prove nothing.
    for zone in ["Pacific/Honolulu", "Pacific/Kiritimati"] {
        assert!(std::path::Path::new("/usr/share/zoneinfo").join(zone).exists(), "tzdata lacks {zone}; install tzdata");
    }
    let Some((url, _dir)) = fresh_database(Backend::Sqlite).await else {
        return;
    };
    let mut create = seatwarden(&url)
        .args(["create-operator", "--username", "root", "--email", "root@vendor.example", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(b"zone test secret\n").unwrap();
    assert!(create.wait().unwrap().success());
    // WARN passed an hour ago in UTC, ENFORCE comes in an hour: only a host
    // that read the instants in its local zone (10 hours behind or 14 ahead)
    // would see another phase.
    let now = chrono::Utc::now();
    let warn_at = (now - chrono::Duration::hours(1)).to_rfc3339();
    let enforce_at = (now + chrono::Duration::hours(1)).to_rfc3339();
    // The first service creates the slice; the second applies the rollout at start-up.
    let (behind, behind_mode) = rollout_in_zone(&url, "Pacific/Honolulu", &warn_at, &enforce_at, true).await;
    let (ahead, ahead_mode) = rollout_in_zone(&url, "Pacific/Kiritimati", &warn_at, &enforce_at, false).await;
    assert_eq!(behind, ahead, "the same instants in UTC-10 and UTC+14");
    assert_eq!(behind_mode, "WARN", "UTC-10");
    assert_eq!(ahead_mode, "WARN", "UTC+14");
}

/// SIGTERM: `/ready` answers 503 during `shutdown_delay`, an open GraphQL
/// WebSocket is closed with 1001, and the process exits within the grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_within_grace_period() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

    let Some((url, _dir)) = fresh_database(Backend::Sqlite).await else {
        return;
    };
    let (mut child, port, password) =
        start_demo(&url, &[("SEATWARDEN_SHUTDOWN_DELAY", "1s"), ("SEATWARDEN_SHUTDOWN_GRACE_PERIOD", "5s")]);
    let password = password.await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let body: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { ... on LoginSuccess { token } } }",
            "variables": { "i": { "slice": null, "username": "operator", "password": password, "channel": "API" } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["data"]["login"]["token"].as_str().unwrap().to_owned();
    let slices: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ slices { edges { node { id } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slice_id = slices["data"]["slices"]["edges"][0]["node"]["id"].as_str().unwrap().to_owned();

    let mut request = format!("ws://127.0.0.1:{port}/graphql").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |message: serde_json::Value| Message::text(message.to_string());
    socket.send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))).await.unwrap();
    socket
        .send(send(json!({ "type": "subscribe", "id": "1", "payload": {
            "query": "subscription($s: ID!) { licenseUsage(sliceId: $s) { version } }", "variables": { "s": slice_id } } })))
        .await
        .unwrap();
    // The first usage report shows that the subscription runs.
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(text) = frame
            && text.contains("licenseUsage")
        {
            break;
        }
    }

    let sent = std::time::Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let close = loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a close frame").unwrap().unwrap();
        if let Message::Close(Some(frame)) = frame {
            break frame;
        }
    };
    assert_eq!(u16::from(close.code), 1001, "{close:?}");
    let ready = client.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "/ready answers 503 while the server still accepts connections");

    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap());
    let exit = tokio::time::timeout(Duration::from_secs(10), exit).await.expect("the server exits").unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(sent.elapsed() < Duration::from_secs(5), "exited within the grace period: {:?}", sent.elapsed());
}
