//! Starts the real service per test on a free port, on a fresh SQLite file or a
//! fresh PostgreSQL database, and talks to it over HTTP.
//!
//! PostgreSQL tests need `SEATWARDEN_TEST_POSTGRES_URL` (set by `tests/run`),
//! pointing at a cluster where the test user may create databases. Each test
//! database is copied from a migrated template, created once per migration set.

use std::{sync::Arc, time::Duration};

use chrono::{TimeZone, Utc};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use seatwarden::{
    app,
    clock::{Clock, ManualClock},
    config::Config,
    db,
    state::AppState,
    users,
};
use serde_json::{Value, json};
use tokio::sync::{OnceCell, oneshot};

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running service and what a test needs to drive it.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Configuration of a test service: a cheap Argon2 cost, and a rollout whose
/// steps lie far in the future, so production slices start in OFF unless a
/// test sets a schedule; everything else default.
pub fn test_config(database_url: String) -> Config {
    let far = |year| Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
    Config {
        database_url,
        database_max_connections: 5,
        argon2_memory_kib: 8,
        argon2_iterations: 1,
        argon2_parallelism: 1,
        rollout_visible_at: far(2100),
        rollout_warn_at: far(2101),
        rollout_enforce_at: far(2102),
        // Without an SMTP URL, mail goes to .eml files; keep them out of the repository.
        mail_dir: std::env::temp_dir().join("seatwarden-test-mail"),
        ..Config::default()
    }
}

/// Returns the instant every test's clock starts at.
pub fn test_start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn postgres_url() -> Option<String> {
    match std::env::var("SEATWARDEN_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SEATWARDEN_TEST_POSTGRES_URL is not set, and CI=true forbids skipping the PostgreSQL tests; run them with tests/run"
            );
            eprintln!("SKIPPED: PostgreSQL test (SEATWARDEN_TEST_POSTGRES_URL is not set; tests/run sets it)");
            None
        }
    }
}

/// Joins a database name onto a server URL such as `postgres://user@host:port`.
fn database_url(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let base = base.trim_end_matches('/');
    let base = match base.rfind('/') {
        Some(slash) if slash > base.find("//").map_or(0, |i| i + 1) => &base[..slash],
        _ => base,
    };
    format!("{base}/{database}{query}")
}

async fn connect_single(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.unwrap_or_else(|error| panic!("connecting to {url} failed: {error}"))
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates (once per migration set) a migrated template database and returns its name.
async fn template(server: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            use migration::MigratorTrait;
            let names: Vec<String> = migration::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
            let fingerprint = names.join(",").bytes().fold(0xcbf29ce484222325u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x100000001b3)
            });
            let name = format!("seatwarden_template_{fingerprint:016x}");
            let admin = connect_single(&database_url(server, "postgres")).await;
            // Serializes template creation across test processes sharing one cluster.
            admin.execute_unprepared("SELECT pg_advisory_lock(727274)").await.unwrap();
            let exists = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .unwrap()
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {building}")).await.unwrap();
                admin.execute_unprepared(&format!("CREATE DATABASE {building}")).await.unwrap();
                let db = connect_single(&database_url(server, &building)).await;
                db::migrate(&db).await.unwrap();
                db.close().await.unwrap();
                admin.execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}")).await.unwrap();
            }
            admin.execute_unprepared("SELECT pg_advisory_unlock(727274)").await.unwrap();
            admin.close().await.unwrap();
            name
        })
        .await
        .clone()
}

/// Creates an empty PostgreSQL database, with no migration applied, on the
/// server at `server_url` and returns its URL.
pub async fn unmigrated_postgres_database(server_url: &str) -> String {
    let name = format!("seatwarden_empty_{}", uuid::Uuid::new_v4().simple());
    let admin = connect_single(&database_url(server_url, "postgres")).await;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    admin.close().await.unwrap();
    database_url(server_url, &name)
}

/// Returns the URL of the test cluster; `None` (with a SKIPPED line) outside CI when it is not set.
pub fn postgres_server() -> Option<String> {
    postgres_url()
}

/// A PostgreSQL cluster of its own that a test may stop and start: its URL
/// and a script taking `stop` or `start`. `tests/run` creates it.
pub fn outage_cluster() -> Option<(String, String)> {
    match (std::env::var("SEATWARDEN_TEST_OUTAGE_POSTGRES_URL"), std::env::var("SEATWARDEN_TEST_OUTAGE_CTL")) {
        (Ok(url), Ok(ctl)) if !url.is_empty() && !ctl.is_empty() => Some((url, ctl)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SEATWARDEN_TEST_OUTAGE_POSTGRES_URL is not set, and CI=true forbids skipping the outage test; run it with tests/run"
            );
            eprintln!("SKIPPED: database outage test (SEATWARDEN_TEST_OUTAGE_POSTGRES_URL is not set; tests/run sets it)");
            None
        }
    }
}

/// Creates an empty database and returns its URL, with the folder that
/// contains it for SQLite; `None` when PostgreSQL is not available outside CI.
pub async fn fresh_database(backend: Backend) -> Option<(String, Option<tempfile::TempDir>)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("seatwarden.db").display());
            Some((url, Some(dir)))
        }
        Backend::Postgres => {
            let server = postgres_url()?;
            let template = template(&server).await;
            let name = format!("seatwarden_test_{}", uuid::Uuid::new_v4().simple());
            let admin = connect_single(&database_url(&server, "postgres")).await;
            admin.execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await.unwrap();
            admin.close().await.unwrap();
            Some((database_url(&server, &name), None))
        }
    }
}

impl TestApp {
    /// Starts the service on the given backend; `None` when PostgreSQL is not
    /// available outside CI (the skip is printed).
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts the service after letting the test adjust the configuration.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let (url, dir) = fresh_database(backend).await?;
        let mut config = test_config(url);
        adjust(&mut config);
        Some(Self::start_on(config, dir, test_start()).await)
    }

    /// Starts the service on the database `config` names, with the clock at
    /// `now`, running the same start-up steps as `serve`.
    pub async fn start_on(config: Config, dir: Option<tempfile::TempDir>, now: chrono::DateTime<Utc>) -> TestApp {
        let connection = db::connect(&config).await.unwrap();
        db::migrate(&connection).await.unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let state = AppState::new(connection, config, clock.clone()).unwrap();
        app::start_up(&state).await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (shutdown, shutdown_received) = oneshot::channel::<()>();
        let server_state = state.clone();
        tokio::spawn(async move {
            let stop = async {
                let _ = shutdown_received.await;
            };
            if let Err(error) = app::run(listener, server_state, stop).await {
                eprintln!("test server failed: {error}");
            }
        });
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        TestApp { base_url: format!("http://{address}"), client, clock, state, shutdown: Some(shutdown), _dir: dir }
    }

    /// Stops the server and returns the folder of its SQLite database, so a
    /// test can start the service again on the same data.
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self._dir.take()
    }

    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    /// Sends one GraphQL operation and returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "GraphQL request failed: {query}");
        response.json().await.unwrap()
    }

    /// Sends an operation that must succeed and returns its `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors for {query}: {body:#}");
        body["data"].clone()
    }

    /// Sends an operation that must fail and returns its first error.
    pub async fn error(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        body["errors"].get(0).cloned().unwrap_or_else(|| panic!("expected an error for {query}, got {body:#}"))
    }

    /// Logs in on the WEB channel and returns the token; panics on any other outcome.
    pub async fn login(&self, slice: Option<&str>, username: &str, password: &str) -> String {
        self.login_on(slice, username, password, "WEB").await
    }

    pub async fn login_on(&self, slice: Option<&str>, username: &str, password: &str, channel: &str) -> String {
        let data = self
            .ok(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { __typename ... on LoginSuccess { token } ... on LoginRejected { reason } } }",
                json!({ "input": { "slice": slice, "username": username, "password": password, "channel": channel } }),
            )
            .await;
        let result = &data["login"];
        assert_eq!(result["__typename"], "LoginSuccess", "login of {username} failed: {result}");
        result["token"].as_str().unwrap().to_owned()
    }

    /// Creates an operator account directly and returns its login token.
    pub async fn operator(&self, username: &str) -> String {
        let state = &self.state;
        users::create_operator(
            &state.db,
            state.clock.as_ref(),
            &state.hasher,
            username,
            &format!("{username}@vendor.example"),
            PASSWORD,
        )
        .await
        .unwrap();
        self.login(None, username, PASSWORD).await
    }

    /// Creates a slice through the API and returns its id.
    pub async fn create_slice(&self, operator: &str, input: Value) -> String {
        let data = self
            .ok(Some(operator), "mutation($input: CreateSliceInput!) { createSlice(input: $input) { id } }", json!({ "input": input }))
            .await;
        data["createSlice"]["id"].as_str().unwrap().to_owned()
    }

    /// Creates a user through the API and returns its id.
    pub async fn create_user(&self, token: &str, slice_id: &str, username: &str, license_type: &str, role: &str) -> String {
        let data = self
            .ok(
                Some(token),
                "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
                json!({ "input": {
                    "sliceId": slice_id, "username": username, "email": format!("{username}@customer.example"),
                    "displayName": username, "password": PASSWORD, "licenseType": license_type, "role": role
                } }),
            )
            .await;
        data["createUser"]["id"].as_str().unwrap().to_owned()
    }
}

/// Builds a slice input with sensible defaults for tests.
pub fn slice_input(name: &str) -> Value {
    json!({
        "name": name, "displayName": format!("{name} display"), "customer": "Acme", "kind": "PRODUCTION",
        "edition": "SERVICE_MANAGEMENT", "ownedNamedLicenses": 10, "ownedConcurrentLicenses": 5
    })
}

/// Returns the `extensions.code` of an error.
pub fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or("<no code>")
}

/// Defines a test that runs once on SQLite and once on PostgreSQL, as
/// `NAME::sqlite` and `NAME::postgres`. An optional `config = CLOSURE;` first
/// adjusts the service's configuration.
#[macro_export]
macro_rules! db_test {
    (config = $adjust:expr; $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::harness::TestApp::start_with($crate::harness::Backend::Sqlite, $adjust).await.unwrap();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::harness::TestApp::start_with($crate::harness::Backend::Postgres, $adjust).await else {
                    return;
                };
                $body
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::harness::TestApp::start($crate::harness::Backend::Sqlite).await.unwrap();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::harness::TestApp::start($crate::harness::Backend::Postgres).await else {
                    return;
                };
                $body
            }
        }
    };
}
