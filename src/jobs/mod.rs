//! The scheduled jobs, wired to tokio-cron-scheduler.
//!
//! Each job is a plain function elsewhere that takes the clock and returns
//! what it did; tests call those functions directly with a moved clock. The
//! scheduler reads the system clock itself and only calls them. It neither
//! backfills missed runs nor coordinates instances, so every job must be safe
//! to run late, twice or concurrently.

use std::time::Instant;

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::{sessions, state::AppState};

/// Creates the scheduler with every job and starts it.
pub async fn start(state: &AppState) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let sweep_state = state.clone();
    let sweep = Job::new_async(state.config.session_sweep_cron.as_str(), move |_, _| {
        let state = sweep_state.clone();
        Box::pin(async move {
            let started = Instant::now();
            match sessions::sweep_expired(&state.db, state.clock.as_ref(), &state.events).await {
                Ok(report) => tracing::debug!(
                    job = "session_sweep",
                    ended = report.ended,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "job finished"
                ),
                Err(error) => tracing::error!(job = "session_sweep", error = format!("{error:#}"), "job failed"),
            }
        })
    })?;
    scheduler.add(sweep).await?;
    scheduler.start().await?;
    tracing::info!(session_sweep = %state.config.session_sweep_cron, "scheduled jobs started");
    Ok(scheduler)
}
