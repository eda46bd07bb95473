//! A few weeks of made-up usage history, so the Subscription Center of the
//! demo production slice has something to show on first run.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use entity::{seat_change, usage_day};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::error::AppResult;

/// Days of history before today.
const DAYS: u64 = 28;
/// Days before today whose seat changes are logged too.
const CURVE_DAYS: u64 = 7;
/// NAMED users assigned on every past day (the demo's ada, ben and cleo).
const NAMED: i32 = 3;

/// A working day's concurrent seats: (hour, minute, seats in use after the change).
const WORKDAY: &[(u32, u32, i32)] = &[(8, 5, 1), (8, 40, 2), (12, 10, 1), (13, 5, 2), (17, 20, 1), (18, 45, 0)];
/// A weekend day: one shift lead looks in.
const WEEKEND: &[(u32, u32, i32)] = &[(10, 0, 1), (11, 30, 0)];

fn changes_of(day: NaiveDate) -> &'static [(u32, u32, i32)] {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) { WEEKEND } else { WORKDAY }
}

/// Writes the days before `today` into the slice's usage history, and the
/// seat changes of the last week, in one transaction. Every day ends with no
/// seat in use, so today's real changes start from zero.
pub async fn seed(db: &DatabaseConnection, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let today = now.date_naive();
    let mut days = Vec::new();
    let mut changes = Vec::new();
    for back in (1..=DAYS).rev() {
        let Some(day) = today.checked_sub_days(Days::new(back)) else {
            continue;
        };
        let pattern = changes_of(day);
        // Logins per day vary a little, with one analyst logging in twice on some days.
        let started = i32::try_from(pattern.len() / 2).unwrap_or(0) + i32::from(day.day() % 3 == 0) + 2;
        days.push(usage_day::ActiveModel {
            slice_id: Set(slice_id),
            day: Set(day),
            named_assigned: Set(NAMED),
            named_at_end: Set(NAMED),
            concurrent_peak: Set(pattern.iter().map(|change| change.2).max().unwrap_or(0)),
            seats_at_end: Set(0),
            sessions_started: Set(started),
            logins_blocked: Set(0),
            logins_would_be_blocked: Set(0),
        });
        if back <= CURVE_DAYS {
            for &(hour, minute, seats) in pattern {
                let Some(time) = NaiveTime::from_hms_opt(hour, minute, 0) else {
                    continue;
                };
                changes.push(seat_change::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    slice_id: Set(slice_id),
                    at: Set(day.and_time(time).and_utc()),
                    seats_in_use: Set(seats),
                });
            }
        }
    }
    let txn = db.begin().await?;
    usage_day::Entity::insert_many(days).exec(&txn).await?;
    seat_change::Entity::insert_many(changes).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
