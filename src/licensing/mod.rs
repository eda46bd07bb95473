//! License usage and compliance: counting what a slice uses at an instant,
//! and comparing it with what the slice owns.
//!
//! NAMED counts the slice's active NAMED users. CONCURRENT counts the distinct
//! active CONCURRENT users holding at least one live WEB session; a session is
//! live while it has not ended and both its idle and absolute deadlines are
//! after the instant given. SELF_SERVICE and WEB_SERVICES count their active
//! holders and have no limit. Every function takes the instant from the
//! caller, who reads it from the service's clock, never from the database.

mod count;
mod level;

use chrono::{DateTime, Utc};
use entity::{EnforcementMode, LicenseType, slice};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel, TransactionTrait,
};
use uuid::Uuid;

pub use count::{Usage, count_usage};
pub use level::{LicenseUsage, UsageLevel, level};

use crate::{access, auth::Principal, error::AppResult};

/// A slice's usage of each license type at one instant.
#[derive(Debug, Clone, PartialEq)]
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
    /// The slice's version in `slice`, which the caller loaded with the same view of the database as the counts.
    pub version: i64,
}

/// Computes the compliance report of `slice` at `now`.
///
/// The counts read the database through `db`; pass the transaction that
/// loaded `slice` so that `version` matches them (see [`begin_snapshot`]).
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
    let txn = begin_snapshot(db).await?;
    let slice = access::administered_slice(&txn, principal, raw_slice_id).await?;
    let report = report(&txn, &slice, now).await?;
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
