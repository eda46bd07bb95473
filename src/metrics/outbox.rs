//! The email outbox: backlog gauges read at each scrape, and delivery failures.

use std::time::Duration;

use entity::outbox_email::{self, OutboxStatus};
use metrics::{counter, gauge};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use super::names::{OUTBOX_DELIVERY_FAILURES, OUTBOX_EMAILS};

/// Every value of the `kind` label of `seatwarden_outbox_delivery_failures_total`.
pub(super) const FAILURE_KINDS: [&str; 3] = ["permanent", "transient", "unreachable"];

/// The statuses whose emails are counted, with their label values.
const COUNTED_STATUSES: [(OutboxStatus, &str); 2] = [(OutboxStatus::Pending, "PENDING"), (OutboxStatus::Failed, "FAILED")];

/// Maximum wait for one count, so that a slow database delays a scrape by
/// seconds at most instead of running into the scraper's own timeout.
const COUNT_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts one failed delivery attempt. `kind` is one of [`FAILURE_KINDS`].
pub fn record_delivery_failure(kind: &'static str) {
    counter!(OUTBOX_DELIVERY_FAILURES, "kind" => kind).increment(1);
}

/// Sets the PENDING and FAILED gauges from COUNT queries, which read the index
/// on (status, next_attempt_at). A count that fails or times out is
/// logged, and its gauge keeps its last value (absent before the first success).
pub(super) async fn update_gauges(db: &DatabaseConnection) {
    for (status, label) in COUNTED_STATUSES {
        let counted = outbox_email::Entity::find().filter(outbox_email::Column::Status.eq(status)).count(db);
        match tokio::time::timeout(COUNT_TIMEOUT, counted).await {
            Ok(Ok(count)) => gauge!(OUTBOX_EMAILS, "status" => label).set(count as f64),
            Ok(Err(error)) => {
                tracing::warn!(%error, status = label, "counting outbox emails for /metrics failed; the gauge keeps its last value");
            }
            Err(_) => {
                let timeout = humantime::format_duration(COUNT_TIMEOUT);
                tracing::warn!(status = label, %timeout, "counting outbox emails for /metrics timed out; the gauge keeps its last value");
            }
        }
    }
}
