//! Sessions: login, token lookup, activity, logout and ending sessions.

mod login;
mod policy;
mod list;
mod manage;
mod sweep;
pub mod throttle;

use chrono::{DateTime, Utc};
use entity::{SessionEndReason, session, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub use login::{LoginOutcome, LoginRequest, LoginWarning, RejectReason, login};
pub use list::{SessionFilter, list};
pub use sweep::{SweepReport, sweep_expired};
pub use manage::{change_password, end_session, end_user_sessions, locked_until, unlock};
pub use policy::SessionPolicy;

use crate::{
    auth::{Auth, Principal, hash_token},
    clock::Clock,
    db,
    error::{AppError, AppResult},
    events::{self, EventBus},
};

/// Sessions that are live at `now`: not ended, and both deadlines after `now`.
///
/// `now` comes from the service's clock, never the database's, so an expired
/// session stops counting the instant its deadline passes, whether or not its
/// end has been recorded yet.
pub fn live_condition(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(session::Column::EndedAt.is_null())
        .add(session::Column::IdleExpiresAt.gt(now))
        .add(session::Column::AbsoluteExpiresAt.gt(now))
}

/// Tells whether a loaded session is live at `now`.
pub fn is_live(session: &session::Model, now: DateTime<Utc>) -> bool {
    session.ended_at.is_none() && session.idle_expires_at > now && session.absolute_expires_at > now
}

/// Resolves a bearer token to its caller, and records the activity, writing
/// the new last-seen instant at most once per throttle interval.
pub async fn authenticate(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    policy: &SessionPolicy,
    token: &str,
) -> AppResult<Auth> {
    let now = clock.now();
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((session, Some(user))) = found else {
        return Ok(Auth::Rejected);
    };
    touch(db, policy, session, user, now).await
}

/// Re-checks the session behind a long-lived connection (a subscription) and
/// records the activity like a request would, so an open dashboard keeps its
/// session from idling out. Returns [`Auth::Rejected`] once the session has
/// ended or expired or its user is inactive.
pub async fn refresh(db: &DatabaseConnection, clock: &dyn Clock, policy: &SessionPolicy, session_id: Uuid) -> AppResult<Auth> {
    let found = session::Entity::find_by_id(session_id).find_also_related(user::Entity).one(db).await?;
    let Some((session, Some(user))) = found else {
        return Ok(Auth::Rejected);
    };
    touch(db, policy, session, user, clock.now()).await
}

/// Accepts a live session of an active user and writes its activity, at most
/// once per throttle interval.
async fn touch(
    db: &DatabaseConnection,
    policy: &SessionPolicy,
    mut session: session::Model,
    user: user::Model,
    now: DateTime<Utc>,
) -> AppResult<Auth> {
    if !is_live(&session, now) || !user.active {
        return Ok(Auth::Rejected);
    }
    let timeouts = policy.for_channel(session.channel);
    if now - session.last_seen_at >= timeouts.activity_write_interval() {
        let idle_expires_at = now + timeouts.idle;
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, now.into())
            .col_expr(session::Column::IdleExpiresAt, idle_expires_at.into())
            .filter(session::Column::Id.eq(session.id))
            .filter(session::Column::EndedAt.is_null())
            .exec(db)
            .await?;
        session.last_seen_at = now;
        session.idle_expires_at = idle_expires_at;
    }
    Ok(Auth::Authenticated(Box::new(Principal { user, session })))
}

/// Ends the session that sent the request.
#[tracing::instrument(skip_all, fields(session_id = %principal.session.id, user_id = %principal.user.id))]
pub async fn logout(db: &DatabaseConnection, clock: &dyn Clock, bus: &EventBus, principal: &Principal) -> AppResult<bool> {
    let now = clock.now();
    let slice_id = principal.session.slice_id;
    let txn = db::begin_write(db).await?;
    if let Some(slice_id) = slice_id {
        db::lock_slice(&txn, slice_id).await?;
    }
    let condition = Condition::all().add(session::Column::Id.eq(principal.session.id));
    let ended = end_sessions(&txn, condition, SessionEndReason::Logout, now).await?;
    let events = events::session_changes(&txn, slice_id, None, &ended, now).await?;
    bus.commit(txn, slice_id, events).await?;
    tracing::info!("logged out");
    Ok(!ended.is_empty())
}

/// Records the end of every live session of a user; returns the ended sessions.
pub async fn end_live_sessions_of_user(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    reason: SessionEndReason,
    now: DateTime<Utc>,
) -> AppResult<Vec<session::Model>> {
    end_sessions(txn, Condition::all().add(session::Column::UserId.eq(user_id)), reason, now).await
}

/// Records the end of the live sessions matching `condition`, and returns them as ended.
async fn end_sessions(
    txn: &impl ConnectionTrait,
    condition: Condition,
    reason: SessionEndReason,
    now: DateTime<Utc>,
) -> AppResult<Vec<session::Model>> {
    let ids: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(condition)
        .filter(live_condition(now))
        .into_tuple()
        .all(txn)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Some(now).into())
        .col_expr(session::Column::EndReason, Some(reason).into())
        .filter(session::Column::Id.is_in(ids.clone()))
        .exec(txn)
        .await?;
    Ok(session::Entity::find().filter(session::Column::Id.is_in(ids)).all(txn).await?)
}

/// Lists a user's sessions, newest first.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    live_only: bool,
    first: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<session::Model>> {
    let mut query = session::Entity::find().filter(session::Column::UserId.eq(user_id));
    if live_only {
        query = query.filter(live_condition(now));
    }
    Ok(query
        .order_by_desc(session::Column::StartedAt)
        .order_by_desc(session::Column::Id)
        .limit(first)
        .all(db)
        .await?)
}

/// Loads the user a session belongs to.
pub async fn owner(db: &impl ConnectionTrait, session: &session::Model) -> AppResult<user::Model> {
    user::Entity::find_by_id(session.user_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("session {} has no user", session.id)))
}

/// The active model of a new session, used by login.
fn new_session(
    user: &user::Model,
    channel: entity::Channel,
    token_hash: String,
    now: DateTime<Utc>,
    policy: &SessionPolicy,
    client_address: Option<String>,
    user_agent: Option<String>,
) -> session::ActiveModel {
    let timeouts = policy.for_channel(channel);
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        slice_id: Set(user.slice_id),
        channel: Set(channel),
        token_hash: Set(token_hash),
        started_at: Set(now),
        last_seen_at: Set(now),
        idle_expires_at: Set(now + timeouts.idle),
        absolute_expires_at: Set(now + timeouts.lifetime),
        ended_at: Set(None),
        end_reason: Set(None),
        client_address: Set(client_address),
        user_agent: Set(user_agent),
    }
}
