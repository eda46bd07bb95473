//! Usage history per slice and UTC day, and the log of seat changes.
//!
//! Every transaction that changes a slice's usage computes the usage to
//! publish it, and [`record_usage`] writes that usage into the day's row in the
//! same transaction. The row keeps the day's highest NAMED and CONCURRENT
//! counts and the counts after the last change. When the seats in use differ
//! from the last logged count, a seat change is logged too. The peak is
//! therefore the high-water mark of the counts at each change, not a sample. Between
//! two changes seats can only fall (a session's deadline passes), and the
//! sweep that records such ends is a change like any other.
//!
//! A day without a row had no change: its counts are the previous row's
//! counts at the end of its day. Callers hold the slice lock (or the slice's
//! row lock taken by the version bump), so two transactions never write one
//! slice's day at once.

mod job;
mod read;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{seat_change, usage_day};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

pub use job::{HistoryReport, start_days};
pub use read::{SeatPoint, UsagePoint, seat_curve, usage_points};

use crate::error::AppResult;

/// A per-day counter that one event increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    SessionStarted,
    LoginBlocked,
    LoginWouldBeBlocked,
}

fn to_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Loads the slice's row for `day`, creating it with the counts
/// carried over from the slice's previous row when the day has none yet.
async fn day_row(txn: &impl ConnectionTrait, slice_id: Uuid, day: NaiveDate) -> AppResult<usage_day::Model> {
    if let Some(row) = usage_day::Entity::find_by_id((slice_id, day)).one(txn).await? {
        return Ok(row);
    }
    let previous = usage_day::Entity::find()
        .filter(usage_day::Column::SliceId.eq(slice_id))
        .filter(usage_day::Column::Day.lt(day))
        .order_by_desc(usage_day::Column::Day)
        .one(txn)
        .await?;
    let (named, seats) = previous.map_or((0, 0), |row| (row.named_at_end, row.seats_at_end));
    let row = usage_day::ActiveModel {
        slice_id: Set(slice_id),
        day: Set(day),
        named_assigned: Set(named),
        named_at_end: Set(named),
        concurrent_peak: Set(seats),
        seats_at_end: Set(seats),
        sessions_started: Set(0),
        logins_blocked: Set(0),
        logins_would_be_blocked: Set(0),
    }
    .insert(txn)
    .await?;
    Ok(row)
}

/// Writes the slice's NAMED users and CONCURRENT seats in use after a change
/// at `now` into the day's row, and logs a seat change when the seats differ
/// from the last count logged.
pub async fn record_usage(txn: &impl ConnectionTrait, slice_id: Uuid, named: u64, seats: u64, now: DateTime<Utc>) -> AppResult<()> {
    let (named, seats) = (to_i32(named), to_i32(seats));
    let now = after_last_change(txn, slice_id, now).await?;
    let row = day_row(txn, slice_id, now.date_naive()).await?;
    let seats_before = row.seats_at_end;
    if row.named_at_end != named || row.seats_at_end != seats || row.named_assigned < named || row.concurrent_peak < seats {
        let mut model: usage_day::ActiveModel = row.clone().into();
        model.named_assigned = Set(row.named_assigned.max(named));
        model.named_at_end = Set(named);
        model.concurrent_peak = Set(row.concurrent_peak.max(seats));
        model.seats_at_end = Set(seats);
        model.update(txn).await?;
    }
    if seats != seats_before {
        seat_change::ActiveModel {
            id: Set(Uuid::now_v7()),
            slice_id: Set(slice_id),
            at: Set(now),
            seats_in_use: Set(seats),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Returns `now`, or just after the slice's last logged seat change when that
/// is later. Changes of one slice commit one after another under its lock,
/// but instances' clocks may differ slightly, so the log stays in commit order.
async fn after_last_change(txn: &impl ConnectionTrait, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let last = seat_change::Entity::find()
        .filter(seat_change::Column::SliceId.eq(slice_id))
        .order_by_desc(seat_change::Column::At)
        .one(txn)
        .await?;
    Ok(match last {
        Some(last) if last.at >= now => last.at + chrono::Duration::microseconds(1),
        _ => now,
    })
}

/// Adds one to a counter of the slice's day of `now`.
pub async fn count(txn: &impl ConnectionTrait, slice_id: Uuid, counter: Counter, now: DateTime<Utc>) -> AppResult<()> {
    let row = day_row(txn, slice_id, now.date_naive()).await?;
    let mut model: usage_day::ActiveModel = row.clone().into();
    match counter {
        Counter::SessionStarted => model.sessions_started = Set(row.sessions_started.saturating_add(1)),
        Counter::LoginBlocked => model.logins_blocked = Set(row.logins_blocked.saturating_add(1)),
        Counter::LoginWouldBeBlocked => model.logins_would_be_blocked = Set(row.logins_would_be_blocked.saturating_add(1)),
    }
    model.update(txn).await?;
    Ok(())
}
