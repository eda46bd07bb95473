//! Reading the usage history: one point per day of a range, and a day's seat curve.

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::{seat_change, usage_day};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    licensing,
};

/// A slice's usage on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsagePoint {
    pub date: NaiveDate,
    /// The most NAMED users assigned at any moment of the day.
    pub named_assigned: i32,
    /// The most CONCURRENT seats in use at any moment of the day.
    pub concurrent_peak: i32,
    pub sessions_started: i32,
    pub logins_blocked: i32,
    /// Logins that ENFORCE would have refused while the slice was in WARN.
    pub logins_would_be_blocked: i32,
}

impl UsagePoint {
    fn from_row(row: &usage_day::Model) -> Self {
        Self {
            date: row.day,
            named_assigned: row.named_assigned,
            concurrent_peak: row.concurrent_peak,
            sessions_started: row.sessions_started,
            logins_blocked: row.logins_blocked,
            logins_would_be_blocked: row.logins_would_be_blocked,
        }
    }

    /// Builds the point of a day without changes after `previous`: the counts
    /// at the end of `previous`, and no starts or blocks.
    fn quiet(date: NaiveDate, previous: Option<&usage_day::Model>) -> Self {
        Self {
            date,
            named_assigned: previous.map_or(0, |row| row.named_at_end),
            concurrent_peak: previous.map_or(0, |row| row.seats_at_end),
            sessions_started: 0,
            logins_blocked: 0,
            logins_would_be_blocked: 0,
        }
    }
}

/// Concurrent seats in use right after one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatPoint {
    pub at: DateTime<Utc>,
    pub seats_in_use: i32,
}

/// Rejects a range that is reversed, ends after `today` or spans more than
/// `max_days` days; the error names the argument `from` or `to`.
pub fn check_range(from: NaiveDate, to: NaiveDate, today: NaiveDate, max_days: u32) -> AppResult<()> {
    if from > to {
        return Err(AppError::bad_input("from", format!("{from} is after `to` ({to}); give the earlier date as `from`")));
    }
    if to > today {
        return Err(AppError::bad_input(
            "to",
            format!("{to} is in the future; the history ends today ({today}, UTC), so give a date up to it"),
        ));
    }
    let days = (to - from).num_days() + 1;
    if days > i64::from(max_days) {
        return Err(AppError::bad_input(
            "to",
            format!("the range spans {days} days, more than the {max_days} allowed; split it into shorter ranges"),
        ));
    }
    Ok(())
}

/// Returns one point per UTC day from `from` to `to`, both included, after
/// checking the range with [`check_range`].
pub async fn usage_points(
    db: &DatabaseConnection,
    slice_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    max_days: u32,
) -> AppResult<Vec<UsagePoint>> {
    check_range(from, to, today, max_days)?;
    // The rows of the range and the row before it are read in one snapshot.
    let txn = licensing::begin_snapshot(db).await?;
    let rows = usage_day::Entity::find()
        .filter(usage_day::Column::SliceId.eq(slice_id))
        .filter(usage_day::Column::Day.between(from, to))
        .order_by_asc(usage_day::Column::Day)
        .all(&txn)
        .await?;
    let before = usage_day::Entity::find()
        .filter(usage_day::Column::SliceId.eq(slice_id))
        .filter(usage_day::Column::Day.lt(from))
        .order_by_desc(usage_day::Column::Day)
        .one(&txn)
        .await?;
    txn.commit().await?;
    Ok(fill_days(from, to, before, &rows))
}

/// Builds one point per day from the rows of the range (oldest first) and the
/// last row before it, carrying counts over days without a row.
fn fill_days(from: NaiveDate, to: NaiveDate, before: Option<usage_day::Model>, rows: &[usage_day::Model]) -> Vec<UsagePoint> {
    let mut points = Vec::new();
    let mut previous = before.as_ref();
    let mut rows = rows.iter().peekable();
    let mut day = from;
    while day <= to {
        match rows.next_if(|row| row.day == day) {
            Some(row) => {
                points.push(UsagePoint::from_row(row));
                previous = Some(row);
            }
            None => points.push(UsagePoint::quiet(day, previous)),
        }
        let Some(next) = day.checked_add_days(Days::new(1)) else {
            break;
        };
        day = next;
    }
    points
}

/// Returns the seats in use after each change during the UTC day `date`, oldest first.
pub async fn seat_curve(db: &DatabaseConnection, slice_id: Uuid, date: NaiveDate) -> AppResult<Vec<SeatPoint>> {
    let start = date.and_time(chrono::NaiveTime::MIN).and_utc();
    let Some(end) = date.checked_add_days(Days::new(1)).map(|next| next.and_time(chrono::NaiveTime::MIN).and_utc()) else {
        return Ok(Vec::new());
    };
    let changes = seat_change::Entity::find()
        .filter(seat_change::Column::SliceId.eq(slice_id))
        .filter(seat_change::Column::At.gte(start))
        .filter(seat_change::Column::At.lt(end))
        .order_by_asc(seat_change::Column::At)
        .order_by_asc(seat_change::Column::Id)
        .all(db)
        .await?;
    Ok(changes.into_iter().map(|change| SeatPoint { at: change.at, seats_in_use: change.seats_in_use }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, day).unwrap()
    }

    fn row(day: u32, named: (i32, i32), seats: (i32, i32), started: i32) -> usage_day::Model {
        usage_day::Model {
            slice_id: Uuid::nil(),
            day: date(day),
            named_assigned: named.0,
            named_at_end: named.1,
            concurrent_peak: seats.0,
            seats_at_end: seats.1,
            sessions_started: started,
            logins_blocked: 1,
            logins_would_be_blocked: 2,
        }
    }

    #[test]
    fn quiet_days_carry_end_counts() {
        let before = row(1, (9, 8), (5, 3), 4);
        let rows = [row(3, (8, 8), (6, 2), 7)];
        let points = fill_days(date(2), date(5), Some(before), &rows);
        let summary: Vec<_> = points
            .iter()
            .map(|p| (p.date, p.named_assigned, p.concurrent_peak, p.sessions_started, p.logins_blocked))
            .collect();
        assert_eq!(
            summary,
            vec![
                (date(2), 8, 3, 0, 0),
                (date(3), 8, 6, 7, 1),
                (date(4), 8, 2, 0, 0),
                (date(5), 8, 2, 0, 0),
            ]
        );
    }

    #[test]
    fn days_before_any_history_are_zero() {
        let points = fill_days(date(1), date(2), None, &[]);
        assert!(points.iter().all(|p| p.named_assigned == 0 && p.concurrent_peak == 0));
        assert_eq!(points.len(), 2);
    }

    #[test]
    fn ranges_are_checked() {
        let today = date(20);
        assert!(check_range(date(1), date(20), today, 366).is_ok());
        assert!(check_range(date(5), date(5), today, 1).is_ok());
        let field = |result: AppResult<()>| match result {
            Err(AppError::BadInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        };
        assert_eq!(field(check_range(date(6), date(5), today, 366)), "from");
        assert_eq!(field(check_range(date(1), date(21), today, 366)), "to");
        assert_eq!(field(check_range(date(1), date(10), today, 9)), "to");
    }
}
