//! Delivering due outbox emails, with retries and a claim per email.
//!
//! A run takes due PENDING emails one at a time. It claims each one by moving
//! its `next_attempt_at` forward by [`CLAIM_LEASE`] with a conditional UPDATE,
//! so two runs at the same time never send one email twice while both work
//! normally. Delivery is at least once. A run that stops after the server
//! accepted an email and before it recorded SENT leaves the email PENDING.
//! A later run sends it again, with the same Message-ID, once the claim has
//! run out.

use chrono::{DateTime, Utc};
use entity::{
    EmailStatus, compliance_event,
    outbox_email::{self, OutboxStatus},
};
use lettre::{
    Message,
    message::{Mailbox, MultiPart},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait, Func},
};

use super::{
    outbox::stored_recipients,
    transport::{Failure, FailureKind, Mailer, Session},
};
use crate::{clock::Clock, db, error::AppResult};

/// Time a claim keeps other runs away from an email. It must exceed the time
/// one delivery can take. lettre 0.11 gives each SMTP command 60 s, and a
/// delivery sends about ten commands plus one per recipient.
pub const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// Emails one run delivers at most; the next run goes on with the rest.
const MAX_EMAILS_PER_RUN: usize = 100;

/// Claims in a row that one run may lose to other runs before it stops looking.
const MAX_LOST_CLAIMS: usize = 50;

/// Outcome counts of one dispatch run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Emails delivered and recorded as SENT.
    pub sent: usize,
    /// Emails that failed in a way that may pass and stay PENDING for a later attempt.
    pub retried: usize,
    /// Emails recorded as FAILED: rejected permanently, or given up after `mail_give_up_after`.
    pub failed: usize,
}

/// Delivers the PENDING emails due at the clock's instant and records each result.
///
/// A permanent rejection makes an email FAILED at once. Any other failure
/// schedules a retry after `mail_retry_initial`, doubled on each further
/// failure up to `mail_retry_max`. An email still failing `mail_give_up_after`
/// after it was queued becomes FAILED. After a failure with no usable SMTP
/// reply (such as a refused connection) the run stops, and the remaining due
/// emails wait for the next run. A linked compliance event's `email_status`
/// moves from PENDING to SENT or FAILED in the transaction that records the result.
///
/// Returns an error only when the database fails. The email being delivered
/// then keeps its claim, and a later run sends it again once the claim has run out.
#[tracing::instrument(skip_all)]
pub async fn dispatch_pending(db: &DatabaseConnection, clock: &dyn Clock, mailer: &Mailer) -> AppResult<DispatchReport> {
    let mut session = mailer.session();
    let result = dispatch_due(db, clock, mailer, &mut session).await;
    session.close().await;
    result
}

async fn dispatch_due(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    mailer: &Mailer,
    session: &mut Session<'_>,
) -> AppResult<DispatchReport> {
    let mut report = DispatchReport::default();
    for _ in 0..MAX_EMAILS_PER_RUN {
        let Some(email) = claim_next(db, mailer, clock.now()).await? else {
            break;
        };
        let delivered = match build_message(mailer, &email, clock.now()) {
            Ok(message) => session.deliver(email.id, &message).await,
            Err(failure) => Err(failure),
        };
        let now = clock.now();
        let attempts = email.attempts.saturating_add(1);
        let message_id = email.message_id.as_deref().unwrap_or_default();

        let failure = match delivered {
            Ok(()) => {
                record(db, &email, Record::Sent, now).await?;
                tracing::info!(outbox_id = %email.id, message_id, attempts, "email sent");
                report.sent += 1;
                continue;
            }
            Err(failure) => failure,
        };
        crate::metrics::record_delivery_failure(match failure.kind {
            FailureKind::Permanent => "permanent",
            FailureKind::Transient => "transient",
            FailureKind::Unreachable => "unreachable",
        });

        if failure.kind == FailureKind::Permanent {
            record(db, &email, Record::Failed(&failure.message), now).await?;
            tracing::error!(outbox_id = %email.id, message_id, attempts, error = %failure.message, "email rejected permanently; not retrying");
            report.failed += 1;
            continue;
        }

        let retry = mailer.retry_policy();
        let give_up_at = email.created_at + chrono::Duration::from_std(retry.give_up_after).unwrap_or(chrono::Duration::MAX);
        if now >= give_up_at {
            record(db, &email, Record::Failed(&failure.message), now).await?;
            tracing::error!(
                outbox_id = %email.id, message_id, attempts, error = %failure.message,
                "email still undelivered after mail_give_up_after; giving up"
            );
            report.failed += 1;
        } else {
            let wait = chrono::Duration::from_std(retry.backoff(u32::try_from(attempts).unwrap_or(u32::MAX)))
                .unwrap_or(chrono::Duration::MAX);
            // The last retry happens at the give-up instant, so that attempt decides.
            let retry_at = now.checked_add_signed(wait).map_or(give_up_at, |at| Ord::min(at, give_up_at));
            record(db, &email, Record::Retry { error: &failure.message, at: retry_at }, now).await?;
            tracing::warn!(
                outbox_id = %email.id, message_id, attempts, retry_at = %retry_at, error = %failure.message,
                "email delivery failed; will retry"
            );
            report.retried += 1;
        }
        if failure.kind == FailureKind::Unreachable {
            break;
        }
    }
    Ok(report)
}

/// Claims the PENDING email due first at `now` and returns it with its
/// Message-ID set, or `None` when no email is due.
///
/// The claim is a conditional UPDATE that matches only while the row still has
/// the `next_attempt_at` this run read. Of two runs that read the same row,
/// only one changes it, and the other moves on to the next due row. After
/// [`MAX_LOST_CLAIMS`] lost races in a row the run leaves the rest to the next run.
async fn claim_next(db: &DatabaseConnection, mailer: &Mailer, now: DateTime<Utc>) -> AppResult<Option<outbox_email::Model>> {
    for _ in 0..MAX_LOST_CLAIMS {
        let Some(mut email) = outbox_email::Entity::find()
            .filter(outbox_email::Column::Status.eq(OutboxStatus::Pending))
            .filter(outbox_email::Column::NextAttemptAt.lte(now))
            .order_by_asc(outbox_email::Column::NextAttemptAt)
            .order_by_asc(outbox_email::Column::Id)
            .one(db)
            .await?
        else {
            return Ok(None);
        };

        let lease_end = now + CLAIM_LEASE;
        let message_id = email.message_id.clone().unwrap_or_else(|| mailer.message_id(email.id));
        let claimed = outbox_email::Entity::update_many()
            .col_expr(outbox_email::Column::NextAttemptAt, Expr::value(lease_end))
            .col_expr(
                outbox_email::Column::MessageId,
                Func::coalesce([Expr::col(outbox_email::Column::MessageId), Expr::value(message_id.clone())]).into(),
            )
            .filter(outbox_email::Column::Id.eq(email.id))
            .filter(outbox_email::Column::Status.eq(OutboxStatus::Pending))
            .filter(outbox_email::Column::NextAttemptAt.eq(email.next_attempt_at))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            email.next_attempt_at = lease_end;
            email.message_id = Some(message_id);
            return Ok(Some(email));
        }
        tracing::debug!(outbox_id = %email.id, "another dispatch run claimed the email first");
    }
    tracing::warn!(lost_claims = MAX_LOST_CLAIMS, "other dispatch runs claimed every due email first; leaving the rest to the next run");
    Ok(None)
}

fn build_message(mailer: &Mailer, email: &outbox_email::Model, now: DateTime<Utc>) -> Result<Message, Failure> {
    let recipients = stored_recipients(email).map_err(|problem| Failure::permanent(format!("invalid outbox email: {problem}")))?;
    let message_id = email.message_id.clone().unwrap_or_else(|| mailer.message_id(email.id));
    let mut builder = Message::builder()
        .from(mailer.from().clone())
        .subject(email.subject.clone())
        .message_id(Some(message_id))
        .date(now.into());
    for recipient in recipients {
        builder = builder.to(Mailbox::new(None, recipient));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(email.text_body.clone(), email.html_body.clone()))
        .map_err(|error| Failure::permanent(format!("building the email failed: {error}")))
}

/// The result of one attempt, as it is stored.
enum Record<'a> {
    Sent,
    Failed(&'a str),
    Retry { error: &'a str, at: DateTime<Utc> },
}

/// Stores the result of an attempt and, for SENT and FAILED, moves a linked
/// compliance event out of PENDING, in one transaction.
async fn record(db: &DatabaseConnection, email: &outbox_email::Model, result: Record<'_>, now: DateTime<Utc>) -> AppResult<()> {
    use outbox_email::Column;

    let txn = db::begin_write(db).await?;
    let mut update = outbox_email::Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(email.id))
        .filter(Column::Status.eq(OutboxStatus::Pending));
    let event_status = match result {
        Record::Sent => {
            update = update.col_expr(Column::Status, Expr::value(OutboxStatus::Sent)).col_expr(Column::SentAt, Expr::value(now));
            Some(EmailStatus::Sent)
        }
        Record::Failed(error) => {
            update = update
                .col_expr(Column::Status, Expr::value(OutboxStatus::Failed))
                .col_expr(Column::LastError, Expr::value(error.to_owned()));
            Some(EmailStatus::Failed)
        }
        Record::Retry { error, at } => {
            update = update
                .col_expr(Column::NextAttemptAt, Expr::value(at))
                .col_expr(Column::LastError, Expr::value(error.to_owned()));
            None
        }
    };
    let updated = update.exec(&txn).await?;
    if updated.rows_affected == 0 {
        // Only possible when this run's claim ran out and another run finished the email.
        tracing::warn!(outbox_id = %email.id, "the email was no longer PENDING; another dispatch run recorded it");
        txn.commit().await?;
        return Ok(());
    }
    if let (Some(status), Some(event_id)) = (event_status, email.compliance_event_id) {
        compliance_event::Entity::update_many()
            .col_expr(compliance_event::Column::EmailStatus, Expr::value(status))
            .filter(compliance_event::Column::Id.eq(event_id))
            .filter(compliance_event::Column::EmailStatus.eq(EmailStatus::Pending))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}
