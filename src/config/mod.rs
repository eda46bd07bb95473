//! The service's configuration: defaults, then an optional TOML file, then
//! `SEATWARDEN_*` environment variables, each layer overriding the one before.
//!
//! Keys are the same in the file and the environment: the file's `bind = "…"`
//! is the environment's `SEATWARDEN_BIND`. Unknown keys are rejected so that a
//! misspelt setting stops start-up instead of being ignored.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use chrono::{DateTime, TimeZone, Utc};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

mod validate;

pub use validate::next_cron_run;

/// Prefix of the environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "SEATWARDEN_";

/// Output format of the logs written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the service, with its default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub database_url: String,
    /// Maximum number of pooled database connections.
    pub database_max_connections: u32,
    /// How long a request waits for a pooled connection before failing with SERVICE_UNAVAILABLE.
    #[serde(with = "humantime_serde")]
    pub database_acquire_timeout: Duration,
    /// How long opening a database connection may take.
    #[serde(with = "humantime_serde")]
    pub database_connect_timeout: Duration,
    /// How long an SQLite statement waits for another connection's write lock.
    #[serde(with = "humantime_serde")]
    pub sqlite_busy_timeout: Duration,

    /// Address and port the HTTP server listens on.
    pub bind: SocketAddr,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax, e.g. `info` or `seatwarden=debug,info`.
    pub log_filter: String,
    /// Maximum time one HTTP request may take, body upload included; slower ones get HTTP 408.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser (CORS); none by default.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub cors_origins: Vec<String>,
    /// How long a new GraphQL WebSocket may take to send `connection_init` before it is closed with 4408.
    #[serde(with = "humantime_serde")]
    pub ws_init_timeout: Duration,
    /// How often the server pings an acknowledged GraphQL WebSocket.
    #[serde(with = "humantime_serde")]
    pub ws_ping_interval: Duration,
    /// A GraphQL WebSocket from which nothing (no message, no pong) arrived for this long is closed.
    #[serde(with = "humantime_serde")]
    pub ws_idle_timeout: Duration,

    /// Argon2id memory cost in KiB (OWASP recommends 19456, i.e. 19 MiB).
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (OWASP recommends 2 with 19 MiB).
    pub argon2_iterations: u32,
    /// Argon2id lanes (OWASP recommends 1).
    pub argon2_parallelism: u32,

    /// A WEB session ends after this long without a request.
    #[serde(with = "humantime_serde")]
    pub web_idle_timeout: Duration,
    /// A WEB session ends this long after login whatever its activity.
    #[serde(with = "humantime_serde")]
    pub web_max_lifetime: Duration,
    #[serde(with = "humantime_serde")]
    pub mobile_idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub mobile_max_lifetime: Duration,
    #[serde(with = "humantime_serde")]
    pub api_idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub api_max_lifetime: Duration,

    /// Live WEB sessions a NAMED or CONCURRENT user may hold while the slice's mode is WARN or ENFORCE.
    pub max_web_sessions: u32,
    /// Wrong passwords for one account within `account_lockout_window` that lock it.
    pub account_lockout_threshold: u32,
    #[serde(with = "humantime_serde")]
    pub account_lockout_window: Duration,
    /// How long a locked account rejects logins.
    #[serde(with = "humantime_serde")]
    pub account_lockout_duration: Duration,
    /// Wrong passwords from one client address within `address_failure_window` after which
    /// that address's logins are rejected until the window has passed again.
    pub address_failure_limit: u32,
    #[serde(with = "humantime_serde")]
    pub address_failure_window: Duration,

    /// When the job that records expired sessions runs: a cron expression with
    /// six fields, seconds first, in UTC (default: every minute at second 0).
    pub session_sweep_cron: String,

    /// Rollout step VISIBLE (RFC 3339): owned counts are ready for review. An
    /// operator's `setRolloutSchedule` overrides the three steps.
    pub rollout_visible_at: DateTime<Utc>,
    /// Rollout step WARN (RFC 3339): unpinned production slices go to WARN.
    pub rollout_warn_at: DateTime<Utc>,
    /// Rollout step ENFORCE (RFC 3339): unpinned production slices go to ENFORCE.
    pub rollout_enforce_at: DateTime<Utc>,
    /// When the rollout job compares the schedule with the clock: cron with six fields, seconds first, UTC.
    pub rollout_cron: String,

    /// SMTP server that delivers email, in lettre's URL form: `smtp://HOST:PORT`
    /// (no TLS, loopback hosts only), `smtp://HOST:PORT?tls=required` (STARTTLS)
    /// or `smtps://HOST:PORT` (TLS), with optional `USER:PASSWORD@` before the
    /// host. Unset, email is written as `.eml` files under `mail_dir`. Never
    /// serialized, so the defaults layer carries no password.
    #[serde(default, skip_serializing)]
    pub smtp_url: Option<SecretString>,
    /// Sender of every email, such as `seatwarden@example.com` or
    /// `Seatwarden <seatwarden@example.com>`; its domain also ends each Message-ID.
    pub mail_from: String,
    /// Folder of the `.eml` files written when `smtp_url` is unset; created at the first email.
    pub mail_dir: PathBuf,
    /// Base URL of the links in emails, such as `https://licenses.example.com`.
    pub public_base_url: String,
    /// Wait after an email's first failed delivery; it doubles with each further failure.
    #[serde(with = "humantime_serde")]
    pub mail_retry_initial: Duration,
    /// Maximum wait between two delivery attempts of one email.
    #[serde(with = "humantime_serde")]
    pub mail_retry_max: Duration,
    /// An email still undelivered this long after it was queued is recorded as FAILED.
    #[serde(with = "humantime_serde")]
    pub mail_give_up_after: Duration,
    /// When the job that delivers queued email runs: a cron expression with six
    /// fields, seconds first, in UTC (default: every five seconds).
    pub mail_dispatch_cron: String,

    /// When the usage-history job runs: it starts each slice's day in the
    /// history and deletes seat changes older than `seat_log_retention`. Cron
    /// with six fields, seconds first, UTC (default: hourly).
    pub usage_history_cron: String,
    /// How long the log of seat changes behind `seatCurve` is kept.
    #[serde(with = "humantime_serde")]
    pub seat_log_retention: Duration,
    /// Most days one `usage` range or usage export may span.
    pub max_usage_range_days: u32,
    /// When the job that emails renewal reminders (60, 30 and 7 days before a
    /// slice's renewal date) runs: cron with six fields, seconds first, UTC.
    pub renewal_reminder_cron: String,
    /// When the unused-license digest is emailed to each slice's
    /// administrators: cron with six fields, seconds first, UTC (default: Mondays 07:00).
    pub unused_digest_cron: String,
    /// An active NAMED user who has not logged in for this long (or never) is listed in the digest.
    #[serde(with = "humantime_serde")]
    pub unused_license_after: Duration,

    /// How long a scheduled job's run holds its lease: other instances skip
    /// the job until the run ends or the lease expires.
    #[serde(with = "humantime_serde")]
    pub job_lease_duration: Duration,
    /// After SIGTERM or SIGINT, how long `/ready` answers 503 before the
    /// server stops accepting connections, so load balancers move traffic away first.
    #[serde(with = "humantime_serde")]
    pub shutdown_delay: Duration,
    /// Longest time from SIGTERM or SIGINT to exit: requests in flight and a
    /// running job get this long to finish (`shutdown_delay` included).
    #[serde(with = "humantime_serde")]
    pub shutdown_grace_period: Duration,

    /// Bearer token that `GET /metrics` requires; unset, the endpoint is open
    /// to anyone who can reach it. Never serialized.
    #[serde(default, skip_serializing, deserialize_with = "optional_secret_text")]
    pub metrics_token: Option<SecretString>,

    /// Deepest selection nesting a query may have.
    pub max_query_depth: usize,
    /// Highest complexity a query may have (each field counts 1, list fields count per item requested).
    pub max_query_complexity: usize,
    /// Largest HTTP request body accepted, in bytes; larger bodies get HTTP 413.
    pub max_body_bytes: usize,
    /// Largest `first` a paginated field accepts.
    pub max_page_size: u32,

    /// Serves `/bench/…`, plain JSON handlers that `bench/run` compares with
    /// the GraphQL API. Off by default: production services leave it off.
    pub bench_routes: bool,
}

impl Default for Config {
    fn default() -> Self {
        const DAY: u64 = 24 * 60 * 60;
        Self {
            database_url: "sqlite://seatwarden.db?mode=rwc".to_owned(),
            database_max_connections: 10,
            database_acquire_timeout: Duration::from_secs(5),
            database_connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            ws_init_timeout: Duration::from_secs(10),
            ws_ping_interval: Duration::from_secs(15),
            ws_idle_timeout: Duration::from_secs(60),
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            web_idle_timeout: Duration::from_secs(30 * 60),
            web_max_lifetime: Duration::from_secs(12 * 60 * 60),
            mobile_idle_timeout: Duration::from_secs(30 * DAY),
            mobile_max_lifetime: Duration::from_secs(90 * DAY),
            api_idle_timeout: Duration::from_secs(90 * DAY),
            api_max_lifetime: Duration::from_secs(365 * DAY),
            max_web_sessions: 2,
            account_lockout_threshold: 5,
            account_lockout_window: Duration::from_secs(15 * 60),
            account_lockout_duration: Duration::from_secs(15 * 60),
            address_failure_limit: 50,
            address_failure_window: Duration::from_secs(15 * 60),
            session_sweep_cron: "0 * * * * *".to_owned(),
            rollout_visible_at: Utc.with_ymd_and_hms(2017, 7, 20, 0, 0, 0).single().unwrap_or_default(),
            rollout_warn_at: Utc.with_ymd_and_hms(2017, 8, 12, 0, 0, 0).single().unwrap_or_default(),
            rollout_enforce_at: Utc.with_ymd_and_hms(2017, 9, 9, 0, 0, 0).single().unwrap_or_default(),
            rollout_cron: "30 * * * * *".to_owned(),
            smtp_url: None,
            mail_from: "seatwarden@localhost".to_owned(),
            mail_dir: PathBuf::from("mail-out"),
            public_base_url: "http://127.0.0.1:8080".to_owned(),
            mail_retry_initial: Duration::from_secs(5),
            mail_retry_max: Duration::from_secs(10 * 60),
            mail_give_up_after: Duration::from_secs(DAY),
            mail_dispatch_cron: "*/5 * * * * *".to_owned(),
            usage_history_cron: "0 0 * * * *".to_owned(),
            seat_log_retention: Duration::from_secs(400 * DAY),
            max_usage_range_days: 366,
            renewal_reminder_cron: "0 0 6 * * *".to_owned(),
            unused_digest_cron: "0 0 7 * * Mon".to_owned(),
            unused_license_after: Duration::from_secs(30 * DAY),
            metrics_token: None,
            job_lease_duration: Duration::from_secs(10 * 60),
            shutdown_delay: Duration::from_secs(2),
            shutdown_grace_period: Duration::from_secs(30),
            max_query_depth: 15,
            max_query_complexity: 5_000,
            max_body_bytes: 256 * 1024,
            max_page_size: 100,
            bench_routes: false,
        }
    }
}

/// A configuration that could not be loaded; the message names the key and the accepted form.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Loads the configuration from the defaults, the optional TOML file and the
    /// process environment, then validates it.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        if let Some(path) = file
            && !path.is_file()
        {
            return Err(ConfigError(format!(
                "the configuration file {} does not exist or is not a file; fix --config or SEATWARDEN_CONFIG",
                path.display()
            )));
        }
        Self::load_from(Self::figment(file))
    }

    /// Builds the layered configuration source without extracting it.
    pub fn figment(file: Option<&Path>) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment.merge(
            Env::prefixed(ENV_PREFIX)
                // SEATWARDEN_CONFIG names the file, SEATWARDEN_ASSETS_DIR is read by the
                // build, and SEATWARDEN_TEST_* belong to the test suite. Keys
                // keep the environment's letter case here, so the test compares
                // without regard to case.
                .filter(|key| key != "config" && key != "assets_dir" && !key.starts_with("test_")),
        )
    }

    /// Extracts and validates a configuration from any figment (tests pass their own).
    pub fn load_from(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|error| {
            let messages: Vec<String> = error.into_iter().map(describe_figment_error).collect();
            ConfigError(messages.join("; "))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Tells whether the database URL points at SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Names the key both as the file spells it and as the environment variable.
fn describe_figment_error(error: figment::Error) -> String {
    let key = error.path.join(".");
    let mut message = error.kind.to_string();
    if message.contains("expected a duration") {
        message.push_str("; write a number with a unit, such as `90s`, `15m`, `12h` or `30d`");
    }
    if !key.is_empty() {
        message = format!(
            "key `{key}` (environment variable {ENV_PREFIX}{}): {message}",
            key.to_uppercase()
        );
    }
    if let Some(source) = &error.metadata {
        message.push_str(&format!(" (from {})", source.name));
    }
    message
}

/// Accepts a secret as text, or as a number that the environment's parsing
/// made of an all-digit value.
fn optional_secret_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    Ok(Option::<TextOrNumber>::deserialize(deserializer)?.map(|value| {
        let text = match value {
            TextOrNumber::Text(text) => text,
            TextOrNumber::Unsigned(number) => number.to_string(),
            TextOrNumber::Signed(number) => number.to_string(),
        };
        SecretString::from(text)
    }))
}

/// Accepts a list in the TOML file or a comma-separated string in the environment.
fn list_or_comma_separated<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    Ok(match ListOrString::deserialize(deserializer)? {
        ListOrString::List(items) => items,
        ListOrString::String(text) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}
