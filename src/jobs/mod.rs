//! The scheduled jobs, wired to tokio-cron-scheduler.
//!
//! Each job is a plain function elsewhere that takes the clock and returns
//! what it did; tests call those functions directly with a moved clock. The
//! scheduler reads the system clock itself and only calls them. It neither
//! backfills missed runs nor coordinates instances, so every job must be safe
//! to run late, twice or concurrently.

use std::{fmt::Debug, future::Future, time::Instant};

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::{error::AppResult, mail, rollout, sessions, state::AppState};

/// Builds a job that runs `run` on `schedule` and logs each run with the job's
/// name, its duration and what it did, or the error.
fn job<F, Fut, T>(state: &AppState, schedule: &str, name: &'static str, run: F) -> Result<Job, JobSchedulerError>
where
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AppResult<T>> + Send + 'static,
    T: Debug,
{
    let state = state.clone();
    let run = std::sync::Arc::new(run);
    Job::new_async(schedule, move |_, _| {
        let state = state.clone();
        let run = run.clone();
        Box::pin(async move {
            let started = Instant::now();
            let result = run(state).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(outcome) => tracing::debug!(job = name, duration_ms, ?outcome, "job finished"),
                Err(error) => tracing::error!(job = name, duration_ms, error = format!("{error:#}"), "job failed"),
            }
        })
    })
}

/// Creates the scheduler with every job and starts it.
pub async fn start(state: &AppState) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let config = state.config.clone();
    scheduler
        .add(job(state, &config.session_sweep_cron, "session_sweep", |state| async move {
            sessions::sweep_expired(&state.db, state.clock.as_ref(), &state.events).await
        })?)
        .await?;
    scheduler
        .add(job(state, &config.rollout_cron, "rollout", |state| async move {
            rollout::apply(&state.db, state.clock.as_ref(), &state.events, &state.config).await
        })?)
        .await?;
    scheduler
        .add(job(state, &config.mail_dispatch_cron, "mail_dispatch", |state| async move {
            mail::dispatch_pending(&state.db, state.clock.as_ref(), &state.mail).await
        })?)
        .await?;
    tracing::info!(schedule = %config.mail_dispatch_cron, transport = %state.mail.describe(), "mail dispatch scheduled");
    scheduler.start().await?;
    tracing::info!(session_sweep = %config.session_sweep_cron, rollout = %config.rollout_cron, "scheduled jobs started");
    Ok(scheduler)
}
