//! The session list of a slice, newest first, with keyset pagination.

use chrono::{DateTime, Utc};
use entity::{Channel, LicenseType, session, slice, user};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, sea_query::JoinType,
};
use uuid::Uuid;

use super::live_condition;
use crate::{
    access::Administered,
    error::AppResult,
    pagination::{Cursor, Page, after_newest_first, page_size},
};

const ORDERING: &str = "STARTED_AT_DESC";

/// Filters of the session list; every given filter must match.
#[derive(Debug, Clone)]
pub struct SessionFilter {
    /// Sessions of this user only; an id that is malformed or of another slice matches nothing.
    pub user_id: Option<String>,
    pub license_types: Option<Vec<LicenseType>>,
    pub channels: Option<Vec<Channel>>,
    pub live_only: bool,
}

impl Default for SessionFilter {
    fn default() -> Self {
        Self { user_id: None, license_types: None, channels: None, live_only: true }
    }
}

/// Lists the sessions of a slice the caller administers, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    slice: &Administered<slice::Model>,
    filter: SessionFilter,
    first: Option<i32>,
    after: Option<&str>,
    max_page_size: u32,
    now: DateTime<Utc>,
) -> AppResult<Page<session::Model>> {
    let limit = page_size(first, max_page_size)?;
    let after = after.map(|raw| Cursor::decode(raw, ORDERING)).transpose()?;

    let mut condition = Condition::all().add(session::Column::SliceId.eq(slice.id));
    if let Some(raw) = &filter.user_id {
        // A malformed id matches nothing, like an id of another slice.
        let user_id = Uuid::parse_str(raw.trim()).unwrap_or(Uuid::nil());
        condition = condition.add(session::Column::UserId.eq(user_id));
    }
    if let Some(channels) = filter.channels {
        condition = condition.add(session::Column::Channel.is_in(channels));
    }
    if filter.live_only {
        condition = condition.add(live_condition(now));
    }
    let mut query = session::Entity::find().filter(condition);
    if let Some(types) = filter.license_types {
        query = query
            .join(JoinType::InnerJoin, session::Relation::User.def())
            .filter(user::Column::LicenseType.is_in(types));
    }

    let total_count = query.clone().count(db).await?;
    if let Some(cursor) = &after {
        query = query.filter(after_newest_first(session::Column::StartedAt, session::Column::Id, cursor)?);
    }
    let rows = query
        .order_by_desc(session::Column::StartedAt)
        .order_by_desc(session::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, limit, after.is_some(), total_count, |row| Cursor {
        ordering: ORDERING.to_owned(),
        key: Some(row.started_at.to_rfc3339()),
        id: row.id,
    }))
}
