//! Outgoing email through a transactional outbox.
//!
//! [`enqueue`] writes an email into the `outbox_emails` table inside the
//! caller's transaction, so the email exists if and only if the change it
//! reports commits. The `mail_dispatch` job calls [`dispatch_pending`], which
//! delivers due emails through the configured [`Mailer`] (SMTP, or `.eml`
//! files without `smtp_url`), retries with exponential backoff, and records
//! SENT or FAILED. Delivery is at least once, and every copy of one email
//! carries the same Message-ID, so receivers can drop duplicates.
//!
//! [`render`] builds the plain-text and HTML parts from one title and list of lines.
//!
//! ```ignore
//! let body = mail::render(&config.public_base_url, "NAMED licenses at the limit", &[
//!     mail::Line::text("northwind-prod uses 10 of its 10 NAMED licenses."),
//!     mail::Line::link("Open GraphiQL", "/graphiql"),
//! ]);
//! let draft = mail::EmailDraft::new(admins, "NAMED licenses at the limit", body).for_event(event.id);
//! mail::enqueue(&txn, draft, now).await?;
//! ```

mod dispatch;
mod outbox;
mod template;
mod transport;

pub use dispatch::{CLAIM_LEASE, DispatchReport, dispatch_pending};
pub use outbox::{EmailDraft, enqueue, parse_address};
pub use template::{Line, RenderedBody, escape_html, link_url, render};
pub use transport::{Mailer, RetryPolicy, check_smtp_url, parse_mailbox};
