//! The compliance event list of a slice, newest first, with keyset pagination.

use chrono::{DateTime, Utc};
use entity::{ComplianceEventKind, LicenseType, compliance_event, slice};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    access::Administered,
    error::AppResult,
    pagination::{Cursor, Page, after_newest_first, page_size},
};

const ORDERING: &str = "OCCURRED_AT_DESC";

/// Filters of the compliance event list; every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct ComplianceEventFilter {
    pub kinds: Option<Vec<ComplianceEventKind>>,
    /// Events without a license type (MODE_CHANGED) never match this filter.
    pub license_types: Option<Vec<LicenseType>>,
    /// Events that occurred at or after this instant.
    pub since: Option<DateTime<Utc>>,
}

/// Lists the compliance events of a slice the caller administers, newest
/// first (by occurrence time, then by id, both descending).
pub async fn list_events(
    db: &impl ConnectionTrait,
    slice: &Administered<slice::Model>,
    filter: ComplianceEventFilter,
    first: Option<i32>,
    after: Option<&str>,
    max_page_size: u32,
) -> AppResult<Page<compliance_event::Model>> {
    let limit = page_size(first, max_page_size)?;
    let after = after.map(|raw| Cursor::decode(raw, ORDERING)).transpose()?;

    let mut condition = Condition::all().add(compliance_event::Column::SliceId.eq(slice.id));
    if let Some(kinds) = filter.kinds {
        condition = condition.add(compliance_event::Column::Kind.is_in(kinds));
    }
    if let Some(types) = filter.license_types {
        condition = condition.add(compliance_event::Column::LicenseType.is_in(types));
    }
    if let Some(since) = filter.since {
        condition = condition.add(compliance_event::Column::OccurredAt.gte(since));
    }
    let mut query = compliance_event::Entity::find().filter(condition);

    let total_count = query.clone().count(db).await?;
    if let Some(cursor) = &after {
        query = query.filter(after_newest_first(compliance_event::Column::OccurredAt, compliance_event::Column::Id, cursor)?);
    }
    let rows = query
        .order_by_desc(compliance_event::Column::OccurredAt)
        .order_by_desc(compliance_event::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, limit, after.is_some(), total_count, |row| Cursor {
        ordering: ORDERING.to_owned(),
        key: Some(row.occurred_at.to_rfc3339()),
        id: row.id,
    }))
}
