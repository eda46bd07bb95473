//! Level events: recording when NAMED or CONCURRENT usage rises to a new level.
//!
//! One alert-state row per slice and limited license type keeps the level at
//! the last evaluation and the UTC day each level was last recorded. A rise
//! above the stored level records an event unless that level was already
//! recorded on the same UTC day; a fall only lowers the stored level, which
//! re-arms the levels above it. Usage hovering around a threshold therefore
//! records one event a day, not one per login. Callers hold the slice lock.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{ComplianceEventKind, EnforcementMode, alert_state, compliance_event, slice};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::{
    ComplianceReport, LicenseUsage, UsageLevel,
    record::{EventDraft, record, type_name},
};
use crate::error::AppResult;

fn kind_of(level: entity::UsageLevel) -> Option<ComplianceEventKind> {
    match level {
        entity::UsageLevel::Within => None,
        entity::UsageLevel::Approaching => Some(ComplianceEventKind::ApproachingLimit),
        entity::UsageLevel::AtLimit => Some(ComplianceEventKind::LimitReached),
        entity::UsageLevel::Over => Some(ComplianceEventKind::OverLimit),
    }
}

fn day_of(state: &alert_state::Model, level: entity::UsageLevel) -> Option<NaiveDate> {
    match level {
        entity::UsageLevel::Within => None,
        entity::UsageLevel::Approaching => state.approaching_on,
        entity::UsageLevel::AtLimit => state.limit_reached_on,
        entity::UsageLevel::Over => state.over_limit_on,
    }
}

fn describe(usage: &LicenseUsage, threshold: i32) -> String {
    let owned = usage.owned.unwrap_or(0);
    let what = match usage.level {
        UsageLevel::Approaching => format!("approaches the limit (alert threshold {threshold}%)"),
        UsageLevel::AtLimit => "reached the limit".to_owned(),
        UsageLevel::Over => "is over the limit".to_owned(),
        UsageLevel::Within => "is within the limit".to_owned(),
    };
    format!("{} usage {what}: {} in use of {owned} owned", type_name(usage.license_type), usage.in_use)
}

/// Compares the report's NAMED and CONCURRENT levels with the stored alert
/// state and records a level event for each rise that is due. Does nothing in
/// mode OFF, which records no level events.
pub async fn record_level_changes(
    txn: &impl ConnectionTrait,
    slice: &slice::Model,
    report: &ComplianceReport,
    now: DateTime<Utc>,
) -> AppResult<Vec<compliance_event::Model>> {
    if slice.enforcement_mode == EnforcementMode::Off {
        return Ok(Vec::new());
    }
    let today = now.date_naive();
    let mut recorded = Vec::new();
    for usage in [&report.named, &report.concurrent] {
        let level = super::record::stored_level(usage.level);
        let state = alert_state::Entity::find_by_id((slice.id, usage.license_type)).one(txn).await?;
        let previous = state.as_ref().map_or(entity::UsageLevel::Within, |s| s.level);
        if level == previous {
            continue;
        }
        let mut model = match &state {
            Some(existing) => alert_state::ActiveModel::from(existing.clone()),
            None => alert_state::ActiveModel {
                slice_id: Set(slice.id),
                license_type: Set(usage.license_type),
                level: Set(entity::UsageLevel::Within),
                approaching_on: Set(None),
                limit_reached_on: Set(None),
                over_limit_on: Set(None),
            },
        };
        model.level = Set(level);
        let due = level > previous && state.as_ref().and_then(|s| day_of(s, level)) != Some(today);
        if let (true, Some(kind)) = (due, kind_of(level)) {
            let draft = EventDraft {
                level: Some(usage.level),
                ..EventDraft::new(kind, describe(usage, slice.alert_threshold_percent))
                    .counts(usage.license_type, usage.in_use, usage.owned.unwrap_or(0))
            };
            recorded.push(record(txn, slice.id, draft, now).await?);
            match level {
                entity::UsageLevel::Approaching => model.approaching_on = Set(Some(today)),
                entity::UsageLevel::AtLimit => model.limit_reached_on = Set(Some(today)),
                entity::UsageLevel::Over => model.over_limit_on = Set(Some(today)),
                entity::UsageLevel::Within => {}
            }
        }
        if state.is_some() {
            model.update(txn).await?;
        } else {
            model.insert(txn).await?;
        }
    }
    Ok(recorded)
}
