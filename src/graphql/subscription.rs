//! Root subscription fields: live streams of committed events.

use std::{sync::Arc, time::Duration};

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt, future, stream};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{
    context::{principal, state},
    error::ApiError,
    types::{ComplianceEventNode, ComplianceReportNode, SessionEventNode},
};
use crate::{
    access,
    auth::Auth,
    events::Event,
    licensing,
    sessions,
    state::AppState,
};

/// How often an open subscription re-checks its session and the caller's
/// right to the slice, and records the connection as activity.
const RECHECK_INTERVAL: Duration = Duration::from_secs(15);

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every session start and end in the slice, for its administrators and operators.
    async fn session_events(&self, ctx: &Context<'_>, slice_id: ID) -> Result<impl Stream<Item = SessionEventNode> + use<>, ApiError> {
        let watch = Watch::open(ctx, &slice_id, "sessionEvents").await?;
        // On PostgreSQL the bus may still deliver changes committed before the
        // subscription started; their versions are not above the slice's version then.
        let start_version = watch.start_version;
        Ok(watch.into_stream(move |event| match event {
            Event::Session(session_event) if session_event.usage.version > start_version => {
                Some(SessionEventNode(session_event.clone()))
            }
            _ => None,
        }))
    }

    /// The slice's usage, sent on subscribe and after every change, for its
    /// administrators and operators. Versions only grow: a report whose
    /// version is not above the last one sent is skipped.
    async fn license_usage(&self, ctx: &Context<'_>, slice_id: ID) -> Result<impl Stream<Item = ComplianceReportNode> + use<>, ApiError> {
        let principal = principal(ctx)?;
        let state = state(ctx)?.clone();
        // Subscribe before reading the snapshot, so that a change committed in
        // between is received. Its version is above the snapshot's, so it is sent.
        let receiver = state.events.subscribe();
        let current = licensing::report_for(&state.db, principal, &slice_id, state.clock.now()).await?;
        let mut watch = Watch::new(state, receiver, principal.session.id, current.slice_id, "licenseUsage");
        watch.start_version = current.version;
        // On SQLite another process (such as `import-contracts`) may change the
        // slice without this process's bus hearing of it; each re-check catches up.
        watch.poll_usage = watch.state.config.is_sqlite();

        let mut last_version = current.version;
        let changes = watch.into_stream(move |event| {
            let report = event.usage()?;
            // Several events of one transaction carry the same report, and events
            // received before the snapshot was read carry versions it already includes.
            if report.version <= last_version {
                return None;
            }
            last_version = report.version;
            Some(ComplianceReportNode(report.clone()))
        });
        Ok(stream::once(future::ready(ComplianceReportNode(current))).chain(changes))
    }

    /// Every compliance event recorded in the slice, for its administrators and operators.
    async fn compliance_events(&self, ctx: &Context<'_>, slice_id: ID) -> Result<impl Stream<Item = ComplianceEventNode> + use<>, ApiError> {
        let watch = Watch::open(ctx, &slice_id, "complianceEvents").await?;
        Ok(watch.into_stream(|event| match event {
            Event::Compliance(compliance_event) => Some(ComplianceEventNode(compliance_event.clone())),
            _ => None,
        }))
    }
}

/// The state of one subscription to a slice's events.
struct Watch {
    receiver: broadcast::Receiver<Arc<Event>>,
    recheck: tokio::time::Interval,
    state: AppState,
    /// The subscriber's session; the subscription ends with it.
    session_id: Uuid,
    slice_id: Uuid,
    /// The slice's version when the subscription started, then the highest seen in an event.
    start_version: i64,
    /// Whether each re-check also compares the slice's version with the
    /// highest seen and sends the current usage when it grew.
    poll_usage: bool,
}

impl Watch {
    /// Authorizes the caller for the slice's events (NOT_FOUND when they cannot
    /// see the slice, FORBIDDEN when they do not administer it) and starts receiving them.
    async fn open(ctx: &Context<'_>, raw_slice_id: &ID, field: &'static str) -> Result<Watch, ApiError> {
        let principal = principal(ctx)?;
        let state = state(ctx)?.clone();
        let slice = access::administered_slice(&state.db, principal, raw_slice_id).await?;
        let receiver = state.events.subscribe();
        let mut watch = Watch::new(state, receiver, principal.session.id, slice.id, field);
        watch.start_version = slice.version;
        Ok(watch)
    }

    /// Wraps a receiver that was subscribed after the caller was authorized for the slice.
    fn new(
        state: AppState,
        receiver: broadcast::Receiver<Arc<Event>>,
        session_id: Uuid,
        slice_id: Uuid,
        field: &'static str,
    ) -> Watch {
        tracing::info!(field, slice_id = %slice_id, session_id = %session_id, "subscription started");
        Watch {
            receiver,
            // The first check runs at once: a session that ended after the
            // operation was authorized but before the bus was subscribed to
            // published its end too early for this receiver.
            recheck: tokio::time::interval(RECHECK_INTERVAL),
            state,
            session_id,
            slice_id,
            start_version: i64::MIN,
            poll_usage: false,
        }
    }

    /// Turns the watch into the subscription's stream: `select` maps each event
    /// of the slice to the item to send, or to `None` to skip it.
    fn into_stream<T, F>(self, select: F) -> impl Stream<Item = T> + use<T, F>
    where
        T: Send + 'static,
        F: FnMut(&Event) -> Option<T> + Send + 'static,
    {
        stream::unfold((self, select), |(mut watch, mut select)| async move {
            loop {
                let event = watch.next_event().await?;
                if let Some(item) = select(&event) {
                    return Some((item, (watch, select)));
                }
            }
        })
    }

    /// Waits for the next event of the slice; `None` ends the subscription
    /// because the subscriber's session ended or lost the right.
    async fn next_event(&mut self) -> Option<Arc<Event>> {
        loop {
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) => {
                        if event.ended_session_id() == Some(self.session_id) {
                            tracing::info!(session_id = %self.session_id, "subscription ended with its session");
                            return None;
                        }
                        if event.slice_id() == Some(self.slice_id) {
                            if let Some(usage) = event.usage() {
                                self.start_version = self.start_version.max(usage.version);
                            }
                            return Some(event);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        // A subscriber this far behind missed events: it gets the
                        // slice's current usage, whose version shows the gap.
                        tracing::warn!(missed, slice_id = %self.slice_id, "subscriber fell behind the event bus; sending the current usage");
                        if let Some(current) = self.current_usage().await {
                            return Some(current);
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.recheck.tick() => {
                    if !self.still_allowed().await {
                        return None;
                    }
                    if self.poll_usage
                        && let Some(current) = self.current_usage().await
                        && current.usage().is_some_and(|usage| usage.version > self.start_version)
                    {
                        return Some(current);
                    }
                }
            }
        }
    }

    /// Computes the slice's usage now, as an event; `None` when that fails (logged).
    async fn current_usage(&self) -> Option<Arc<Event>> {
        let state = &self.state;
        match licensing::current_report(&state.db, self.slice_id, state.clock.now()).await {
            Ok(report) => report.map(|report| Arc::new(Event::Usage(report))),
            Err(error) => {
                tracing::warn!(slice_id = %self.slice_id, error = format!("{error:#}"), "computing the current usage for a lagging subscriber failed");
                None
            }
        }
    }

    /// Tells whether the session is still live and its user still administers the slice.
    async fn still_allowed(&self) -> bool {
        let state = &self.state;
        match sessions::refresh(&state.db, state.clock.as_ref(), &state.sessions, self.session_id).await {
            Ok(Auth::Authenticated(principal)) => principal.administers_slice(self.slice_id),
            Ok(_) => {
                tracing::info!(session_id = %self.session_id, "subscription ended: its session is no longer valid");
                false
            }
            Err(error) => {
                // A database outage does not end the subscription; the next check retries.
                tracing::warn!(error = format!("{error:#}"), "re-checking a subscription's session failed");
                true
            }
        }
    }
}
