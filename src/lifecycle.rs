//! The service's shutdown: draining starts on SIGTERM or SIGINT, and the
//! parts that must wind down watch for it.
//!
//! Once draining starts, `/ready` answers 503, GraphQL WebSockets close with
//! 1001 (going away), and scheduled jobs start no new run. Runs already going
//! are tracked, so shutdown can wait for them.

use std::future::Future;

use tokio::sync::watch;
use tokio_util::task::TaskTracker;

/// Shared by every clone of the service state.
#[derive(Clone)]
pub struct Lifecycle {
    draining: watch::Sender<bool>,
    jobs: TaskTracker,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    pub fn new() -> Self {
        Self { draining: watch::Sender::new(false), jobs: TaskTracker::new() }
    }

    /// Starts draining; calling it again changes nothing.
    pub fn begin_drain(&self) {
        self.draining.send_replace(true);
        self.jobs.close();
    }

    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Completes once draining has started (at once if it already has).
    pub fn draining(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.draining.subscribe();
        async move {
            // The sender lives in `self`, which outlives every caller that awaits this;
            // should it be dropped, draining counts as started.
            let _ = receiver.wait_for(|draining| *draining).await;
        }
    }

    /// Runs a scheduled job's run as a tracked task, or returns `None`
    /// without running it once draining has started.
    pub fn track_job<F>(&self, run: F) -> Option<impl Future<Output = F::Output> + Send + 'static>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.is_draining() {
            return None;
        }
        Some(self.jobs.track_future(run))
    }

    /// Completes when draining has started and every tracked job run has finished.
    pub async fn jobs_finished(&self) {
        self.jobs.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn draining_stops_new_runs_and_waits_for_running_ones() {
        let lifecycle = Lifecycle::new();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let running = lifecycle.track_job(async move {
            let _ = released.await;
        });
        let running = tokio::spawn(running.expect("a run starts before draining"));
        lifecycle.begin_drain();
        lifecycle.draining().await;
        assert!(lifecycle.is_draining());
        assert!(lifecycle.track_job(async {}).is_none(), "no run starts while draining");
        let finished = lifecycle.jobs_finished();
        tokio::pin!(finished);
        assert!(futures_util::poll!(&mut finished).is_pending(), "a run is still going");
        release.send(()).unwrap();
        running.await.unwrap();
        finished.await;
    }
}
