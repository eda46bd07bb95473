//! Root subscription fields: live streams of committed events.

use std::{sync::Arc, time::Duration};

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{
    context::{principal, state},
    error::ApiError,
    types::SessionEventNode,
};
use crate::{
    access,
    auth::Auth,
    events::Event,
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
        let principal = principal(ctx)?;
        let state = state(ctx)?.clone();
        let slice = access::administered_slice(&state.db, principal, &slice_id).await?;
        let watch = Watch {
            receiver: state.events.subscribe(),
            recheck: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK_INTERVAL, RECHECK_INTERVAL),
            state,
            session_id: principal.session.id,
            slice_id: slice.id,
        };
        tracing::info!(slice_id = %slice.id, session_id = %watch.session_id, "sessionEvents subscription started");
        Ok(stream::unfold(watch, |mut watch| async move {
            let event = watch.next_event().await?;
            Some((event, watch))
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
}

impl Watch {
    /// Waits for the next session event of the slice; `None` ends the
    /// subscription because the subscriber's session ended or lost the right.
    async fn next_event(&mut self) -> Option<SessionEventNode> {
        loop {
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) => {
                        if event.ended_session_id() == Some(self.session_id) {
                            tracing::info!(session_id = %self.session_id, "subscription ended with its session");
                            return None;
                        }
                        if let Event::Session(session_event) = event.as_ref()
                            && event.slice_id() == Some(self.slice_id)
                        {
                            return Some(SessionEventNode(session_event.clone()));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        // NOTE: a subscriber this far behind misses events; the
                        // next event's version shows the gap to the client.
                        tracing::warn!(missed, slice_id = %self.slice_id, "subscriber fell behind the event bus");
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.recheck.tick() => {
                    if !self.still_allowed().await {
                        return None;
                    }
                }
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
