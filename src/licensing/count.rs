//! The query behind a slice's usage.

use chrono::{DateTime, Utc};
use entity::{Channel, LicenseType, session, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait, RelationTrait,
    sea_query::{Asterisk, Expr, Func, Query, SelectStatement},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    sessions::live_condition,
};

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
/// counters. A session stops holding its seat the instant one of its
/// deadlines passes, and nothing is written at that instant that could
/// decrement a counter. The four counts are scalar subqueries of one
/// statement, so they read one state of the database. Each reads only an
/// index (the `m20261204_000003_usage_indexes` migration lists them), except
/// that PostgreSQL also reads table pages that VACUUM has not yet marked all-visible.
pub async fn count_usage(db: &impl ConnectionTrait, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<Usage> {
    let statement = Query::select()
        .expr_as(active_users(slice_id, LicenseType::Named), "named")
        .expr_as(concurrent_seats(slice_id, now), "concurrent")
        .expr_as(active_users(slice_id, LicenseType::SelfService), "self_service")
        .expr_as(active_users(slice_id, LicenseType::WebServices), "web_services")
        .to_owned();
    let row = db
        .query_one(&statement)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the usage query of slice {slice_id} returned no row")))?;
    let count = |column: &str| -> AppResult<u64> {
        let value: i64 = row.try_get("", column)?;
        Ok(u64::try_from(value).unwrap_or(0))
    };
    Ok(Usage {
        named: count("named")?,
        concurrent: count("concurrent")?,
        self_service: count("self_service")?,
        web_services: count("web_services")?,
    })
}

/// Counts the active users of a slice holding `license_type`.
fn active_users(slice_id: Uuid, license_type: LicenseType) -> SelectStatement {
    user::Entity::find()
        .select_only()
        .expr(Func::count(Expr::col(Asterisk)))
        .filter(user::Column::SliceId.eq(slice_id))
        .filter(user::Column::LicenseType.eq(license_type))
        .filter(user::Column::Active.eq(true))
        .into_query()
}

/// Counts the distinct active CONCURRENT users of a slice that hold at least
/// one live WEB session at `now`. A second WEB session takes no second seat,
/// and MOBILE and API sessions take none.
///
/// NOTE: PostgreSQL chooses the join from table statistics. With statistics
/// taken while the tables were nearly empty (right after migrating, or after a
/// bulk load that autovacuum has not analyzed yet), it chose a nested loop that
/// took over two minutes for 100,000 users and 20,000 live sessions. Run
/// ANALYZE after loading data in bulk.
fn concurrent_seats(slice_id: Uuid, now: DateTime<Utc>) -> SelectStatement {
    session::Entity::find()
        .select_only()
        .expr(Func::count_distinct(Expr::col((session::Entity, session::Column::UserId))))
        .join(JoinType::InnerJoin, session::Relation::User.def())
        .filter(session::Column::SliceId.eq(slice_id))
        .filter(session::Column::Channel.eq(Channel::Web))
        .filter(live_condition(now))
        .filter(user::Column::SliceId.eq(slice_id))
        .filter(user::Column::LicenseType.eq(LicenseType::Concurrent))
        .filter(user::Column::Active.eq(true))
        .into_query()
}
