//! Renewal reminders: one email to a slice's administrators 60, 30 and 7 days
//! before its renewal date.
//!
//! Days left are counted in UTC days: the renewal date minus the UTC date of
//! the clock. A reminder falls due when the days left reach its threshold and
//! stays due until the renewal date has passed. When several are due at once,
//! because the job ran late or the date was set close, only the most urgent
//! is sent and the others are recorded as passed, so they never arrive late.
//! The key of a reminder contains the renewal date, so a changed date gets
//! its own reminders.

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::slice;
use sea_orm::{ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{NoticeReport, record_notice, recorded_keys};
use crate::{
    clock::Clock,
    config::Config,
    db,
    error::AppResult,
    licensing::{self, ComplianceReport},
    mail::{self, EmailDraft, Line},
    users,
};

/// The `notices_sent` kind of renewal reminders, keyed `{renewal_date}/{days}`.
pub const RENEWAL_REMINDER: &str = "RENEWAL_REMINDER";

/// Days before the renewal date at which a reminder falls due, least urgent first.
pub const REMINDER_DAYS: [i64; 3] = [60, 30, 7];

/// The reminders due with some number of days left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminders {
    /// Threshold of the reminder to send: the most urgent one due.
    pub send: i64,
    /// Thresholds of the less urgent reminders, recorded without an email.
    pub passed: Vec<i64>,
}

/// Returns the reminders due when `days_left` days remain until the renewal
/// date, or `None` when none is due: more than 60 days left, or the date has passed.
pub fn due_reminders(days_left: i64) -> Option<DueReminders> {
    if days_left < 0 {
        return None;
    }
    let due: Vec<i64> = REMINDER_DAYS.into_iter().filter(|threshold| days_left <= *threshold).collect();
    let (send, passed) = due.split_last()?;
    Some(DueReminders { send: *send, passed: passed.to_vec() })
}

fn reminder_key(renewal_date: NaiveDate, threshold: i64) -> String {
    format!("{}/{threshold}", renewal_date.format("%Y-%m-%d"))
}

/// The result of one slice in a run.
enum Outcome {
    /// No reminder is due, because the slice changed or was deleted since it was listed.
    NothingDue,
    /// Every due reminder is recorded already.
    AlreadySent,
    NoAdmins,
    Done { queued: bool, passed: usize },
}

/// Queues the renewal reminders that are due at the clock's instant and
/// records them, together with the reminders they replace, in `notices_sent`.
///
/// Slices whose renewal date lies from today to 60 days ahead are checked,
/// each in its own write transaction. A slice without an active administrator
/// gets nothing recorded and a warning in the log. A slice whose transaction
/// fails is logged and counted in [`NoticeReport::errors`], and the run goes
/// on. Returns an error only when listing the slices fails.
#[tracing::instrument(skip_all)]
pub async fn send_renewal_reminders(db: &DatabaseConnection, clock: &dyn Clock, config: &Config) -> AppResult<NoticeReport> {
    let now = clock.now();
    let today = now.date_naive();
    let last_day = today.checked_add_days(Days::new(60)).unwrap_or(NaiveDate::MAX);
    let candidates = slice::Entity::find()
        .filter(slice::Column::RenewalDate.gte(today))
        .filter(slice::Column::RenewalDate.lte(last_day))
        .order_by_asc(slice::Column::RenewalDate)
        .order_by_asc(slice::Column::Id)
        .all(db)
        .await?;

    let mut report = NoticeReport::default();
    for candidate in candidates {
        report.slices_checked += 1;
        match remind_slice(db, config, &candidate, now).await {
            Ok(Outcome::NothingDue | Outcome::AlreadySent) => {}
            Ok(Outcome::NoAdmins) => report.slices_without_admins += 1,
            Ok(Outcome::Done { queued, passed }) => {
                report.emails_queued += usize::from(queued);
                report.notices_passed += passed;
            }
            Err(error) => {
                tracing::error!(slice_id = %candidate.id, error = format!("{error:#}"), "renewal reminder failed, continuing with the other slices");
                report.errors += 1;
            }
        }
    }
    if report.emails_queued > 0 || report.errors > 0 {
        tracing::info!(?report, "renewal reminders run");
    }
    Ok(report)
}

/// Sends and records the reminders due for one slice in one write transaction.
#[tracing::instrument(skip_all, fields(slice_id = %listed.id))]
async fn remind_slice(db: &DatabaseConnection, config: &Config, listed: &slice::Model, now: DateTime<Utc>) -> AppResult<Outcome> {
    // Most runs find everything recorded; this read spares them a write transaction.
    if let Some(renewal_date) = listed.renewal_date
        && let Some(due) = due_reminders((renewal_date - now.date_naive()).num_days())
    {
        let keys: Vec<String> =
            due.passed.iter().chain([&due.send]).map(|threshold| reminder_key(renewal_date, *threshold)).collect();
        if recorded_keys(db, listed.id, RENEWAL_REMINDER, &keys).await?.len() == keys.len() {
            return Ok(Outcome::AlreadySent);
        }
    }

    // An error drops the transaction, which rolls it back.
    let txn = db::begin_write(db).await?;
    let outcome = remind_in(&txn, config, listed.id, now).await?;
    txn.commit().await?;
    Ok(outcome)
}

async fn remind_in(txn: &DatabaseTransaction, config: &Config, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<Outcome> {
    // The slice is read again inside the transaction, because an operator may
    // have changed its renewal date since it was listed.
    let Some(slice) = slice::Entity::find_by_id(slice_id).one(txn).await? else {
        return Ok(Outcome::NothingDue);
    };
    let Some(renewal_date) = slice.renewal_date else {
        return Ok(Outcome::NothingDue);
    };
    let days_left = (renewal_date - now.date_naive()).num_days();
    let Some(due) = due_reminders(days_left) else {
        return Ok(Outcome::NothingDue);
    };
    let admins = users::admin_addresses(txn, slice.id).await?;
    if admins.is_empty() {
        tracing::warn!(slice_id = %slice.id, %renewal_date, days_left, "renewal reminder not sent: the slice has no active administrator");
        return Ok(Outcome::NoAdmins);
    }

    let queued = record_notice(txn, slice.id, RENEWAL_REMINDER, &reminder_key(renewal_date, due.send), now).await?;
    let mut passed = 0;
    for threshold in &due.passed {
        if record_notice(txn, slice.id, RENEWAL_REMINDER, &reminder_key(renewal_date, *threshold), now).await? {
            passed += 1;
        }
    }
    if queued {
        let usage = licensing::report(txn, &slice, now).await?;
        let (subject, body) = compose(&slice, renewal_date, days_left, &usage, &config.public_base_url);
        let recipients = admins.len();
        let email = mail::enqueue(txn, EmailDraft::new(admins, subject, body), now).await?;
        tracing::info!(
            slice_id = %slice.id, %renewal_date, days_left, threshold = due.send, outbox_id = %email.id, recipients,
            "renewal reminder queued"
        );
    }
    if passed > 0 {
        tracing::info!(slice_id = %slice.id, %renewal_date, days_left, passed = ?due.passed, "earlier renewal reminders recorded as passed");
    }
    Ok(Outcome::Done { queued, passed })
}

/// Builds the subject and body of a renewal reminder.
fn compose(
    slice: &slice::Model,
    renewal_date: NaiveDate,
    days_left: i64,
    usage: &ComplianceReport,
    public_base_url: &str,
) -> (String, mail::RenderedBody) {
    let date = renewal_date.format("%Y-%m-%d");
    let when = match days_left {
        0 => "today".to_owned(),
        1 => "in 1 day".to_owned(),
        days => format!("in {days} days"),
    };
    let subject = format!("[{}] Licenses renew on {date}, {when}", slice.name);
    let lines = [
        Line::text(format!("The licenses of {} ({}) renew on {date} (UTC), {when}.", slice.display_name, slice.name)),
        Line::text(format!(
            "NAMED licenses: {} owned, {} in use.",
            slice.owned_named_licenses, usage.named.in_use
        )),
        Line::text(format!(
            "CONCURRENT licenses: {} owned, {} in use now.",
            slice.owned_concurrent_licenses, usage.concurrent.in_use
        )),
        Line::text("Please check that the owned counts still match what the slice needs before the renewal date."),
        Line::link("Review usage in GraphiQL", "/graphiql"),
    ];
    let body = mail::render(public_base_url, &subject, &lines);
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_threshold_due() {
        assert_eq!(due_reminders(60), Some(DueReminders { send: 60, passed: vec![] }));
        assert_eq!(due_reminders(45), Some(DueReminders { send: 60, passed: vec![] }));
        assert_eq!(due_reminders(30), Some(DueReminders { send: 30, passed: vec![60] }));
        assert_eq!(due_reminders(7), Some(DueReminders { send: 7, passed: vec![60, 30] }));
    }

    #[test]
    fn late_run_sends_most_urgent() {
        assert_eq!(due_reminders(5), Some(DueReminders { send: 7, passed: vec![60, 30] }));
        assert_eq!(due_reminders(0), Some(DueReminders { send: 7, passed: vec![60, 30] }));
    }

    #[test]
    fn nothing_due_outside_window() {
        assert_eq!(due_reminders(61), None);
        assert_eq!(due_reminders(-1), None);
    }

    #[test]
    fn key_contains_date_and_threshold() {
        let date = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(reminder_key(date, 30), "2027-03-01/30");
    }
}
