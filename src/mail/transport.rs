//! The two ways email leaves the service: an SMTP server named by `smtp_url`,
//! or, without one, `.eml` files under `mail_dir`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::Mailbox,
    transport::smtp::AsyncSmtpTransportBuilder,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::{app::redact_url, config::Config};

/// Retry schedule of emails whose delivery may still pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failed attempt; each further failure doubles it.
    pub initial: Duration,
    /// Maximum wait between two attempts.
    pub max: Duration,
    /// An email still undelivered this long after it was queued becomes FAILED.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    /// Returns the wait after the `attempts`-th failed attempt (1 for the first):
    /// `initial` doubled `attempts - 1` times, at most `max`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.initial.checked_mul(1u32 << doublings).map_or(self.max, |wait| wait.min(self.max))
    }
}

/// The configured transport, sender and retry policy; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<MailerInner>,
}

struct MailerInner {
    delivery: Delivery,
    from: Mailbox,
    retry: RetryPolicy,
}

enum Delivery {
    Smtp {
        builder: Box<AsyncSmtpTransportBuilder>,
        /// `smtp_url` with its password replaced by `***`.
        redacted_url: String,
        /// The password as written in the URL and percent-decoded, removed from every error text.
        secrets: Vec<String>,
    },
    Files {
        dir: PathBuf,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Mailer").field("transport", &self.describe()).field("from", &self.inner.from.to_string()).finish()
    }
}

/// A failed delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    pub kind: FailureKind,
    /// Description of the failure, with any SMTP password removed.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureKind {
    /// The server rejected the email with a 5xx reply, or the email cannot be
    /// built; retrying cannot help.
    Permanent,
    /// The server replied with 4xx, so the email may pass later.
    Transient,
    /// No usable SMTP reply: connection refused, timeout, TLS or I/O error, or
    /// the server rejected the session itself (such as its credentials). The
    /// email may pass later, and the other emails would meet the same problem.
    Unreachable,
}

impl Failure {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { kind: FailureKind::Permanent, message: message.into() }
    }
}

impl Mailer {
    /// Builds the transport that the configuration names: SMTP when `smtp_url`
    /// is set, `.eml` files under `mail_dir` otherwise.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let from = parse_mailbox(&config.mail_from)
            .ok_or_else(|| format!("mail_from {:?} is not a valid email address", config.mail_from))?;
        let delivery = match &config.smtp_url {
            Some(url) => smtp_delivery(url.expose_secret())?,
            None => Delivery::Files { dir: config.mail_dir.clone() },
        };
        let retry = RetryPolicy {
            initial: config.mail_retry_initial,
            max: config.mail_retry_max,
            give_up_after: config.mail_give_up_after,
        };
        Ok(Self { inner: Arc::new(MailerInner { delivery, from, retry }) })
    }

    /// Describes the transport for logs, without any password.
    pub fn describe(&self) -> String {
        match &self.inner.delivery {
            Delivery::Smtp { redacted_url, .. } => format!("SMTP {redacted_url}"),
            Delivery::Files { dir } => format!(".eml files under {}", dir.display()),
        }
    }

    /// Returns the sender of every email.
    pub fn from(&self) -> &Mailbox {
        &self.inner.from
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Returns the Message-ID of an outbox email: its id at the sender's domain.
    pub fn message_id(&self, outbox_id: Uuid) -> String {
        format!("<{outbox_id}@{}>", self.inner.from.email.domain())
    }

    /// Starts one dispatch run. An SMTP run opens its connection at the first
    /// email and closes it in [`Session::close`], so no connection outlives a run.
    pub(super) fn session(&self) -> Session<'_> {
        Session { mailer: self, smtp: None }
    }

    /// Removes the SMTP password from a text, in the forms the URL may contain it.
    fn scrub(&self, text: String) -> String {
        match &self.inner.delivery {
            Delivery::Smtp { secrets, .. } => {
                secrets.iter().fold(text, |text, secret| text.replace(secret.as_str(), "***"))
            }
            Delivery::Files { .. } => text,
        }
    }
}

/// The transport of one dispatch run.
pub(super) struct Session<'a> {
    mailer: &'a Mailer,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Session<'_> {
    /// Delivers one message: over SMTP, or as `OUTBOX-ID.eml` in the mail folder,
    /// replacing the file an earlier attempt for the same email wrote.
    pub async fn deliver(&mut self, outbox_id: Uuid, message: &Message) -> Result<(), Failure> {
        match &self.mailer.inner.delivery {
            Delivery::Smtp { builder, .. } => {
                let transport = match &self.smtp {
                    Some(transport) => transport,
                    None => {
                        let transport = builder.as_ref().clone().build::<Tokio1Executor>();
                        // A NOOP on a new connection separates a server that
                        // is down or rejects the session (such as its
                        // credentials) from one that rejects this email.
                        match transport.test_connection().await {
                            Ok(true) => {}
                            Ok(false) => {
                                transport.shutdown().await;
                                return Err(self.unreachable("the SMTP server rejected NOOP on a new connection".to_owned()));
                            }
                            Err(error) => {
                                transport.shutdown().await;
                                return Err(self.unreachable(format!("opening the SMTP session failed: {error}")));
                            }
                        }
                        self.smtp.insert(transport)
                    }
                };
                transport.send(message.clone()).await.map(|_| ()).map_err(|error| self.classify(&error))
            }
            Delivery::Files { dir } => {
                let dir = dir.clone();
                let written = write_eml(&dir, outbox_id, &message.formatted()).await;
                match written {
                    Ok(path) => {
                        tracing::info!(outbox_id = %outbox_id, path = %path.display(), "email written to file");
                        Ok(())
                    }
                    Err(error) => Err(self.unreachable(format!("writing the email under {} failed: {error}", dir.display()))),
                }
            }
        }
    }

    /// Closes the run's SMTP connection, if one was opened.
    pub async fn close(self) {
        if let Some(transport) = self.smtp {
            transport.shutdown().await;
        }
    }

    fn unreachable(&self, message: String) -> Failure {
        Failure { kind: FailureKind::Unreachable, message: self.mailer.scrub(message) }
    }

    /// Sorts a lettre error: lettre 0.11 marks 5xx replies permanent and 4xx
    /// replies transient, and every error without a reply counts as may-pass.
    fn classify(&self, error: &lettre::transport::smtp::Error) -> Failure {
        let message = self.mailer.scrub(format!("sending over SMTP failed: {error}"));
        let kind = if error.is_permanent() {
            FailureKind::Permanent
        } else if error.is_transient() {
            FailureKind::Transient
        } else {
            FailureKind::Unreachable
        };
        Failure { kind, message }
    }
}

/// Writes `OUTBOX-ID.eml` through a temporary file and a rename, so a reader
/// never sees half a message, and returns its path.
async fn write_eml(dir: &std::path::Path, outbox_id: Uuid, contents: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("{outbox_id}.eml"));
    let partial = dir.join(format!(".{outbox_id}.eml.partial"));
    tokio::fs::write(&partial, contents).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}

/// Parses a sender such as `seatwarden@example.com` or `Seatwarden <seatwarden@example.com>`.
pub fn parse_mailbox(value: &str) -> Option<Mailbox> {
    value.trim().parse::<Mailbox>().ok()
}

fn smtp_delivery(url: &str) -> Result<Delivery, String> {
    check_smtp_url(url)?;
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|error| format!("smtp_url {} is invalid: {error}", redact_url(url)))?;
    let mut secrets = Vec::new();
    if let Some(password) = url_password(url) {
        let decoded = percent_decode(password);
        if !password.is_empty() {
            secrets.push(password.to_owned());
        }
        if !decoded.is_empty() && decoded != password {
            secrets.push(decoded);
        }
    }
    Ok(Delivery::Smtp { builder: Box::new(builder), redacted_url: redact_url(url), secrets })
}

/// Checks an SMTP URL in lettre's form and returns what is wrong with it, without its password.
///
/// Accepted: `smtp://HOST:PORT` (no TLS, only for a loopback host),
/// `smtp://HOST:PORT?tls=required` (STARTTLS), `smtp://HOST:PORT?tls=opportunistic`
/// (STARTTLS when offered) and `smtps://HOST:PORT` (TLS from the start), each
/// optionally with `USER:PASSWORD@` before the host.
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    let accepted = "expected `smtp://HOST:PORT?tls=required` (STARTTLS), `smtps://HOST:PORT` (TLS), \
                    or `smtp://127.0.0.1:PORT` (no TLS, loopback only), with optional `USER:PASSWORD@` before the host";
    let uri: http::Uri = url.parse().map_err(|_| accepted.to_owned())?;
    let scheme = uri.scheme_str().unwrap_or_default();
    let host = uri.host().unwrap_or_default();
    if host.is_empty() || !matches!(scheme, "smtp" | "smtps") {
        return Err(accepted.to_owned());
    }
    let tls = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("tls="));
    match (scheme, tls) {
        ("smtp", None) if !is_loopback(host) => {
            return Err(format!("{accepted}; plain SMTP to {host} would send mail and credentials unencrypted"));
        }
        ("smtp", None | Some("required" | "opportunistic")) | ("smtps", None) => {}
        _ => return Err(accepted.to_owned()),
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map(|_| ()).map_err(|error| format!("{accepted} ({error})"))
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Returns the password part of `scheme://USER:PASSWORD@HOST…`, still percent-encoded.
fn url_password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let credentials = &authority[..authority.rfind('@')?];
    credentials.split_once(':').map(|(_, password)| password)
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|pair| u8::from_str_radix(pair, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_smtp_url_accepts_lettre_forms() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtp://[::1]:25",
            "smtp://mail.example.com:587?tls=required",
            "smtp://user:secret@mail.example.com:587?tls=required",
            "smtps://user:secret@mail.example.com:465",
        ] {
            assert_eq!(check_smtp_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn check_smtp_url_rejects_other_forms() {
        for url in [
            "",
            "mail.example.com:25",
            "http://mail.example.com",
            "smtp://mail.example.com:25",
            "smtp://mail.example.com:587?tls=maybe",
            "smtp://:25",
        ] {
            assert!(check_smtp_url(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn check_smtp_url_hides_password() {
        let error = check_smtp_url("smtp://user:hunter2@mail.example.com:25").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn url_password_is_found_and_decoded() {
        assert_eq!(url_password("smtp://user:p%40ss@host:25?tls=required"), Some("p%40ss"));
        assert_eq!(url_password("smtp://user@host:25"), None);
        assert_eq!(url_password("smtp://host:25"), None);
        assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
    }

    #[test]
    fn backoff_doubles_up_to_max() {
        let policy = RetryPolicy {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(600),
            give_up_after: Duration::from_secs(86_400),
        };
        let waits: Vec<u64> = (1..=9).map(|attempts| policy.backoff(attempts).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(policy.backoff(1_000), Duration::from_secs(600));
    }
}
