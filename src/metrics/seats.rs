//! Licenses in use and owned per slice, kept current from the event bus.
//!
//! Every committed change of a slice's usage publishes an event carrying the
//! slice's [`ComplianceReport`] with its version. A background task applies
//! each report whose version is above the last one applied for that slice,
//! and reads every slice's usage from the database at start and after it
//! fell behind the bus.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex, PoisonError, Weak},
};

use entity::slice;
use metrics::gauge;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{
    names::{LICENSES_IN_USE, LICENSES_OWNED},
    recorder,
};
use crate::{
    clock::Clock,
    config::Config,
    error::AppResult,
    events::Event,
    licensing::{self, ComplianceReport},
    state::AppState,
};

/// The version of the last report applied per slice. It is process-wide, like
/// the gauges, so two tasks never move a slice's gauges back to an older report.
static APPLIED_VERSIONS: LazyLock<Mutex<HashMap<Uuid, i64>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The service instances that have a task, identified by their configuration,
/// because every clone of one [`AppState`] shares its `Arc<Config>`. A `Weak`
/// keeps the allocation, so a later instance never gets the same address while its entry exists.
static STARTED: Mutex<Vec<Weak<Config>>> = Mutex::new(Vec::new());

/// Starts the task that keeps `seatwarden_licenses_in_use` and
/// `seatwarden_licenses_owned` current for the service instance of `state`,
/// and installs the recorder. A second call for the same instance does
/// nothing. Must run inside a Tokio runtime.
///
/// It subscribes to the bus before it returns, so the task misses no event
/// published after this call. The task ends when every clone of the bus is
/// dropped, or with the runtime.
pub fn start(state: &AppState) {
    recorder::handle();
    if !claim(&state.config) {
        return;
    }
    let receiver = state.events.subscribe();
    tokio::spawn(follow(receiver, state.db.clone(), state.clock.clone()));
}

/// Records that the instance owning `config` has a task, and returns false when it already had one.
fn claim(config: &Arc<Config>) -> bool {
    let mut started = STARTED.lock().unwrap_or_else(PoisonError::into_inner);
    started.retain(|entry| entry.strong_count() > 0);
    if started.iter().any(|entry| std::ptr::eq(entry.as_ptr(), Arc::as_ptr(config))) {
        return false;
    }
    started.push(Arc::downgrade(config));
    true
}

/// Applies every slice's report from the database, then each report the bus publishes.
async fn follow(mut receiver: broadcast::Receiver<Arc<Event>>, db: DatabaseConnection, clock: Arc<dyn Clock>) {
    refill(&db, clock.as_ref()).await;
    loop {
        match receiver.recv().await {
            Ok(event) => {
                if let Some(report) = event.usage() {
                    apply(report);
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the seat metrics fell behind the event bus; reading every slice's usage from the database");
                refill(&db, clock.as_ref()).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Applies every slice's current report, read from the database. A database
/// error is logged and ends the refill. Events still update the slices they
/// concern, and the next lag refills again.
async fn refill(db: &DatabaseConnection, clock: &dyn Clock) {
    let slice_ids: Vec<Uuid> = match slice::Entity::find().select_only().column(slice::Column::Id).into_tuple().all(db).await {
        Ok(ids) => ids,
        Err(error) => {
            tracing::error!(%error, "listing slices for the seat metrics failed; their gauges wait for the next change");
            return;
        }
    };
    for slice_id in slice_ids {
        match current_report(db, slice_id, clock).await {
            Ok(Some(report)) => apply(&report),
            Ok(None) => {}
            Err(error) => {
                tracing::error!(
                    %error, %slice_id,
                    "reading a slice's usage for the seat metrics failed; the remaining gauges wait for their next change"
                );
                return;
            }
        }
    }
}

/// Reads the report of one slice in one snapshot, so that its version matches
/// its counts. Returns `None` when the slice no longer exists.
async fn current_report(db: &DatabaseConnection, slice_id: Uuid, clock: &dyn Clock) -> AppResult<Option<ComplianceReport>> {
    let txn = licensing::begin_snapshot(db).await?;
    let Some(slice) = slice::Entity::find_by_id(slice_id).one(&txn).await? else {
        return Ok(None);
    };
    let report = licensing::report(&txn, &slice, clock.now()).await?;
    txn.commit().await?;
    Ok(Some(report))
}

/// Sets the slice's NAMED and CONCURRENT gauges from `report` unless a report
/// of the same or a newer version was applied already.
fn apply(report: &ComplianceReport) {
    let mut applied = APPLIED_VERSIONS.lock().unwrap_or_else(PoisonError::into_inner);
    if applied.get(&report.slice_id).is_some_and(|&version| version >= report.version) {
        return;
    }
    applied.insert(report.slice_id, report.version);
    let slice_id = report.slice_id.to_string();
    for usage in [&report.named, &report.concurrent] {
        let license_type = licensing::type_name(usage.license_type);
        gauge!(LICENSES_IN_USE, "slice_id" => slice_id.clone(), "license_type" => license_type).set(usage.in_use as f64);
        let owned = usage.owned.unwrap_or(0) as f64;
        gauge!(LICENSES_OWNED, "slice_id" => slice_id.clone(), "license_type" => license_type).set(owned);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::{EnforcementMode, LicenseType};
    use licensing::LicenseUsage;

    use super::*;

    fn report(slice_id: Uuid, version: i64, concurrent_in_use: u64, concurrent_owned: u64) -> ComplianceReport {
        ComplianceReport {
            slice_id,
            mode: EnforcementMode::Off,
            named: LicenseUsage::limited(LicenseType::Named, 3, 10, 80),
            concurrent: LicenseUsage::limited(LicenseType::Concurrent, concurrent_in_use, concurrent_owned, 80),
            self_service: LicenseUsage::unlimited(LicenseType::SelfService, 0),
            web_services: LicenseUsage::unlimited(LicenseType::WebServices, 0),
            compliant: true,
            evaluated_at: Utc::now(),
            version,
        }
    }

    #[test]
    fn one_task_per_service_instance() {
        let first = Arc::new(Config::default());
        let second = Arc::new(Config::default());
        assert!(claim(&first));
        assert!(!claim(&first.clone()), "clones of one state share their config");
        assert!(claim(&second));
        drop(first);
        assert!(claim(&Arc::new(Config::default())));
    }

    #[test]
    fn only_newer_versions_are_applied() {
        let recorder = recorder::build().unwrap();
        let handle = recorder.handle();
        let slice_id = Uuid::now_v7();
        let series = |name: &str, license_type: &str| format!(r#"{name}{{slice_id="{slice_id}",license_type="{license_type}"}} "#);
        let value = |name: &str, license_type: &str| -> String {
            let prefix = series(name, license_type);
            let rendered = handle.render();
            rendered.lines().find_map(|line| line.strip_prefix(prefix.as_str())).unwrap_or("absent").to_owned()
        };

        metrics::with_local_recorder(&recorder, || {
            apply(&report(slice_id, 5, 2, 5));
            assert_eq!(value(LICENSES_IN_USE, "CONCURRENT"), "2");
            assert_eq!(value(LICENSES_OWNED, "CONCURRENT"), "5");
            assert_eq!(value(LICENSES_IN_USE, "NAMED"), "3");
            assert_eq!(value(LICENSES_OWNED, "NAMED"), "10");

            apply(&report(slice_id, 4, 4, 9));
            apply(&report(slice_id, 5, 4, 9));
            assert_eq!(value(LICENSES_IN_USE, "CONCURRENT"), "2", "older and equal versions are skipped");
            assert_eq!(value(LICENSES_OWNED, "CONCURRENT"), "5");

            apply(&report(slice_id, 6, 0, 7));
            assert_eq!(value(LICENSES_IN_USE, "CONCURRENT"), "0");
            assert_eq!(value(LICENSES_OWNED, "CONCURRENT"), "7");
        });
    }
}
