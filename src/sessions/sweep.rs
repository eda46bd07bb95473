//! Recording the end of expired sessions.

use entity::{SessionEndReason, session};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    clock::Clock,
    db,
    error::AppResult,
    events::{self, EventBus},
};

/// Outcome of one sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Sessions whose end was recorded as EXPIRED.
    pub ended: usize,
    /// Slices (counting operators' sessions as one group) whose sessions ended.
    pub slices: usize,
}

/// Sessions not recorded as ended whose idle or absolute deadline has passed at `now`.
fn expired_condition(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::all().add(session::Column::EndedAt.is_null()).add(
        Condition::any()
            .add(session::Column::IdleExpiresAt.lte(now))
            .add(session::Column::AbsoluteExpiresAt.lte(now)),
    )
}

/// Records the end of every expired session with reason EXPIRED, dated at the
/// deadline that passed, one slice per transaction, and publishes the ENDED
/// events after each commit.
///
/// Usage already treats these sessions as ended from their deadline on; the
/// sweep makes the end visible in the session history and to subscribers, and
/// bumps the slice's version.
#[tracing::instrument(skip_all)]
pub async fn sweep_expired(db: &DatabaseConnection, clock: &dyn Clock, bus: &EventBus) -> AppResult<SweepReport> {
    let now = clock.now();
    let groups: Vec<Option<Uuid>> = session::Entity::find()
        .select_only()
        .column(session::Column::SliceId)
        .distinct()
        .filter(expired_condition(now))
        .into_tuple()
        .all(db)
        .await?;

    let mut report = SweepReport::default();
    for slice_id in groups {
        let txn = db::begin_write(db).await?;
        let mut condition = expired_condition(now);
        match slice_id {
            Some(slice_id) => {
                db::lock_slice(&txn, slice_id).await?;
                condition = condition.add(session::Column::SliceId.eq(slice_id));
            }
            None => condition = condition.add(session::Column::SliceId.is_null()),
        }
        let ids: Vec<Uuid> =
            session::Entity::find().select_only().column(session::Column::Id).filter(condition).into_tuple().all(&txn).await?;
        if ids.is_empty() {
            txn.commit().await?;
            continue;
        }
        let deadline = Expr::case(
            Expr::col(session::Column::IdleExpiresAt).lt(Expr::col(session::Column::AbsoluteExpiresAt)),
            Expr::col(session::Column::IdleExpiresAt),
        )
        .finally(Expr::col(session::Column::AbsoluteExpiresAt));
        session::Entity::update_many()
            .col_expr(session::Column::EndedAt, deadline.into())
            .col_expr(session::Column::EndReason, Some(SessionEndReason::Expired).into())
            .filter(session::Column::Id.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        let ended = session::Entity::find().filter(session::Column::Id.is_in(ids)).all(&txn).await?;
        let events = events::session_changes(&txn, slice_id, None, &ended, now).await?;
        bus.commit(txn, slice_id, events).await?;
        report.ended += ended.len();
        report.slices += 1;
    }
    if report.ended > 0 {
        tracing::info!(ended = report.ended, slices = report.slices, "expired sessions recorded");
    }
    Ok(report)
}
