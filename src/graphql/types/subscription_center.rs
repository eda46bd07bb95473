//! `SubscriptionCenter`, `UsagePoint` and `SeatPoint`: what a slice owns, uses
//! and has used, for its administrators and operators.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::slice;

use super::{ComplianceEventNode, LicenseUsageNode, SliceNode};
use crate::{
    access::Administered,
    error::AppError,
    graphql::{context::state, error::ApiResult, scalars::Date},
    history,
    licensing::{self, ComplianceReport, ComplianceEventFilter},
};

/// A slice's usage on one UTC day.
#[derive(SimpleObject)]
#[graphql(name = "UsagePoint")]
pub struct UsagePointNode {
    date: Date,
    /// The most NAMED users assigned at any moment of the day.
    named_assigned: i32,
    /// The most CONCURRENT seats in use at any moment of the day, taken at each change.
    concurrent_peak: i32,
    sessions_started: i32,
    logins_blocked: i32,
    /// Logins that ENFORCE would have blocked while the slice was in WARN.
    logins_would_be_blocked: i32,
}

impl From<history::UsagePoint> for UsagePointNode {
    fn from(point: history::UsagePoint) -> Self {
        Self {
            date: Date(point.date),
            named_assigned: point.named_assigned,
            concurrent_peak: point.concurrent_peak,
            sessions_started: point.sessions_started,
            logins_blocked: point.logins_blocked,
            logins_would_be_blocked: point.logins_would_be_blocked,
        }
    }
}

/// Concurrent seats in use right after one change.
#[derive(SimpleObject)]
#[graphql(name = "SeatPoint")]
pub struct SeatPointNode {
    at: DateTime<Utc>,
    seats_in_use: i32,
}

/// A slice's owned licenses, its usage now and in the past, and its renewal.
pub struct SubscriptionCenterNode {
    pub slice: Administered<slice::Model>,
    /// Usage now, computed in the same snapshot as `slice`.
    pub report: ComplianceReport,
    /// The service clock's UTC date when the center was loaded.
    pub today: NaiveDate,
}

#[Object(name = "SubscriptionCenter")]
impl SubscriptionCenterNode {
    async fn slice(&self) -> SliceNode {
        SliceNode(self.slice.clone().into_inner())
    }

    /// Usage and level of every license type: NAMED, CONCURRENT, SELF_SERVICE, WEB_SERVICES.
    async fn licenses(&self) -> Vec<LicenseUsageNode> {
        let report = &self.report;
        [report.named, report.concurrent, report.self_service, report.web_services].into_iter().map(LicenseUsageNode).collect()
    }

    async fn renewal_date(&self) -> Option<Date> {
        self.slice.renewal_date.map(Date)
    }

    /// UTC days from today to the renewal date; 0 on the day itself, negative once it has passed.
    async fn days_until_renewal(&self) -> Option<i32> {
        self.slice.renewal_date.map(|renewal| i32::try_from((renewal - self.today).num_days()).unwrap_or(i32::MAX))
    }

    /// One point per UTC day from `from` to `to`, both included, oldest first.
    /// A day without changes carries the previous day's end counts and has
    /// zero starts and blocks. `to` may be today at the latest, and the range
    /// spans at most `max_usage_range_days` days (366 by default).
    #[graphql(complexity = "usize::try_from((to.0 - from.0).num_days().clamp(0, 3660) + 1).unwrap_or(1) * child_complexity")]
    async fn usage(&self, ctx: &Context<'_>, from: Date, to: Date) -> ApiResult<Vec<UsagePointNode>> {
        let state = state(ctx)?;
        let points =
            history::usage_points(&state.db, self.slice.id, from.0, to.0, self.today, state.config.max_usage_range_days)
                .await?;
        Ok(points.into_iter().map(UsagePointNode::from).collect())
    }

    /// Concurrent seats in use after each change during one UTC day, oldest first.
    /// Changes older than `seat_log_retention` (400 days by default) are deleted.
    async fn seat_curve(&self, ctx: &Context<'_>, date: Date) -> ApiResult<Vec<SeatPointNode>> {
        let state = state(ctx)?;
        let points = history::seat_curve(&state.db, self.slice.id, date.0).await?;
        Ok(points.into_iter().map(|point| SeatPointNode { at: point.at, seats_in_use: point.seats_in_use }).collect())
    }

    /// The slice's latest compliance events, newest first.
    #[graphql(complexity = "first.clamp(0, 100) as usize * child_complexity")]
    async fn warnings(&self, ctx: &Context<'_>, #[graphql(default = 20)] first: i32) -> ApiResult<Vec<ComplianceEventNode>> {
        let state = state(ctx)?;
        let max = state.config.max_page_size;
        if !(0..=i64::from(max)).contains(&i64::from(first)) {
            return Err(AppError::bad_input("first", format!("must be from 0 to {max}; older events are in complianceEvents")).into());
        }
        let page = licensing::list_events(
            &state.db,
            &self.slice,
            ComplianceEventFilter::default(),
            Some(first),
            None,
            state.config.max_page_size,
        )
        .await?;
        Ok(page.items.into_iter().map(|(_, event)| ComplianceEventNode(event)).collect())
    }
}
