//! The publish/subscribe bus behind GraphQL subscriptions.
//!
//! Domain functions collect events while their transaction runs and publish
//! them only after it commits, so a subscriber never sees a change that was
//! rolled back. Each event carries the slice's usage as computed inside that
//! transaction, with the slice's version.
//!
//! On SQLite (one instance) the bus publishes in-process after the commit. On
//! PostgreSQL the transaction also sends a notice with `pg_notify`, which the
//! server delivers to every listening instance only once it commits, in
//! commit order. Every instance, the sending one included, publishes what its
//! listener receives (see [`listener`]), so all instances see one order.

mod changes;
pub mod listener;
mod notice;

use std::sync::Arc;

use entity::session;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use tokio::sync::{Mutex, broadcast};
use uuid::Uuid;

pub use changes::{session_changes, usage_changes};

use crate::{alerts, error::AppResult, licensing::ComplianceReport};

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

/// Broadcast of committed events to this instance's subscribers.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
    commit_order: Arc<Vec<Mutex<()>>>,
    /// Base of the links in alert emails.
    public_base_url: Arc<str>,
    /// True on PostgreSQL: events travel as notices through the database.
    through_database: bool,
}

impl EventBus {
    /// Creates a bus whose alert emails link to `public_base_url`. With
    /// `through_database`, commits send notices and only the listener publishes.
    pub fn new(public_base_url: &str, through_database: bool) -> Self {
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        let commit_order = Arc::new((0..COMMIT_STRIPES).map(|_| Mutex::new(())).collect());
        Self { sender, commit_order, public_base_url: public_base_url.into(), through_database }
    }
}

impl EventBus {
    /// Commits a transaction that changed `slice_id` and publishes its events.
    ///
    /// Alert emails that the events require are written to the outbox in the
    /// same transaction, just before it commits. On PostgreSQL the events go
    /// out as notices inside the transaction, and the listener of each
    /// instance publishes them after the commit.
    ///
    /// On SQLite, transactions on one slice already commit one after another
    /// (they hold the slice lock). Holding this instance's lock for the slice
    /// from just before the commit until the events are published keeps
    /// publication in commit order, so a subscriber never sees a slice's
    /// version go back.
    pub async fn commit(&self, txn: DatabaseTransaction, slice_id: Option<Uuid>, mut events: Vec<Event>) -> AppResult<()> {
        alerts::queue(&txn, &mut events, &self.public_base_url).await?;
        if self.through_database {
            for payload in notice::encode(&events) {
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [notice::CHANNEL.into(), payload.into()],
                );
                txn.execute_raw(statement).await?;
            }
            txn.commit().await?;
            return Ok(());
        }
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

