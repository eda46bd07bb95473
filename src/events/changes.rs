//! Recording a change of a slice inside its transaction: the version bump,
//! the usage report, the usage history and level events.

use chrono::{DateTime, Utc};
use entity::session;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::{Event, SessionEvent, SessionEventKind};
use crate::{
    error::{AppError, AppResult},
    history,
    licensing::{self, ComplianceReport},
    slices,
};

/// Bumps the slice's version inside the caller's transaction, computes its
/// usage, writes it into the usage history, records any level rise, and returns the report with the compliance
/// events recorded, for publishing once the transaction commits.
async fn bump_and_report(
    txn: &impl ConnectionTrait,
    slice_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<(ComplianceReport, Vec<Event>)> {
    slices::bump_version(txn, slice_id).await?;
    let slice = entity::slice::Entity::find_by_id(slice_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("slice {slice_id} vanished inside its own transaction")))?;
    let usage = licensing::report(txn, &slice, now).await?;
    history::record_usage(txn, slice_id, usage.named.in_use, usage.concurrent.in_use, now).await?;
    let levels = licensing::record_level_changes(txn, &slice, &usage, now).await?;
    Ok((usage, levels.into_iter().map(Event::Compliance).collect()))
}

/// Records a change of a slice's sessions: bumps the version, computes the
/// usage and level events, and returns the events to publish after commit.
///
/// `ended` sessions must already be ended in this transaction; operators'
/// sessions (no slice) produce only [`Event::OperatorSessionEnded`].
pub async fn session_changes(
    txn: &impl ConnectionTrait,
    slice_id: Option<Uuid>,
    started: Option<&session::Model>,
    ended: &[session::Model],
    now: DateTime<Utc>,
) -> AppResult<Vec<Event>> {
    let Some(slice_id) = slice_id else {
        return Ok(ended.iter().map(|s| Event::OperatorSessionEnded { session_id: s.id }).collect());
    };
    if started.is_none() && ended.is_empty() {
        return Ok(Vec::new());
    }
    let (usage, compliance) = bump_and_report(txn, slice_id, now).await?;
    if started.is_some() {
        history::count(txn, slice_id, history::Counter::SessionStarted, now).await?;
    }
    let mut events: Vec<Event> = ended
        .iter()
        .map(|session| Event::Session(SessionEvent { kind: SessionEventKind::Ended, session: session.clone(), usage: usage.clone() }))
        .collect();
    if let Some(session) = started {
        events.push(Event::Session(SessionEvent { kind: SessionEventKind::Started, session: session.clone(), usage }));
    }
    events.extend(compliance);
    Ok(events)
}

/// Records a change of a slice's users, owned counts or mode that starts or
/// ends no session: bumps the version, computes the usage and level events,
/// and returns the events to publish after commit.
pub async fn usage_changes(txn: &impl ConnectionTrait, slice_id: Uuid, now: DateTime<Utc>) -> AppResult<Vec<Event>> {
    let (usage, compliance) = bump_and_report(txn, slice_id, now).await?;
    let mut events = vec![Event::Usage(usage)];
    events.extend(compliance);
    Ok(events)
}
