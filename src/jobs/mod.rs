//! The scheduled jobs, wired to tokio-cron-scheduler.
//!
//! Each job is a plain function elsewhere that takes the clock and returns
//! what it did; tests call those functions directly with a moved clock. The
//! scheduler reads the system clock itself and only calls them. It neither
//! backfills missed runs nor coordinates instances: each run first takes the
//! job's lease (see [`lease`]), so of several instances one runs it and the
//! others skip. Jobs stay safe to run late or twice, for a run that outlasts
//! its lease.

pub mod lease;

use std::{fmt::Debug, future::Future, sync::Arc, time::Instant};

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::{config, error::AppResult, history, mail, notices, rollout, sessions, state::AppState};

/// Builds a job that runs `run` on `schedule`. Each run is tracked for
/// shutdown, skipped while the service drains or another instance holds the
/// job's lease, logged with the job's name, its duration and what it did or
/// the error, and recorded in the job metrics.
fn job<F, Fut, T>(state: &AppState, schedule: &str, name: &'static str, run: F) -> Result<Job, JobSchedulerError>
where
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AppResult<T>> + Send + 'static,
    T: Debug + Send + 'static,
{
    let state = state.clone();
    let run = Arc::new(run);
    let cron: Arc<str> = schedule.into();
    Job::new_async(schedule, move |_, _| {
        let state = state.clone();
        let run = run.clone();
        let cron = cron.clone();
        Box::pin(async move {
            let lifecycle = state.lifecycle.clone();
            match lifecycle.track_job(run_once(state, name, cron, run)) {
                Some(tracked) => tracked.await,
                None => tracing::debug!(job = name, "job skipped: the service is shutting down"),
            }
        })
    })
}

/// Runs one run of a job under its lease.
///
/// After the run the lease is kept until just before the job's next scheduled
/// run, so that an instance whose scheduler fires the same run a little later
/// skips it instead of running it again.
async fn run_once<F, Fut, T>(state: AppState, name: &'static str, cron: Arc<str>, run: Arc<F>)
where
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AppResult<T>> + Send + 'static,
    T: Debug + Send + 'static,
{
    let now = state.clock.now();
    let lease_length = chrono::Duration::from_std(state.config.job_lease_duration).unwrap_or(chrono::Duration::minutes(10));
    match lease::acquire(&state.db, name, state.instance_id, now, now + lease_length).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(job = name, "job skipped: another instance holds its lease");
            return;
        }
        Err(error) => {
            tracing::warn!(job = name, error = format!("{error:#}"), "taking the job's lease failed; this run is skipped");
            return;
        }
    }
    let started = Instant::now();
    let result = run(state.clone()).await;
    crate::metrics::record_job_run(name, started.elapsed(), result.is_ok());
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(outcome) => tracing::debug!(job = name, duration_ms, ?outcome, "job finished"),
        Err(error) => tracing::error!(job = name, duration_ms, error = format!("{error:#}"), "job failed"),
    }
    let finished = state.clock.now();
    let release_at = config::next_cron_run(&cron, now)
        .map(|next| next - chrono::Duration::milliseconds(500))
        .filter(|at| *at > finished)
        .unwrap_or(finished);
    if let Err(error) = lease::release(&state.db, name, state.instance_id, release_at).await {
        tracing::warn!(job = name, error = format!("{error:#}"), "releasing the job's lease failed; it expires by itself");
    }
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
    scheduler
        .add(job(state, &config.usage_history_cron, "usage_history", |state| async move {
            history::start_days(&state.db, state.clock.as_ref(), &state.config).await
        })?)
        .await?;
    scheduler
        .add(job(state, &config.renewal_reminder_cron, "renewal_reminders", |state| async move {
            notices::send_renewal_reminders(&state.db, state.clock.as_ref(), &state.config).await
        })?)
        .await?;
    scheduler
        .add(job(state, &config.unused_digest_cron, "unused_digest", |state| async move {
            notices::send_unused_digests(&state.db, state.clock.as_ref(), &state.config).await
        })?)
        .await?;
    tracing::info!(schedule = %config.mail_dispatch_cron, transport = %state.mail.describe(), "mail dispatch scheduled");
    scheduler.start().await?;
    tracing::info!(session_sweep = %config.session_sweep_cron, rollout = %config.rollout_cron, "scheduled jobs started");
    Ok(scheduler)
}
