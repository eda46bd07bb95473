//! Checks of the configuration that the types alone cannot express.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Config, ConfigError, ENV_PREFIX};

/// Tells whether tokio-cron-scheduler accepts the expression: six fields, seconds first.
pub fn is_valid_cron(expression: &str) -> bool {
    parse_cron(expression).is_some()
}

fn parse_cron(expression: &str) -> Option<croner::Cron> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expression)
        .ok()
}

/// Returns the first instant after `after` at which the cron expression fires,
/// or `None` for an invalid expression or when it never fires again.
pub fn next_cron_run(expression: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    parse_cron(expression)?.find_next_occurrence(&after, false).ok()
}

/// Tells whether a value is an absolute http or https URL with a host and no query.
fn is_http_base_url(value: &str) -> bool {
    value.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|host| !host.is_empty())
            && uri.query().is_none()
    })
}

impl Config {
    /// Rejects values that parse but cannot work, naming the key and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, accepted: &str| {
            if !ok {
                problems.push(format!(
                    "key `{key}` (environment variable {ENV_PREFIX}{}): {accepted}",
                    key.to_uppercase()
                ));
            }
        };

        let url = self.database_url.as_str();
        check(
            url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "database_url",
            "expected `sqlite://PATH?mode=rwc` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`",
        );
        check(self.database_max_connections >= 1, "database_max_connections", "expected an integer of at least 1");
        check(!self.database_acquire_timeout.is_zero(), "database_acquire_timeout", "expected a duration above zero, such as `5s`");
        check(!self.database_connect_timeout.is_zero(), "database_connect_timeout", "expected a duration above zero, such as `5s`");
        check(
            tracing_subscriber::EnvFilter::try_new(&self.log_filter).is_ok(),
            "log_filter",
            "expected a tracing filter such as `info` or `seatwarden=debug,info`",
        );
        check(
            self.request_timeout >= Duration::from_secs(1),
            "request_timeout",
            "expected a duration of at least 1s, such as `30s`",
        );
        for origin in &self.cors_origins {
            check(
                http::HeaderValue::from_str(origin).is_ok()
                    && (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/'),
                "cors_origins",
                "expected origins such as `https://admin.example.com` (scheme and host, no path), comma-separated in the environment",
            );
        }

        check(!self.ws_init_timeout.is_zero(), "ws_init_timeout", "expected a duration above zero, such as `10s`");
        check(!self.ws_ping_interval.is_zero(), "ws_ping_interval", "expected a duration above zero, such as `15s`");
        check(
            self.ws_idle_timeout >= 2 * self.ws_ping_interval,
            "ws_idle_timeout",
            "expected a duration of at least twice ws_ping_interval, such as `60s`",
        );

        check(
            (8..=4 * 1024 * 1024).contains(&self.argon2_memory_kib)
                && self.argon2_memory_kib >= 8 * self.argon2_parallelism,
            "argon2_memory_kib",
            "expected an integer from 8 × argon2_parallelism to 4194304 (KiB); the recommended value is 19456",
        );
        check((1..=64).contains(&self.argon2_iterations), "argon2_iterations", "expected an integer from 1 to 64; the recommended value is 2");
        check((1..=64).contains(&self.argon2_parallelism), "argon2_parallelism", "expected an integer from 1 to 64; the recommended value is 1");

        for (idle_key, idle, lifetime_key, lifetime) in [
            ("web_idle_timeout", self.web_idle_timeout, "web_max_lifetime", self.web_max_lifetime),
            ("mobile_idle_timeout", self.mobile_idle_timeout, "mobile_max_lifetime", self.mobile_max_lifetime),
            ("api_idle_timeout", self.api_idle_timeout, "api_max_lifetime", self.api_max_lifetime),
        ] {
            check(idle >= Duration::from_secs(1), idle_key, "expected a duration of at least 1s, such as `30m`");
            check(
                lifetime >= idle && lifetime <= Duration::from_secs(10 * 365 * 24 * 60 * 60),
                lifetime_key,
                "expected a duration no shorter than the idle timeout and at most 10 years, such as `12h`",
            );
        }

        check((1..=100).contains(&self.max_web_sessions), "max_web_sessions", "expected an integer from 1 to 100");
        check(
            (1..=1000).contains(&self.account_lockout_threshold),
            "account_lockout_threshold",
            "expected an integer from 1 to 1000",
        );
        check(
            (1..=1_000_000).contains(&self.address_failure_limit),
            "address_failure_limit",
            "expected an integer from 1 to 1000000, well above account_lockout_threshold",
        );
        for (key, value) in [
            ("account_lockout_window", self.account_lockout_window),
            ("account_lockout_duration", self.account_lockout_duration),
            ("address_failure_window", self.address_failure_window),
        ] {
            check(
                value >= Duration::from_secs(1) && value <= Duration::from_secs(30 * 24 * 60 * 60),
                key,
                "expected a duration from 1s to 30d, such as `15m`",
            );
        }

        check(
            is_valid_cron(&self.session_sweep_cron),
            "session_sweep_cron",
            "expected a cron expression with six fields, seconds first, such as `0 * * * * *`",
        );

        check(
            is_valid_cron(&self.rollout_cron),
            "rollout_cron",
            "expected a cron expression with six fields, seconds first, such as `30 * * * * *`",
        );
        check(
            self.rollout_visible_at <= self.rollout_warn_at,
            "rollout_visible_at",
            "expected an RFC 3339 instant no later than rollout_warn_at",
        );
        check(
            self.rollout_warn_at <= self.rollout_enforce_at,
            "rollout_warn_at",
            "expected an RFC 3339 instant no later than rollout_enforce_at",
        );

        if let Some(token) = &self.metrics_token {
            check(
                secrecy::ExposeSecret::expose_secret(token).trim().chars().count() >= 16,
                "metrics_token",
                "expected at least 16 characters, such as the output of `openssl rand -hex 16`",
            );
        }
        if let Some(url) = &self.smtp_url
            && let Err(problem) = crate::mail::check_smtp_url(secrecy::ExposeSecret::expose_secret(url))
        {
            check(false, "smtp_url", &problem);
        }
        check(
            crate::mail::parse_mailbox(&self.mail_from).is_some(),
            "mail_from",
            "expected an email address such as `seatwarden@example.com` or `Seatwarden <seatwarden@example.com>`",
        );
        check(
            !self.mail_dir.as_os_str().is_empty() && (self.mail_dir.is_dir() || !self.mail_dir.exists()),
            "mail_dir",
            "expected the path of a folder, existing or not, such as `mail-out`",
        );
        check(
            is_http_base_url(&self.public_base_url),
            "public_base_url",
            "expected an http or https URL without query, such as `https://licenses.example.com`",
        );
        check(
            self.mail_retry_initial >= Duration::from_secs(1) && self.mail_retry_initial <= Duration::from_secs(24 * 60 * 60),
            "mail_retry_initial",
            "expected a duration from 1s to 24h, such as `5s`",
        );
        check(
            self.mail_retry_max >= self.mail_retry_initial && self.mail_retry_max <= Duration::from_secs(24 * 60 * 60),
            "mail_retry_max",
            "expected a duration from mail_retry_initial to 24h, such as `10m`",
        );
        check(
            self.mail_give_up_after >= self.mail_retry_initial && self.mail_give_up_after <= Duration::from_secs(30 * 24 * 60 * 60),
            "mail_give_up_after",
            "expected a duration from mail_retry_initial to 30d, such as `24h`",
        );
        check(
            is_valid_cron(&self.mail_dispatch_cron),
            "mail_dispatch_cron",
            "expected a cron expression with six fields, seconds first, such as `*/5 * * * * *`",
        );
        for (key, value, example) in [
            ("usage_history_cron", &self.usage_history_cron, "0 0 * * * *"),
            ("renewal_reminder_cron", &self.renewal_reminder_cron, "0 0 6 * * *"),
            ("unused_digest_cron", &self.unused_digest_cron, "0 0 7 * * Mon"),
        ] {
            check(
                is_valid_cron(value),
                key,
                &format!("expected a cron expression with six fields, seconds first, such as `{example}`"),
            );
        }
        check(
            self.seat_log_retention >= Duration::from_secs(24 * 60 * 60),
            "seat_log_retention",
            "expected a duration of at least one day, such as `400d`",
        );
        check(
            (1..=3660).contains(&self.max_usage_range_days),
            "max_usage_range_days",
            "expected an integer from 1 to 3660",
        );
        check(
            self.unused_license_after >= Duration::from_secs(24 * 60 * 60),
            "unused_license_after",
            "expected a duration of at least one day, such as `30d`",
        );

        check(
            self.job_lease_duration >= Duration::from_secs(10),
            "job_lease_duration",
            "expected a duration of at least 10s, longer than a job's run, such as `10m`",
        );
        check(self.shutdown_grace_period >= Duration::from_secs(1), "shutdown_grace_period", "expected a duration of at least 1s, such as `30s`");
        check(
            self.shutdown_delay < self.shutdown_grace_period,
            "shutdown_delay",
            "expected a duration shorter than shutdown_grace_period, such as `2s`",
        );

        check((2..=100).contains(&self.max_query_depth), "max_query_depth", "expected an integer from 2 to 100");
        check(self.max_query_complexity >= 10, "max_query_complexity", "expected an integer of at least 10");
        check(self.max_body_bytes >= 1024, "max_body_bytes", "expected a size in bytes of at least 1024");
        check((1..=10_000).contains(&self.max_page_size), "max_page_size", "expected an integer from 1 to 10000");

        if problems.is_empty() { Ok(()) } else { Err(ConfigError(problems.join("; "))) }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn next_cron_run_follows_the_expression() {
        let at = |second| Utc.with_ymd_and_hms(2027, 1, 4, 6, 0, second).unwrap();
        assert_eq!(next_cron_run("*/5 * * * * *", at(1)), Some(at(5)));
        assert_eq!(next_cron_run("*/5 * * * * *", at(5)), Some(at(10)), "the run at `after` itself is not next");
        assert_eq!(next_cron_run("0 0 7 * * Mon", at(0)), Some(Utc.with_ymd_and_hms(2027, 1, 4, 7, 0, 0).unwrap()));
        assert_eq!(next_cron_run("not cron", at(0)), None);
    }
}
