//! The rollout: steps VISIBLE, WARN and ENFORCE at set instants, and the
//! modes they give to production slices.
//!
//! The phase is derived from the schedule and the clock, never remembered:
//! it is the last step whose instant has passed (none before VISIBLE). Every
//! production slice whose mode no operator pinned has the phase's mode (OFF
//! before WARN). [`apply`] brings the slices in line and is safe to run late,
//! twice or on several instances at once: each slice changes under its lock
//! and only when its mode differs, so each change is recorded once.

use chrono::{DateTime, Utc};
use entity::{EnforcementMode, RolloutPhase, SliceKind, rollout_schedule, rollout_step, slice};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    access::OperatorProof,
    clock::Clock,
    config::Config,
    db,
    error::{AppError, AppResult},
    events::{self, EventBus},
    mail, slices, users,
};

/// The instants of the three steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub visible_at: DateTime<Utc>,
    pub warn_at: DateTime<Utc>,
    pub enforce_at: DateTime<Utc>,
}

impl Schedule {
    pub fn from_config(config: &Config) -> Self {
        Self { visible_at: config.rollout_visible_at, warn_at: config.rollout_warn_at, enforce_at: config.rollout_enforce_at }
    }

    /// Returns each step with its instant, in order.
    pub fn steps(&self) -> [(RolloutPhase, DateTime<Utc>); 3] {
        [(RolloutPhase::Visible, self.visible_at), (RolloutPhase::Warn, self.warn_at), (RolloutPhase::Enforce, self.enforce_at)]
    }

    /// Returns the last step whose instant is not after `now`, or `None` before VISIBLE.
    pub fn phase_at(&self, now: DateTime<Utc>) -> Option<RolloutPhase> {
        self.steps().into_iter().filter(|(_, at)| *at <= now).map(|(phase, _)| phase).next_back()
    }
}

/// Returns the mode the rollout gives unpinned production slices in a phase.
pub fn mode_for(phase: Option<RolloutPhase>) -> EnforcementMode {
    match phase {
        None | Some(RolloutPhase::Visible) => EnforcementMode::Off,
        Some(RolloutPhase::Warn) => EnforcementMode::Warn,
        Some(RolloutPhase::Enforce) => EnforcementMode::Enforce,
    }
}

/// Loads the schedule an operator stored, or the configured one.
pub async fn schedule(db: &impl ConnectionTrait, config: &Config) -> AppResult<Schedule> {
    Ok(match rollout_schedule::Entity::find_by_id(1).one(db).await? {
        Some(stored) => Schedule { visible_at: stored.visible_at, warn_at: stored.warn_at, enforce_at: stored.enforce_at },
        None => Schedule::from_config(config),
    })
}

/// Returns the mode unpinned production slices have at `now`.
pub async fn current_mode(db: &impl ConnectionTrait, config: &Config, now: DateTime<Utc>) -> AppResult<EnforcementMode> {
    Ok(mode_for(schedule(db, config).await?.phase_at(now)))
}

/// A step of the schedule and when it was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepStatus {
    pub phase: RolloutPhase,
    pub effective_at: DateTime<Utc>,
    /// `None` until the rollout has applied the step at this instant.
    pub applied_at: Option<DateTime<Utc>>,
}

/// Returns the schedule's steps with their application status.
pub async fn steps(db: &impl ConnectionTrait, config: &Config) -> AppResult<Vec<StepStatus>> {
    let schedule = schedule(db, config).await?;
    let applied = rollout_step::Entity::find().all(db).await?;
    Ok(schedule
        .steps()
        .into_iter()
        .map(|(phase, effective_at)| StepStatus {
            phase,
            effective_at,
            applied_at: applied
                .iter()
                .find(|row| row.phase == phase && row.effective_at == effective_at)
                .and_then(|row| row.applied_at),
        })
        .collect())
}

/// Outcome of one run of [`apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloutReport {
    pub phase: Option<RolloutPhase>,
    /// Slices whose mode this run changed.
    pub changed_slices: usize,
    /// Steps this run marked as applied.
    pub applied_steps: Vec<RolloutPhase>,
}

/// Gives every unpinned production slice the current phase's mode and marks
/// the steps that have come due as applied.
#[tracing::instrument(skip_all)]
pub async fn apply(db: &DatabaseConnection, clock: &dyn Clock, bus: &EventBus, config: &Config) -> AppResult<RolloutReport> {
    let now = clock.now();
    let schedule = schedule(db, config).await?;
    let phase = schedule.phase_at(now);
    let mode = mode_for(phase);
    let mut report = RolloutReport { phase, ..RolloutReport::default() };

    let behind: Vec<Uuid> = slice::Entity::find()
        .filter(slice::Column::Kind.eq(SliceKind::Production))
        .filter(slice::Column::ModePinned.eq(false))
        .filter(slice::Column::EnforcementMode.ne(mode))
        .all(db)
        .await?
        .into_iter()
        .map(|slice| slice.id)
        .collect();
    for slice_id in behind {
        let txn = db::begin_write(db).await?;
        let Some(slice) = db::lock_slice(&txn, slice_id).await? else {
            continue;
        };
        // Another run or an operator may have changed the slice meanwhile.
        if slice.mode_pinned || slice.enforcement_mode == mode {
            txn.commit().await?;
            continue;
        }
        let cause = format!("the rollout reached {}", phase_name(phase));
        let mut changes = vec![slices::change_mode(&txn, &slice, mode, None, &cause, now).await?];
        changes.extend(events::usage_changes(&txn, slice.id, now).await?);
        bus.commit(txn, Some(slice.id), changes).await?;
        report.changed_slices += 1;
    }

    for (step, effective_at) in schedule.steps() {
        if effective_at > now {
            continue;
        }
        // The step's row exists before it is locked, so that of two runs on
        // any number of instances only the first marks the step and sends its emails.
        let placeholder = rollout_step::ActiveModel { phase: Set(step), effective_at: Set(effective_at), applied_at: Set(None) };
        rollout_step::Entity::insert(placeholder)
            .on_conflict(OnConflict::column(rollout_step::Column::Phase).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        let txn = db::begin_write(db).await?;
        let existing = rollout_step::Entity::find_by_id(step).lock_exclusive().one(&txn).await?;
        if existing.as_ref().is_some_and(|row| row.effective_at == effective_at && row.applied_at.is_some()) {
            txn.commit().await?;
            continue;
        }
        let row = rollout_step::ActiveModel { phase: Set(step), effective_at: Set(effective_at), applied_at: Set(Some(now)) };
        row.update(&txn).await?;
        if step == RolloutPhase::Visible {
            queue_review_emails(&txn, config, now).await?;
        }
        txn.commit().await?;
        report.applied_steps.push(step);
    }
    if report.changed_slices > 0 || !report.applied_steps.is_empty() {
        tracing::info!(phase = phase_name(phase), changed_slices = report.changed_slices, applied = ?report.applied_steps, "rollout applied");
    }
    Ok(report)
}

/// Stores a new schedule (operators only) and applies it at once. A missing
/// `visible_at` keeps the current one; the three instants must be in order.
#[expect(clippy::too_many_arguments, reason = "the service handles, the proof, the actor and three instants are all distinct")]
pub async fn set_schedule(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    bus: &EventBus,
    config: &Config,
    _operator: OperatorProof,
    actor_id: Uuid,
    visible_at: Option<DateTime<Utc>>,
    warn_at: DateTime<Utc>,
    enforce_at: DateTime<Utc>,
) -> AppResult<Vec<StepStatus>> {
    let current = schedule(db, config).await?;
    let visible_at = visible_at.unwrap_or(current.visible_at);
    if visible_at > warn_at {
        return Err(AppError::bad_input("visibleAt", "must not be after warnAt; steps run VISIBLE, then WARN, then ENFORCE"));
    }
    if warn_at > enforce_at {
        return Err(AppError::bad_input("warnAt", "must not be after enforceAt; steps run VISIBLE, then WARN, then ENFORCE"));
    }
    let now = clock.now();
    let row = rollout_schedule::ActiveModel {
        id: Set(1),
        visible_at: Set(visible_at),
        warn_at: Set(warn_at),
        enforce_at: Set(enforce_at),
        updated_at: Set(now),
        updated_by: Set(Some(actor_id)),
    };
    if rollout_schedule::Entity::find_by_id(1).one(db).await?.is_some() {
        row.update(db).await?;
    } else {
        row.insert(db).await?;
    }
    tracing::info!(%visible_at, %warn_at, %enforce_at, actor_id = %actor_id, "rollout schedule set");
    apply(db, clock, bus, config).await?;
    steps(db, config).await
}

/// Emails the administrators of every staging slice to review the owned
/// counts before enforcement starts.
async fn queue_review_emails(txn: &impl ConnectionTrait, config: &Config, now: DateTime<Utc>) -> AppResult<()> {
    let staging = slice::Entity::find().filter(slice::Column::Kind.eq(SliceKind::Staging)).all(txn).await?;
    for slice in staging {
        let admins = users::admin_addresses(txn, slice.id).await?;
        if admins.is_empty() {
            continue;
        }
        let subject = format!("[{}] Review your owned licenses before enforcement starts", slice.name);
        let lines = [
            mail::Line::text(format!(
                "{} owns {} NAMED and {} CONCURRENT licenses. License usage is now visible; please check these counts before the rollout warns and then enforces.",
                slice.display_name, slice.owned_named_licenses, slice.owned_concurrent_licenses
            )),
            mail::Line::link("Review usage in GraphiQL", "/graphiql"),
        ];
        let body = mail::render(&config.public_base_url, &subject, &lines);
        mail::enqueue(txn, mail::EmailDraft::new(admins, subject, body), now).await?;
    }
    Ok(())
}

fn phase_name(phase: Option<RolloutPhase>) -> &'static str {
    match phase {
        None => "no step",
        Some(RolloutPhase::Visible) => "VISIBLE",
        Some(RolloutPhase::Warn) => "WARN",
        Some(RolloutPhase::Enforce) => "ENFORCE",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, day, 0, 0, 0).unwrap()
    }

    #[test]
    fn phase_is_last_passed_step() {
        let schedule = Schedule { visible_at: at(10), warn_at: at(20), enforce_at: at(30) };
        assert_eq!(schedule.phase_at(at(9)), None);
        assert_eq!(schedule.phase_at(at(10)), Some(RolloutPhase::Visible));
        assert_eq!(schedule.phase_at(at(25)), Some(RolloutPhase::Warn));
        assert_eq!(schedule.phase_at(at(30)), Some(RolloutPhase::Enforce));
    }

    #[test]
    fn modes_follow_phases() {
        assert_eq!(mode_for(None), EnforcementMode::Off);
        assert_eq!(mode_for(Some(RolloutPhase::Visible)), EnforcementMode::Off);
        assert_eq!(mode_for(Some(RolloutPhase::Warn)), EnforcementMode::Warn);
        assert_eq!(mode_for(Some(RolloutPhase::Enforce)), EnforcementMode::Enforce);
    }
}
