//! The mail outbox: enqueueing in a transaction, delivery over a real SMTP
//! server (aiosmtpd, started by tests/run), retries, giving up, permanent
//! rejections, the file transport and redelivery after a crash.
//!
//! The SMTP tests need `SEATWARDEN_TEST_SMTP_URL` and `SEATWARDEN_TEST_MAILDIR`
//! (set by tests/run). Every test shares that one Maildir, so each addresses
//! its emails to recipients with a unique tag and reads only the messages
//! that carry it.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use entity::{
    ComplianceEventKind, EmailStatus, compliance_event,
    outbox_email::{self, OutboxStatus},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, TransactionTrait};
use seatwarden::{
    config::Config,
    mail::{self, CLAIM_LEASE, DispatchReport, EmailDraft, Line, Mailer},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};
use uuid::Uuid;

use crate::{
    db_test,
    harness::{TestApp, slice_input},
};

/// Returns the URL and the Maildir of the aiosmtpd server that tests/run
/// started, or `None` with a SKIPPED line when it did not (a failure with CI=true).
pub(crate) fn smtp_server() -> Option<(String, PathBuf)> {
    let url = std::env::var("SEATWARDEN_TEST_SMTP_URL").ok().filter(|value| !value.is_empty());
    let maildir = std::env::var("SEATWARDEN_TEST_MAILDIR").ok().filter(|value| !value.is_empty());
    match (url, maildir) {
        (Some(url), Some(maildir)) => Some((url, PathBuf::from(maildir))),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SEATWARDEN_TEST_SMTP_URL or SEATWARDEN_TEST_MAILDIR is not set, and CI=true forbids skipping the SMTP tests; run them with tests/run"
            );
            eprintln!("SKIPPED: SMTP test (SEATWARDEN_TEST_SMTP_URL and SEATWARDEN_TEST_MAILDIR are not set; tests/run sets them)");
            None
        }
    }
}

/// Builds a mailer from the test service's configuration after `adjust` changes it.
fn mailer(app: &TestApp, adjust: impl FnOnce(&mut Config)) -> Mailer {
    let mut config = (*app.state.config).clone();
    adjust(&mut config);
    config.validate().unwrap();
    Mailer::from_config(&config).unwrap()
}

pub(crate) fn smtp_mailer(app: &TestApp, url: &str) -> Mailer {
    mailer(app, |config| {
        config.smtp_url = Some(url.into());
        config.mail_from = "Seatwarden Alerts <alerts@seatwarden.test>".to_owned();
    })
}

/// Returns a recipient address that no other test uses.
pub(crate) fn unique_recipient(name: &str) -> String {
    format!("{name}-{}@customer.example", Uuid::new_v4().simple())
}

fn draft(to: &[&str], subject: &str) -> EmailDraft {
    let body = mail::render(
        "http://127.0.0.1:8080",
        subject,
        &[Line::text("acme uses 10 of its 10 NAMED licenses."), Line::link("Open GraphiQL", "/graphiql")],
    );
    EmailDraft::new(to.iter().map(|address| (*address).to_owned()).collect(), subject, body)
}

async fn enqueue(app: &TestApp, draft: EmailDraft) -> outbox_email::Model {
    let txn = app.state.db.begin().await.unwrap();
    let email = mail::enqueue(&txn, draft, app.now()).await.unwrap();
    txn.commit().await.unwrap();
    email
}

async fn dispatch(app: &TestApp, mailer: &Mailer) -> DispatchReport {
    mail::dispatch_pending(&app.state.db, app.clock.as_ref(), mailer).await.unwrap()
}

async fn reload(app: &TestApp, id: Uuid) -> outbox_email::Model {
    outbox_email::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap()
}

/// Creates a slice and a compliance event of it whose email is NOT_REQUIRED.
async fn compliance_event(app: &TestApp) -> compliance_event::Model {
    let operator = app.operator("root").await;
    let slice: Uuid = app.create_slice(&operator, slice_input("acme")).await.parse().unwrap();
    compliance_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        slice_id: Set(slice),
        kind: Set(ComplianceEventKind::ModeChanged),
        license_type: Set(None),
        level: Set(None),
        in_use: Set(None),
        owned: Set(None),
        user_id: Set(None),
        actor_id: Set(None),
        from_mode: Set(None),
        to_mode: Set(None),
        message: Set("Mode changed from OFF to WARN by an operator".to_owned()),
        occurred_at: Set(app.now()),
        email_status: Set(EmailStatus::NotRequired),
    }
    .insert(&app.state.db)
    .await
    .unwrap()
}

async fn event_email_status(app: &TestApp, id: Uuid) -> EmailStatus {
    compliance_event::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap().email_status
}

/// Returns a port of 127.0.0.1 where nothing listens, bound once to pick it and then released.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// An email as stored in a Maildir file: headers unfolded, body as written.
pub(crate) struct StoredEmail {
    headers: Vec<(String, String)>,
    body: String,
}

impl StoredEmail {
    fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        Self { headers, body: body.to_owned() }
    }

    /// Returns the first header of that name, compared without regard to case.
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("the email has no {name} header: {:?}", self.headers))
    }

    /// Splits a multipart body into its parts, each with its headers and its decoded text.
    fn parts(&self) -> Vec<(StoredEmail, String)> {
        let content_type = self.header("Content-Type");
        let boundary = content_type
            .split(';')
            .find_map(|parameter| parameter.trim().strip_prefix("boundary="))
            .unwrap_or_else(|| panic!("no boundary in {content_type}"))
            .trim_matches('"');
        let delimiter = format!("--{boundary}");
        self.body
            .split(delimiter.as_str())
            .skip(1)
            .filter(|part| !part.starts_with("--"))
            .map(|part| {
                let part = StoredEmail::parse(part.trim_start_matches('\n'));
                let encoding = part.header("Content-Transfer-Encoding").to_ascii_lowercase();
                let text = match encoding.as_str() {
                    "7bit" | "8bit" => part.body.clone(),
                    "quoted-printable" => decode_quoted_printable(&part.body),
                    "base64" => {
                        use base64::Engine as _;
                        let joined: String = part.body.split_whitespace().collect();
                        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).unwrap()).unwrap()
                    }
                    other => panic!("unexpected Content-Transfer-Encoding {other}"),
                };
                (part, text)
            })
            .collect()
    }
}

/// Decodes quoted-printable text (RFC 2045): `=XX` escapes and `=` soft line breaks.
fn decode_quoted_printable(encoded: &str) -> String {
    let joined = encoded.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'=' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
            decoded.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("invalid escape ={hex}")));
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).unwrap()
}

/// Reads every message in the Maildir that mentions `tag`, in no particular order.
pub(crate) fn maildir_messages(maildir: &Path, tag: &str) -> Vec<StoredEmail> {
    let mut found = Vec::new();
    for folder in ["new", "cur"] {
        for entry in std::fs::read_dir(maildir.join(folder)).unwrap() {
            let raw = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            if raw.contains(tag) {
                found.push(StoredEmail::parse(&raw));
            }
        }
    }
    found
}

/// Checks the two parts that `draft` renders for subject `subject`.
fn assert_rendered_parts(email: &StoredEmail, subject: &str) {
    assert!(email.header("Content-Type").starts_with("multipart/alternative"), "{}", email.header("Content-Type"));
    let parts = email.parts();
    assert_eq!(parts.len(), 2, "expected a plain-text and an HTML part:\n{}", email.body);

    let (plain, text) = &parts[0];
    assert_eq!(plain.header("Content-Type"), "text/plain; charset=utf-8");
    assert!(text.starts_with(&format!("{subject}\n")), "plain-text title missing:\n{text}");
    assert!(text.contains("acme uses 10 of its 10 NAMED licenses."), "{text}");
    assert!(text.contains("Open GraphiQL: http://127.0.0.1:8080/graphiql"), "plain-text link missing:\n{text}");

    let (html, markup) = &parts[1];
    assert_eq!(html.header("Content-Type"), "text/html; charset=utf-8");
    assert!(markup.contains(&format!("<h1>{subject}</h1>")), "HTML title missing:\n{markup}");
    assert!(markup.contains("<p>acme uses 10 of its 10 NAMED licenses.</p>"), "{markup}");
    assert!(markup.contains("<a href=\"http://127.0.0.1:8080/graphiql\">Open GraphiQL</a>"), "HTML link missing:\n{markup}");
}

/// Forwards every connection on `port` of 127.0.0.1 to `target`, as if a
/// server came up there. Ends with the test's runtime.
async fn forward(port: u16, target: String) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target.as_str()).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
}

/// What the rejecting SMTP server received.
#[derive(Default)]
struct ServerCounts {
    rejected_recipients: AtomicUsize,
    accepted_messages: AtomicUsize,
}

/// Starts an SMTP server on 127.0.0.1 that replies `550 5.1.1` to every RCPT
/// whose address contains `rejected` and accepts every other email without
/// storing it. Returns its URL and what it received.
async fn rejecting_smtp_server() -> (String, Arc<ServerCounts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let counts = Arc::new(ServerCounts::default());
    let server_counts = counts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let counts = server_counts.clone();
            tokio::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut lines = BufReader::new(reader).lines();
                writer.write_all(b"220 reject.test ESMTP\r\n").await.unwrap();
                let mut has_recipient = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 reject.test\r\n",
                        "NOOP" => b"250 2.0.0 OK\r\n",
                        "MAIL" | "RSET" => {
                            has_recipient = false;
                            b"250 2.0.0 OK\r\n"
                        }
                        "RCPT" if line.contains("rejected") => {
                            counts.rejected_recipients.fetch_add(1, Ordering::SeqCst);
                            b"550 5.1.1 mailbox unavailable\r\n"
                        }
                        "RCPT" => {
                            has_recipient = true;
                            b"250 2.1.5 OK\r\n"
                        }
                        "DATA" if has_recipient => {
                            if writer.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await.is_err() {
                                return;
                            }
                            while let Ok(Some(data)) = lines.next_line().await {
                                if data == "." {
                                    break;
                                }
                            }
                            counts.accepted_messages.fetch_add(1, Ordering::SeqCst);
                            has_recipient = false;
                            b"250 2.0.0 queued\r\n"
                        }
                        "DATA" => b"503 5.5.1 no valid recipients\r\n",
                        "QUIT" => {
                            let _ = writer.write_all(b"221 2.0.0 bye\r\n").await;
                            return;
                        }
                        _ => b"502 5.5.2 command not implemented\r\n",
                    };
                    if writer.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, counts)
}

db_test! {
    async fn enqueue_and_dispatch_delivers(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let mailer = smtp_mailer(&app, &url);
        let first = unique_recipient("ada");
        let second = unique_recipient("ben");
        let subject = format!("NAMED licenses at the limit {}", Uuid::new_v4().simple());
        let queued = enqueue(&app, draft(&[&first, &second], &subject)).await;
        assert_eq!(queued.status, OutboxStatus::Pending);
        assert_eq!(queued.attempts, 0);
        assert_eq!(queued.next_attempt_at, app.now());

        let report = dispatch(&app, &mailer).await;

        assert_eq!(report, DispatchReport { sent: 1, retried: 0, failed: 0 });
        let email = reload(&app, queued.id).await;
        assert_eq!(email.status, OutboxStatus::Sent);
        assert_eq!(email.attempts, 1);
        assert_eq!(email.sent_at, Some(app.now()));
        assert_eq!(email.last_error, None);
        let message_id = format!("<{}@seatwarden.test>", queued.id);
        assert_eq!(email.message_id.as_deref(), Some(message_id.as_str()));

        let stored = maildir_messages(&maildir, &first);
        assert_eq!(stored.len(), 1, "expected one delivered copy");
        let stored = &stored[0];
        assert_eq!(stored.header("Subject"), subject);
        assert_eq!(stored.header("Message-ID"), message_id);
        assert_eq!(stored.header("From"), "\"Seatwarden Alerts\" <alerts@seatwarden.test>");
        assert_eq!(stored.header("To"), format!("{first}, {second}"));
        assert_eq!(stored.header("X-MailFrom"), "alerts@seatwarden.test");
        assert_eq!(stored.header("X-RcptTo"), format!("{first}, {second}"));
        assert_rendered_parts(stored, &subject);

        let again = dispatch(&app, &mailer).await;
        assert_eq!(again, DispatchReport::default(), "a SENT email is not sent again");
    }
}

db_test! {
    async fn smtp_down_retries_with_backoff(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let port = closed_port().await;
        let mailer = smtp_mailer(&app, &format!("smtp://127.0.0.1:{port}"));
        let recipient = unique_recipient("retry");
        let queued = enqueue(&app, draft(&[&recipient], "Retried")).await;

        // Defaults: 5s after the first failure, doubling up to 10m.
        let expected_waits = [5, 10, 20, 40, 80, 160, 320, 600, 600];
        for (index, wait) in expected_waits.into_iter().enumerate() {
            let report = dispatch(&app, &mailer).await;
            assert_eq!(report, DispatchReport { sent: 0, retried: 1, failed: 0 }, "attempt {}", index + 1);
            let email = reload(&app, queued.id).await;
            assert_eq!(email.status, OutboxStatus::Pending);
            assert_eq!(email.attempts, index as i32 + 1);
            assert_eq!(email.next_attempt_at, app.now() + chrono::Duration::seconds(wait), "wait after attempt {}", index + 1);
            let error = email.last_error.unwrap_or_default();
            assert!(error.contains("opening the SMTP session failed"), "{error}");

            app.clock.advance(chrono::Duration::seconds(wait - 1));
            assert_eq!(dispatch(&app, &mailer).await, DispatchReport::default(), "not due before its wait has passed");
            app.clock.advance(chrono::Duration::seconds(1));
        }

        let target = url.trim_start_matches("smtp://").to_owned();
        forward(port, target).await;
        let report = dispatch(&app, &mailer).await;

        assert_eq!(report, DispatchReport { sent: 1, retried: 0, failed: 0 });
        let email = reload(&app, queued.id).await;
        assert_eq!(email.status, OutboxStatus::Sent);
        assert_eq!(email.attempts, expected_waits.len() as i32 + 1);
        let stored = maildir_messages(&maildir, &recipient);
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].header("Message-ID"), format!("<{}@seatwarden.test>", queued.id));
    }
}

db_test! {
    async fn give_up_after_marks_failed(app) {
        let port = closed_port().await;
        let mailer = mailer(&app, |config| {
            config.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
            config.mail_retry_initial = Duration::from_secs(40);
            config.mail_give_up_after = Duration::from_secs(60);
        });
        let event = compliance_event(&app).await;
        let queued = enqueue(&app, draft(&["ada@customer.example"], "Given up").for_event(event.id)).await;
        let created = app.now();

        assert_eq!(dispatch(&app, &mailer).await.retried, 1);
        assert_eq!(reload(&app, queued.id).await.next_attempt_at, created + chrono::Duration::seconds(40));

        app.clock.advance(chrono::Duration::seconds(40));
        assert_eq!(dispatch(&app, &mailer).await.retried, 1);
        let email = reload(&app, queued.id).await;
        assert_eq!(
            email.next_attempt_at,
            created + chrono::Duration::seconds(60),
            "the wait of 80s is cut to the give-up instant"
        );
        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::Pending);

        app.clock.advance(chrono::Duration::seconds(20));
        let report = dispatch(&app, &mailer).await;

        assert_eq!(report, DispatchReport { sent: 0, retried: 0, failed: 1 });
        let email = reload(&app, queued.id).await;
        assert_eq!(email.status, OutboxStatus::Failed);
        assert_eq!(email.attempts, 3);
        assert_eq!(email.sent_at, None);
        assert!(email.last_error.is_some_and(|error| error.contains("opening the SMTP session failed")));
        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::Failed);

        app.clock.advance(chrono::Duration::hours(1));
        assert_eq!(dispatch(&app, &mailer).await, DispatchReport::default(), "a FAILED email is not retried");
    }
}

db_test! {
    async fn permanent_rejection_fails_at_once(app) {
        let (url, counts) = rejecting_smtp_server().await;
        let mailer = smtp_mailer(&app, &url);
        let event = compliance_event(&app).await;
        let rejected = enqueue(&app, draft(&["rejected@customer.example"], "Rejected").for_event(event.id)).await;
        let accepted = enqueue(&app, draft(&["ada@customer.example"], "Accepted")).await;
        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::Pending);

        let report = dispatch(&app, &mailer).await;

        assert_eq!(report, DispatchReport { sent: 1, retried: 0, failed: 1 }, "the run goes on after a rejection");
        assert_eq!(counts.rejected_recipients.load(Ordering::SeqCst), 1);
        assert_eq!(counts.accepted_messages.load(Ordering::SeqCst), 1);
        let email = reload(&app, rejected.id).await;
        assert_eq!(email.status, OutboxStatus::Failed);
        assert_eq!(email.attempts, 1);
        assert_eq!(email.sent_at, None);
        let error = email.last_error.unwrap_or_default();
        assert!(error.contains("550"), "{error}");
        assert!(error.contains("mailbox unavailable"), "{error}");
        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::Failed);
        assert_eq!(reload(&app, accepted.id).await.status, OutboxStatus::Sent);

        app.clock.advance(chrono::Duration::hours(1));
        assert_eq!(dispatch(&app, &mailer).await, DispatchReport::default());
        assert_eq!(counts.rejected_recipients.load(Ordering::SeqCst), 1, "a permanent rejection is never retried");
    }
}

db_test! {
    async fn linked_event_moves_to_sent(app) {
        let dir = tempfile::tempdir().unwrap();
        let mailer = mailer(&app, |config| config.mail_dir = dir.path().join("mail-out"));
        let event = compliance_event(&app).await;

        let txn = app.state.db.begin().await.unwrap();
        mail::enqueue(&txn, draft(&["ada@customer.example"], "Linked").for_event(event.id), app.now()).await.unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::NotRequired, "a rolled-back enqueue leaves no trace");
        assert_eq!(outbox_email::Entity::find().all(&app.state.db).await.unwrap().len(), 0);

        let queued = enqueue(&app, draft(&["ada@customer.example"], "Linked").for_event(event.id)).await;
        assert_eq!(queued.compliance_event_id, Some(event.id));
        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::Pending);

        assert_eq!(dispatch(&app, &mailer).await.sent, 1);

        assert_eq!(event_email_status(&app, event.id).await, EmailStatus::Sent);
    }
}

db_test! {
    async fn file_transport_writes_eml(app) {
        let dir = tempfile::tempdir().unwrap();
        let mail_dir = dir.path().join("mail-out");
        let mailer = mailer(&app, |config| config.mail_dir = mail_dir.clone());
        let queued = enqueue(&app, draft(&["ada@customer.example"], "Written to a file")).await;

        assert_eq!(dispatch(&app, &mailer).await, DispatchReport { sent: 1, retried: 0, failed: 0 });

        let files: Vec<String> =
            std::fs::read_dir(&mail_dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(files, [format!("{}.eml", queued.id)], "one file, no partial one left");
        let stored = StoredEmail::parse(&std::fs::read_to_string(mail_dir.join(&files[0])).unwrap());
        assert_eq!(stored.header("Subject"), "Written to a file");
        assert_eq!(stored.header("Message-ID"), format!("<{}@localhost>", queued.id));
        assert_eq!(stored.header("From"), "seatwarden@localhost");
        assert_eq!(stored.header("To"), "ada@customer.example");
        assert_rendered_parts(&stored, "Written to a file");
        assert_eq!(reload(&app, queued.id).await.status, OutboxStatus::Sent);
    }
}

db_test! {
    async fn crash_after_send_resends_same_message_id(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let mailer = smtp_mailer(&app, &url);
        let recipient = unique_recipient("crash");
        let queued = enqueue(&app, draft(&[&recipient], "Sent twice")).await;
        let (create_trigger, drop_trigger) = match app.state.db.get_database_backend() {
            DbBackend::Sqlite => (
                vec!["CREATE TRIGGER simulate_crash BEFORE UPDATE OF status ON outbox_emails WHEN NEW.status = 'SENT' \
                      BEGIN SELECT RAISE(ABORT, 'simulated crash before recording SENT'); END"],
                "DROP TRIGGER simulate_crash",
            ),
            _ => (
                vec![
                    "CREATE FUNCTION simulate_crash() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'simulated crash before recording SENT'; END $$",
                    "CREATE TRIGGER simulate_crash BEFORE UPDATE ON outbox_emails FOR EACH ROW \
                     WHEN (NEW.status = 'SENT') EXECUTE FUNCTION simulate_crash()",
                ],
                "DROP TRIGGER simulate_crash ON outbox_emails",
            ),
        };
        for statement in create_trigger {
            app.state.db.execute_unprepared(statement).await.unwrap();
        }

        // The server accepts the email, then recording SENT fails as if the
        // process had died between the two steps.
        let crashed = mail::dispatch_pending(&app.state.db, app.clock.as_ref(), &mailer).await;
        assert!(crashed.is_err(), "recording SENT should have failed: {crashed:?}");
        assert_eq!(maildir_messages(&maildir, &recipient).len(), 1);
        let email = reload(&app, queued.id).await;
        assert_eq!(email.status, OutboxStatus::Pending);
        assert_eq!(email.attempts, 0);
        assert_eq!(email.next_attempt_at, app.now() + CLAIM_LEASE, "the claim holds the email");
        app.state.db.execute_unprepared(drop_trigger).await.unwrap();

        app.clock.advance(CLAIM_LEASE - chrono::Duration::seconds(1));
        assert_eq!(dispatch(&app, &mailer).await, DispatchReport::default(), "not sent again while the claim holds");
        app.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(dispatch(&app, &mailer).await, DispatchReport { sent: 1, retried: 0, failed: 0 });

        let copies = maildir_messages(&maildir, &recipient);
        assert_eq!(copies.len(), 2, "delivery is at least once");
        let message_id = format!("<{}@seatwarden.test>", queued.id);
        assert_eq!(copies[0].header("Message-ID"), message_id);
        assert_eq!(copies[1].header("Message-ID"), message_id);
        assert_eq!(reload(&app, queued.id).await.status, OutboxStatus::Sent);
    }
}

db_test! {
    async fn concurrent_runs_send_each_once(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let mailer = smtp_mailer(&app, &url);
        let tag = Uuid::new_v4().simple().to_string();
        let recipients: Vec<String> = (0..6).map(|index| format!("concurrent-{index}-{tag}@customer.example")).collect();
        for recipient in &recipients {
            enqueue(&app, draft(&[recipient.as_str()], "Concurrent")).await;
        }

        let (first, second) = tokio::join!(dispatch(&app, &mailer), dispatch(&app, &mailer));

        assert_eq!(first.sent + second.sent, 6, "{first:?} {second:?}");
        assert_eq!(first.retried + second.retried + first.failed + second.failed, 0);
        for recipient in &recipients {
            assert_eq!(maildir_messages(&maildir, recipient).len(), 1, "copies for {recipient}");
        }
    }
}

db_test! {
    async fn enqueue_rejects_invalid_drafts(app) {
        let txn = app.state.db.begin().await.unwrap();
        let now = app.now();
        let cases = [
            (draft(&[], "No recipient"), "to"),
            (draft(&["not an address"], "Invalid address"), "to"),
            (draft(&["ada@customer.example"], "Two\r\nlines"), "subject"),
            (draft(&["ada@customer.example"], "Missing event").for_event(Uuid::now_v7()), "NOT_FOUND"),
        ];
        for (draft, expected) in cases {
            let subject = draft.subject.clone();
            let error = mail::enqueue(&txn, draft, now).await.unwrap_err();
            match error {
                seatwarden::error::AppError::BadInput { field, .. } => assert_eq!(field, expected, "{subject:?}"),
                seatwarden::error::AppError::NotFound { .. } => assert_eq!(expected, "NOT_FOUND", "{subject:?}"),
                other => panic!("unexpected error for {subject:?}: {other:?}"),
            }
        }
        txn.rollback().await.unwrap();
    }
}

db_test! {
    config = |config| {
        config.mail_dispatch_cron = "* * * * * *".to_owned();
        config.mail_dir = std::env::temp_dir().join(format!("seatwarden-mail-{}", Uuid::new_v4().simple()));
    };
    async fn scheduler_runs_mail_dispatch(app) {
        let queued = enqueue(&app, draft(&["ada@customer.example"], "Scheduled")).await;
        let mut scheduler = seatwarden::jobs::start(&app.state).await.unwrap();

        // The scheduler ticks on the system clock, so this waits for a real
        // tick (about a second) and gives up after ten.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut email = reload(&app, queued.id).await;
        while email.status == OutboxStatus::Pending && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            email = reload(&app, queued.id).await;
        }
        scheduler.shutdown().await.unwrap();
        let mail_dir = app.state.config.mail_dir.clone();
        let written = mail_dir.join(format!("{}.eml", queued.id)).is_file();
        std::fs::remove_dir_all(&mail_dir).unwrap();

        assert_eq!(email.status, OutboxStatus::Sent);
        assert_eq!(email.sent_at, Some(app.now()));
        assert!(written, "the state's mailer wrote the email under mail_dir");
    }
}

#[test]
fn config_rejects_invalid_mail_settings() {
    let cases = [
        (Config { smtp_url: Some("smtp://user:hunter2@mail.example.com:25".into()), ..Config::default() }, "SEATWARDEN_SMTP_URL"),
        (Config { smtp_url: Some("http://127.0.0.1:25".into()), ..Config::default() }, "SEATWARDEN_SMTP_URL"),
        (Config { mail_from: "not an address".to_owned(), ..Config::default() }, "SEATWARDEN_MAIL_FROM"),
        (Config { public_base_url: "127.0.0.1:8080".to_owned(), ..Config::default() }, "SEATWARDEN_PUBLIC_BASE_URL"),
        (Config { mail_retry_initial: Duration::ZERO, ..Config::default() }, "SEATWARDEN_MAIL_RETRY_INITIAL"),
        (
            Config { mail_retry_max: Duration::from_secs(1), mail_retry_initial: Duration::from_secs(5), ..Config::default() },
            "SEATWARDEN_MAIL_RETRY_MAX",
        ),
        (Config { mail_give_up_after: Duration::from_secs(1), ..Config::default() }, "SEATWARDEN_MAIL_GIVE_UP_AFTER"),
        (Config { mail_dispatch_cron: "*/5 * * * *".to_owned(), ..Config::default() }, "SEATWARDEN_MAIL_DISPATCH_CRON"),
        (Config { mail_dir: PathBuf::from("Cargo.toml"), ..Config::default() }, "SEATWARDEN_MAIL_DIR"),
    ];
    for (config, variable) in cases {
        let message = config.validate().unwrap_err().to_string();
        assert!(message.contains(variable), "expected {variable} in: {message}");
        assert!(!message.contains("hunter2"), "the SMTP password leaked: {message}");
    }
    assert!(
        Config { smtp_url: Some("smtp://user:secret@mail.example.com:587?tls=required".into()), ..Config::default() }
            .validate()
            .is_ok()
    );
}

#[test]
fn smtp_url_loads_and_stays_hidden() {
    let figment = Config::figment(None).merge(figment::providers::Serialized::default(
        "smtp_url",
        "smtps://user:secret@mail.example.com:465",
    ));
    let config = Config::load_from(figment).unwrap();

    assert!(config.smtp_url.is_some());
    assert!(!format!("{config:?}").contains("secret"), "Debug output shows the SMTP password");
    let mailer = Mailer::from_config(&config).unwrap();
    assert_eq!(mailer.describe(), "SMTP smtps://user:***@mail.example.com:465");
    assert!(!format!("{mailer:?}").contains("secret"));
}
