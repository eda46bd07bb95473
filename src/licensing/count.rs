//! The two queries behind a slice's usage.

use chrono::{DateTime, Utc};
use entity::{Channel, LicenseType, session, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
    sea_query::{Asterisk, Expr, Func},
};
use uuid::Uuid;

use crate::{error::AppResult, sessions::live_condition};

/// Users and seats in use in one slice at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Active users holding NAMED.
    pub named: u64,
    /// Active CONCURRENT users with at least one live WEB session.
    pub concurrent: u64,
    /// Active users holding SELF_SERVICE.
    pub self_service: u64,
    /// Active users holding WEB_SERVICES.
    pub web_services: u64,
}

/// Counts a slice's usage at `now`, which must come from the service's clock.
///
/// The counts are computed from the rows at `now` instead of being kept as
/// counters, because a session stops holding its seat the instant a deadline
/// passes, and no write happens at that instant that could decrement a
/// counter. Both queries are served from indexes: `idx_users_slice_license`
/// for the users, and the partial index `idx_sessions_live_seats` over the
/// sessions that have not ended (see the `m20261204_000003_usage_indexes` migration).
pub async fn count_usage(db: &impl ConnectionTrait, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<Usage> {
    let mut usage = Usage { concurrent: count_concurrent_seats(db, slice_id, now).await?, ..Usage::default() };
    for (license_type, count) in count_active_users(db, slice_id).await? {
        let count = u64::try_from(count).unwrap_or(0);
        match license_type {
            LicenseType::Named => usage.named = count,
            LicenseType::SelfService => usage.self_service = count,
            LicenseType::WebServices => usage.web_services = count,
            // A CONCURRENT license takes a seat only while its holder has a live WEB session.
            LicenseType::Concurrent => {}
        }
    }
    Ok(usage)
}

/// Counts the active users of a slice per license type.
async fn count_active_users(db: &impl ConnectionTrait, slice_id: Uuid) -> AppResult<Vec<(LicenseType, i64)>> {
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::LicenseType)
        .expr(Func::count(Expr::col(Asterisk)))
        .filter(user::Column::SliceId.eq(slice_id))
        .filter(user::Column::LicenseType.is_not_null())
        .filter(user::Column::Active.eq(true))
        .group_by(user::Column::LicenseType)
        .into_tuple()
        .all(db)
        .await?)
}

/// Counts the distinct active CONCURRENT users of a slice that hold at least
/// one live WEB session at `now`. A second WEB session takes no second seat,
/// and MOBILE and API sessions take none.
async fn count_concurrent_seats(db: &impl ConnectionTrait, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<u64> {
    let seats: Option<i64> = session::Entity::find()
        .select_only()
        .expr(Func::count_distinct(Expr::col((session::Entity, session::Column::UserId))))
        .join(JoinType::InnerJoin, session::Relation::User.def())
        .filter(session::Column::SliceId.eq(slice_id))
        .filter(session::Column::Channel.eq(Channel::Web))
        .filter(live_condition(now))
        .filter(user::Column::SliceId.eq(slice_id))
        .filter(user::Column::LicenseType.eq(LicenseType::Concurrent))
        .filter(user::Column::Active.eq(true))
        .into_tuple()
        .one(db)
        .await?;
    Ok(seats.and_then(|count| u64::try_from(count).ok()).unwrap_or(0))
}
