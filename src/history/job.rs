//! The usage-history job: starts each slice's day and trims the seat-change log.

use chrono::Utc;
use entity::{seat_change, slice};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{clock::Clock, config::Config, db, error::AppResult, licensing};

/// Outcome of one run of the job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryReport {
    /// Slices whose counts were written into the current day.
    pub slices: usize,
    /// Slices whose transaction failed; each failure is logged with the slice's id.
    pub failed: usize,
    /// Seat changes deleted for being older than the retention period.
    pub seat_changes_deleted: u64,
}

/// Writes every slice's current counts into its row of the current UTC day,
/// so that each day with the service running has a row taken from live
/// counts, then deletes seat changes older than `seat_log_retention`.
///
/// Each slice is written under its lock, in its own transaction, through the
/// same function as every other change, so a run that races a login or a
/// second instance leaves the same history.
#[tracing::instrument(skip_all)]
pub async fn start_days(db: &DatabaseConnection, clock: &dyn Clock, config: &Config) -> AppResult<HistoryReport> {
    let now = clock.now();
    let ids: Vec<Uuid> = slice::Entity::find().select_only().column(slice::Column::Id).into_tuple().all(db).await?;
    let mut report = HistoryReport::default();
    for slice_id in ids {
        match start_day(db, slice_id, now).await {
            Ok(()) => report.slices += 1,
            Err(error) => {
                report.failed += 1;
                tracing::error!(slice_id = %slice_id, error = format!("{error:#}"), "writing the day's usage failed");
            }
        }
    }
    let retention = chrono::Duration::from_std(config.seat_log_retention).unwrap_or(chrono::Duration::MAX);
    let cutoff = now.checked_sub_signed(retention).unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
    report.seat_changes_deleted =
        seat_change::Entity::delete_many().filter(seat_change::Column::At.lt(cutoff)).exec(db).await?.rows_affected;
    Ok(report)
}

async fn start_day(db: &DatabaseConnection, slice_id: Uuid, now: chrono::DateTime<Utc>) -> AppResult<()> {
    let txn = db::begin_write(db).await?;
    // A slice deleted since the list was read has nothing to write.
    if db::lock_slice(&txn, slice_id).await?.is_none() {
        return Ok(());
    }
    let usage = licensing::count_usage(&txn, slice_id, now).await?;
    super::record_usage(&txn, slice_id, usage.named, usage.concurrent, now).await?;
    txn.commit().await?;
    Ok(())
}
