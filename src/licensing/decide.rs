//! Decisions a license limit can refuse: a CONCURRENT seat at WEB login and
//! a NAMED assignment.
//!
//! Callers run these inside the transaction that holds the slice lock, after
//! the password check and before writing the change, and commit whatever the
//! decision: a refusal is a recorded decision (its BLOCKED event is written
//! here), not a failed transaction.

use chrono::{DateTime, Utc};
use entity::{ComplianceEventKind, EnforcementMode, LicenseType, compliance_event, slice};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{count_usage, record::EventDraft, record::record};
use crate::error::AppResult;

/// Outcome of a limit check.
#[derive(Debug)]
pub enum Decision {
    /// The change may go ahead; in WARN, `would_be_blocked` is the recorded
    /// event saying that ENFORCE would have refused it.
    Allowed { would_be_blocked: Option<compliance_event::Model> },
    /// ENFORCE refused the change; the BLOCKED event is recorded.
    Refused { owned: u64, in_use: u64, event: compliance_event::Model },
}

impl Decision {
    fn allowed() -> Self {
        Decision::Allowed { would_be_blocked: None }
    }
}

/// Subject of a decision: the user it concerns and the user who requested it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The user the decision is about, when it exists already.
    pub user_id: Option<Uuid>,
    pub username: &'a str,
    pub actor_id: Option<Uuid>,
}

/// Decides whether a CONCURRENT user who holds no seat may take one at WEB login.
pub async fn decide_seat(
    txn: &impl ConnectionTrait,
    slice: &slice::Model,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    let owned = u64::try_from(slice.owned_concurrent_licenses).unwrap_or(0);
    decide(txn, slice, subject, LicenseType::Concurrent, owned, now, |usage| usage.concurrent).await
}

/// Decides whether one more active NAMED user may be assigned.
pub async fn decide_named_assignment(
    txn: &impl ConnectionTrait,
    slice: &slice::Model,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> AppResult<Decision> {
    let owned = u64::try_from(slice.owned_named_licenses).unwrap_or(0);
    decide(txn, slice, subject, LicenseType::Named, owned, now, |usage| usage.named).await
}

async fn decide(
    txn: &impl ConnectionTrait,
    slice: &slice::Model,
    subject: Subject<'_>,
    license_type: LicenseType,
    owned: u64,
    now: DateTime<Utc>,
    in_use_of: impl Fn(super::Usage) -> u64,
) -> AppResult<Decision> {
    if slice.enforcement_mode == EnforcementMode::Off {
        return Ok(Decision::allowed());
    }
    let in_use = in_use_of(count_usage(txn, slice.id, now).await?);
    if in_use < owned {
        return Ok(Decision::allowed());
    }
    let enforce = slice.enforcement_mode == EnforcementMode::Enforce;
    let (kind, message) = match (license_type, enforce) {
        (LicenseType::Concurrent, true) => (
            ComplianceEventKind::LoginBlocked,
            format!("Login of {} blocked: all {owned} CONCURRENT seats are in use ({in_use})", subject.username),
        ),
        (LicenseType::Concurrent, false) => (
            ComplianceEventKind::LoginWouldBeBlocked,
            format!(
                "Login of {} would be blocked in ENFORCE: {in_use} CONCURRENT seats in use of {owned} owned",
                subject.username
            ),
        ),
        (_, true) => (
            ComplianceEventKind::AssignmentBlocked,
            format!("NAMED license for {} refused: {in_use} in use of {owned} owned", subject.username),
        ),
        (_, false) => (
            ComplianceEventKind::AssignmentWouldBeBlocked,
            format!(
                "NAMED license for {} would be refused in ENFORCE: {in_use} in use of {owned} owned",
                subject.username
            ),
        ),
    };
    let draft = EventDraft { user_id: subject.user_id, actor_id: subject.actor_id, ..EventDraft::new(kind, message) }
        .counts(license_type, in_use, owned);
    let event = record(txn, slice.id, draft, now).await?;
    if enforce {
        Ok(Decision::Refused { owned, in_use, event })
    } else {
        Ok(Decision::Allowed { would_be_blocked: Some(event) })
    }
}
