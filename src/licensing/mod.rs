//! License usage and compliance: counting what a slice uses at an instant,
//! and comparing it with what the slice owns.
//!
//! NAMED counts the slice's active NAMED users. CONCURRENT counts the distinct
//! active CONCURRENT users holding at least one live WEB session. A session is
//! live while it has not ended and both its idle and absolute deadlines are
//! after the instant given. SELF_SERVICE and WEB_SERVICES count their active
//! holders and have no limit. Every function takes the instant from the
//! caller, who reads it from the service's clock, never from the database.

mod alerts;
mod count;
mod decide;
mod event_list;
mod level;
mod record;

use chrono::{DateTime, Utc};
use entity::{EnforcementMode, LicenseType, slice};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, IsolationLevel,
    TransactionTrait,
};
use uuid::Uuid;

pub use alerts::record_level_changes;
pub use count::{Usage, count_usage};
pub use decide::{Decision, Subject, decide_named_assignment, decide_seat};
pub use event_list::{ComplianceEventFilter, list_events};
pub use record::{EventDraft, record, type_name};
pub use level::{LicenseUsage, UsageLevel, level};

use crate::{
    access::{self, Administered},
    auth::Principal,
    error::AppResult,
};

/// A slice's usage of each license type at one instant.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComplianceReport {
    pub slice_id: Uuid,
    pub mode: EnforcementMode,
    pub named: LicenseUsage,
    pub concurrent: LicenseUsage,
    pub self_service: LicenseUsage,
    pub web_services: LicenseUsage,
    /// False when NAMED or CONCURRENT is OVER.
    pub compliant: bool,
    pub evaluated_at: DateTime<Utc>,
    /// The slice's version when the report was computed.
    pub version: i64,
}

/// Computes the compliance report of `slice` at `now`.
///
/// The counts read the database through `db`. Pass the transaction that
/// loaded `slice`, so that `version` matches them (see [`begin_snapshot`]).
pub async fn report(db: &impl ConnectionTrait, slice: &slice::Model, now: DateTime<Utc>) -> AppResult<ComplianceReport> {
    let usage = count_usage(db, slice.id, now).await?;
    Ok(build_report(slice, usage, now))
}

/// Loads a slice the caller administers and computes its report at `now`, in
/// one snapshot so that the report's version matches its counts.
///
/// Errors as [`access::administered_slice`] does: NOT_FOUND when the caller
/// cannot see the slice, FORBIDDEN when they see it but do not administer it.
pub async fn report_for(
    db: &DatabaseConnection,
    principal: &Principal,
    raw_slice_id: &str,
    now: DateTime<Utc>,
) -> AppResult<ComplianceReport> {
    Ok(administered_report(db, principal, raw_slice_id, now).await?.1)
}

/// Like [`report_for`], and also returns the slice as loaded in the snapshot.
pub async fn administered_report(
    db: &DatabaseConnection,
    principal: &Principal,
    raw_slice_id: &str,
    now: DateTime<Utc>,
) -> AppResult<(Administered<slice::Model>, ComplianceReport)> {
    let txn = begin_snapshot(db).await?;
    let slice = access::administered_slice(&txn, principal, raw_slice_id).await?;
    let report = report(&txn, &slice, now).await?;
    txn.commit().await?;
    Ok((slice, report))
}

/// Computes the current report of the slice `slice_id` in one snapshot, or
/// `None` when the slice no longer exists. Used to resend a slice's state to
/// subscribers that may have missed events.
pub async fn current_report(db: &DatabaseConnection, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<Option<ComplianceReport>> {
    let txn = begin_snapshot(db).await?;
    let report = match slice::Entity::find_by_id(slice_id).one(&txn).await? {
        Some(slice) => Some(report(&txn, &slice, now).await?),
        None => None,
    };
    txn.commit().await?;
    Ok(report)
}

/// Starts a read-only transaction in which every statement sees the same
/// committed state: REPEATABLE READ on PostgreSQL, and on SQLite a deferred
/// transaction, whose first read fixes the snapshot in WAL mode.
pub async fn begin_snapshot(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
        }
        _ => db.begin().await?,
    };
    Ok(txn)
}

fn build_report(slice: &slice::Model, usage: Usage, now: DateTime<Utc>) -> ComplianceReport {
    // The database's CHECK constraints keep both non-negative and the threshold in 1..=100.
    let threshold = u32::try_from(slice.alert_threshold_percent).unwrap_or(100);
    let owned_named = u64::try_from(slice.owned_named_licenses).unwrap_or(0);
    let owned_concurrent = u64::try_from(slice.owned_concurrent_licenses).unwrap_or(0);

    let named = LicenseUsage::limited(LicenseType::Named, usage.named, owned_named, threshold);
    let concurrent = LicenseUsage::limited(LicenseType::Concurrent, usage.concurrent, owned_concurrent, threshold);
    ComplianceReport {
        slice_id: slice.id,
        mode: slice.enforcement_mode,
        compliant: named.level != UsageLevel::Over && concurrent.level != UsageLevel::Over,
        named,
        concurrent,
        self_service: LicenseUsage::unlimited(LicenseType::SelfService, usage.self_service),
        web_services: LicenseUsage::unlimited(LicenseType::WebServices, usage.web_services),
        evaluated_at: now,
        version: slice.version,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use entity::{Edition, SliceKind};

    use super::*;

    fn slice(owned_named: i32, owned_concurrent: i32, threshold: i32) -> slice::Model {
        let created = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
        slice::Model {
            id: Uuid::now_v7(),
            name: "acme-prod".to_owned(),
            name_key: "acme-prod".to_owned(),
            display_name: "Acme".to_owned(),
            customer: None,
            kind: SliceKind::Production,
            edition: Edition::ServiceManagement,
            owned_named_licenses: owned_named,
            owned_concurrent_licenses: owned_concurrent,
            renewal_date: None,
            enforcement_mode: EnforcementMode::Warn,
            mode_pinned: false,
            alert_threshold_percent: threshold,
            version: 41,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn report_copies_slice_state() {
        let slice = slice(10, 5, 80);
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let report = build_report(&slice, Usage::default(), now);
        assert_eq!(report.slice_id, slice.id);
        assert_eq!(report.mode, EnforcementMode::Warn);
        assert_eq!(report.version, 41);
        assert_eq!(report.evaluated_at, now);
        assert_eq!(report.named.license_type, LicenseType::Named);
        assert_eq!(report.concurrent.license_type, LicenseType::Concurrent);
        assert_eq!(report.self_service.license_type, LicenseType::SelfService);
        assert_eq!(report.web_services.license_type, LicenseType::WebServices);
    }

    #[test]
    fn report_levels_use_slice_threshold() {
        let usage = Usage { named: 8, concurrent: 4, self_service: 30, web_services: 2 };
        let report = build_report(&slice(10, 5, 80), usage, Utc::now());
        assert_eq!(report.named.level, UsageLevel::Approaching);
        assert_eq!(report.concurrent.level, UsageLevel::Approaching);
        assert!(report.compliant);

        let report = build_report(&slice(10, 5, 90), usage, Utc::now());
        assert_eq!(report.named.level, UsageLevel::Within);
        assert_eq!(report.concurrent.level, UsageLevel::Within);
        assert_eq!(report.self_service.level, UsageLevel::Within);
        assert_eq!(report.self_service.owned, None);
    }

    #[test]
    fn report_noncompliant_when_over() {
        let at_limit = Usage { named: 10, concurrent: 5, ..Usage::default() };
        assert!(build_report(&slice(10, 5, 80), at_limit, Utc::now()).compliant);

        let named_over = Usage { named: 11, concurrent: 5, ..Usage::default() };
        assert!(!build_report(&slice(10, 5, 80), named_over, Utc::now()).compliant);

        let concurrent_over = Usage { named: 10, concurrent: 6, ..Usage::default() };
        assert!(!build_report(&slice(10, 5, 80), concurrent_over, Utc::now()).compliant);

        // The unlimited types never make a slice non-compliant.
        let unlimited = Usage { self_service: 1_000, web_services: 1_000, ..Usage::default() };
        assert!(build_report(&slice(0, 0, 80), unlimited, Utc::now()).compliant);
    }
}
