//! The publish/subscribe bus behind GraphQL subscriptions.
//!
//! Domain functions collect events while their transaction runs and publish
//! them only after it commits, so a subscriber never sees a change that was
//! rolled back. Each event carries the slice's usage as computed inside that
//! transaction, with the slice's version.
//!
//! NOTE: the bus is in-process, so with several instances a subscriber sees
//! only the events of the instance it is connected to.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::session;
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use tokio::sync::{Mutex, broadcast};
use uuid::Uuid;

use crate::{
    alerts,
    error::{AppError, AppResult},
    licensing::{self, ComplianceReport},
    slices,
};

/// Events a subscriber may fall behind by before it starts missing some.
const BUS_CAPACITY: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEventKind {
    Started,
    Ended,
}

/// A session of a slice started or ended.
#[derive(Debug, Clone)]
pub struct SessionEvent {
    pub kind: SessionEventKind,
    pub session: session::Model,
    /// The slice's usage right after the change, with the slice's new version.
    pub usage: ComplianceReport,
}

/// Something subscribers may want to know, published after its transaction committed.
#[derive(Debug, Clone)]
pub enum Event {
    Session(SessionEvent),
    /// A slice's usage, owned counts or mode changed without a session
    /// starting or ending (users, licenses, slice settings).
    Usage(ComplianceReport),
    /// A compliance event was recorded.
    Compliance(entity::compliance_event::Model),
    /// A session without a slice (an operator's) ended; subscriptions opened
    /// with that session end with it.
    OperatorSessionEnded { session_id: Uuid },
}

impl Event {
    /// Returns the slice's usage this event carries: every committed change
    /// of the slice's usage, owned counts or mode publishes one.
    pub fn usage(&self) -> Option<&ComplianceReport> {
        match self {
            Event::Session(event) => Some(&event.usage),
            Event::Usage(report) => Some(report),
            Event::Compliance(_) | Event::OperatorSessionEnded { .. } => None,
        }
    }

    /// Returns the slice the event belongs to, if any.
    pub fn slice_id(&self) -> Option<Uuid> {
        match self {
            Event::Session(event) => Some(event.usage.slice_id),
            Event::Usage(report) => Some(report.slice_id),
            Event::Compliance(event) => Some(event.slice_id),
            Event::OperatorSessionEnded { .. } => None,
        }
    }

    /// Returns the id of the session this event reports as ended, if any.
    pub fn ended_session_id(&self) -> Option<Uuid> {
        match self {
            Event::Session(event) if event.kind == SessionEventKind::Ended => Some(event.session.id),
            Event::OperatorSessionEnded { session_id } => Some(*session_id),
            Event::Session(_) | Event::Usage(_) | Event::Compliance(_) => None,
        }
    }
}

/// Locks that order commits and publication per slice; a slice maps to one
/// stripe by its id.
const COMMIT_STRIPES: usize = 64;

/// In-process broadcast of committed events.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
    commit_order: Arc<Vec<Mutex<()>>>,
    /// Base of the links in alert emails.
    public_base_url: Arc<str>,
}

impl EventBus {
    /// Creates a bus whose alert emails link to `public_base_url`.
    pub fn new(public_base_url: &str) -> Self {
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        let commit_order = Arc::new((0..COMMIT_STRIPES).map(|_| Mutex::new(())).collect());
        Self { sender, commit_order, public_base_url: public_base_url.into() }
    }
}

impl EventBus {
    /// Commits a transaction that changed `slice_id` and publishes its events.
    ///
    /// Transactions on one slice already commit one after another (they hold
    /// the slice lock); holding this instance's lock for the slice from just
    /// before the commit until the events are published keeps publication in
    /// commit order, so a subscriber never sees a slice's version go back.
    /// Alert emails that the events require are written to the outbox in the
    /// same transaction, just before it commits.
    pub async fn commit(&self, txn: DatabaseTransaction, slice_id: Option<Uuid>, mut events: Vec<Event>) -> AppResult<()> {
        alerts::queue(&txn, &mut events, &self.public_base_url).await?;
        let stripe = slice_id.map_or(0, |id| (id.as_u128() % COMMIT_STRIPES as u128) as usize);
        let _order = self.commit_order[stripe].lock().await;
        txn.commit().await?;
        self.publish(events);
        Ok(())
    }

    /// Publishes events whose transaction has committed.
    pub fn publish(&self, events: Vec<Event>) {
        for event in events {
            // Sending fails only when nobody subscribes, which is not an error.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// Returns how many subscriptions currently receive events.
    pub fn subscriber_count(&self) -> usize {
        self.sender.receiver_count()
    }
}

/// Bumps the slice's version inside the caller's transaction, computes its
/// usage, records any level rise, and returns the report with the compliance
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
