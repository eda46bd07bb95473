//! Leases that let one instance at a time run each scheduled job.
//!
//! tokio-cron-scheduler fires every job on every instance. Before a run, the
//! instance takes the job's lease row: it inserts it, or takes it over when
//! the lease has expired or is already its own. Each step is one statement,
//! so two instances cannot both succeed. An instance that does not get the
//! lease skips the run. The holder keeps the lease until just before the
//! job's next scheduled run, so a scheduler that fires the same run a moment
//! later elsewhere skips it. A lease expires after `job_lease_duration`, so a
//! crashed holder delays the job by at most that long. Jobs stay safe to run
//! twice, for a run that outlasts its lease.

use chrono::{DateTime, Utc};
use entity::job_lease;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::error::AppResult;

/// Takes the lease of `job` for `holder` until `expires_at`, and returns whether it did.
pub async fn acquire(
    db: &impl ConnectionTrait,
    job: &str,
    holder: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> AppResult<bool> {
    let row = job_lease::ActiveModel { job: Set(job.to_owned()), holder: Set(holder), expires_at: Set(expires_at) };
    let inserted = job_lease::Entity::insert(row)
        .on_conflict(OnConflict::column(job_lease::Column::Job).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted == 1 {
        return Ok(true);
    }
    let taken = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::Holder, Expr::value(holder))
        .col_expr(job_lease::Column::ExpiresAt, Expr::value(expires_at))
        .filter(job_lease::Column::Job.eq(job))
        .filter(Condition::any().add(job_lease::Column::ExpiresAt.lte(now)).add(job_lease::Column::Holder.eq(holder)))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Ends `holder`'s lease of `job` at `until`, after which the next run on any instance may take it.
pub async fn release(db: &impl ConnectionTrait, job: &str, holder: Uuid, until: DateTime<Utc>) -> AppResult<()> {
    job_lease::Entity::update_many()
        .col_expr(job_lease::Column::ExpiresAt, Expr::value(until))
        .filter(job_lease::Column::Job.eq(job))
        .filter(job_lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}
