//! Renewal reminders and the unused-license digest emailed to slice administrators.
//!
//! Each notice is recorded in `notices_sent` under its slice, kind and key, in
//! the transaction that writes its email to the outbox. The row is inserted
//! with `ON CONFLICT DO NOTHING`, and the email is queued only when the insert
//! added the row. Of two runs at the same time, on one instance or several,
//! the second waits for the first's row (the primary key on PostgreSQL, the
//! write lock on SQLite) and then queues nothing, so each notice is queued
//! once. The dispatcher then delivers it at least once, as it does every email.
//! Every slice gets its own transaction, so one slice's failure is logged and
//! counted while the others go on.

mod digest;
mod renewal;

use chrono::{DateTime, Utc};
use entity::notice_sent;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use uuid::Uuid;

pub use digest::{MAX_LISTED_USERS, UNUSED_DIGEST, send_unused_digests};
pub use renewal::{REMINDER_DAYS, RENEWAL_REMINDER, due_reminders, send_renewal_reminders};

use crate::error::AppResult;

/// Counts of what one run of a notice job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticeReport {
    /// Slices the run looked at.
    pub slices_checked: usize,
    /// Emails written to the outbox.
    pub emails_queued: usize,
    /// Notices recorded without an email: earlier renewal reminders that a
    /// more urgent one replaced. Always 0 for the digest.
    pub notices_passed: usize,
    /// Slices due a notice that have no active administrator with a valid
    /// address. Nothing is recorded for them, so a later run tries again.
    pub slices_without_admins: usize,
    /// Slices whose transaction failed. Each failure is logged with the slice id.
    pub errors: usize,
}

/// Inserts the `notices_sent` row of a notice unless it exists, and returns
/// whether this call added it. Only the caller that added it sends the notice.
async fn record_notice(
    txn: &impl ConnectionTrait,
    slice_id: Uuid,
    kind: &str,
    key: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    use notice_sent::Column;

    let row = notice_sent::ActiveModel {
        slice_id: Set(slice_id),
        kind: Set(kind.to_owned()),
        key: Set(key.to_owned()),
        sent_at: Set(now),
    };
    let inserted = notice_sent::Entity::insert(row)
        .on_conflict(OnConflict::columns([Column::SliceId, Column::Kind, Column::Key]).do_nothing().to_owned())
        .exec_without_returning(txn)
        .await?;
    Ok(inserted == 1)
}

/// Returns which of `keys` are recorded for the slice and kind.
async fn recorded_keys(db: &impl ConnectionTrait, slice_id: Uuid, kind: &str, keys: &[String]) -> AppResult<Vec<String>> {
    Ok(notice_sent::Entity::find()
        .filter(notice_sent::Column::SliceId.eq(slice_id))
        .filter(notice_sent::Column::Kind.eq(kind))
        .filter(notice_sent::Column::Key.is_in(keys.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.key)
        .collect())
}
