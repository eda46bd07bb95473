//! Ending sessions on request, changing passwords and lifting lockouts.

use entity::{SessionEndReason, session, slice, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait};

use super::{SessionPolicy, end_live_sessions_of_user, end_sessions, throttle};
use crate::{
    access::{self, Administered},
    auth::{PasswordHasher, Principal},
    clock::Clock,
    db,
    error::{AppError, AppResult},
    events::{self, EventBus},
    validation,
};

/// Ends one session: the caller's own (ENDED_BY_USER), or any session of a
/// slice the caller administers (ENDED_BY_ADMIN). Other sessions are not found.
/// Ending a session that already ended changes nothing and returns it as it is.
#[tracing::instrument(skip_all, fields(actor_id = %principal.user.id, session_id = raw_id))]
pub async fn end_session(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    bus: &EventBus,
    principal: &Principal,
    raw_id: &str,
) -> AppResult<session::Model> {
    let id = access::parse_id(raw_id, "session")?;
    let found = session::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound { what: "session" })?;
    let own = found.user_id == principal.user.id;
    let administered = found.slice_id.is_some_and(|slice_id| principal.administers_slice(slice_id))
        || (principal.is_operator() && found.slice_id.is_none());
    if !own && !administered {
        return Err(AppError::NotFound { what: "session" });
    }
    let reason = if own { SessionEndReason::EndedByUser } else { SessionEndReason::EndedByAdmin };

    let now = clock.now();
    let txn = db::begin_write(db).await?;
    if let Some(slice_id) = found.slice_id {
        db::lock_slice(&txn, slice_id).await?;
    }
    let ended = end_sessions(&txn, Condition::all().add(session::Column::Id.eq(id)), reason, now).await?;
    let events = events::session_changes(&txn, found.slice_id, None, &ended, now).await?;
    let current = session::Entity::find_by_id(id).one(&txn).await?.ok_or(AppError::NotFound { what: "session" })?;
    bus.commit(txn, found.slice_id, events).await?;
    if !ended.is_empty() {
        tracing::info!(?reason, "session ended");
    }
    Ok(current)
}

/// Ends every live session of a user the caller administers; returns how many ended.
#[tracing::instrument(skip_all, fields(actor_id = %principal.user.id, user_id = %target.id))]
pub async fn end_user_sessions(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    bus: &EventBus,
    principal: &Principal,
    target: Administered<user::Model>,
) -> AppResult<u64> {
    let now = clock.now();
    let txn = db::begin_write(db).await?;
    if let Some(slice_id) = target.slice_id {
        db::lock_slice(&txn, slice_id).await?;
    }
    let ended = end_live_sessions_of_user(&txn, target.id, SessionEndReason::EndedByAdmin, now).await?;
    let events = events::session_changes(&txn, target.slice_id, None, &ended, now).await?;
    bus.commit(txn, target.slice_id, events).await?;
    tracing::info!(ended_sessions = ended.len(), "user's sessions ended by an administrator");
    Ok(ended.len() as u64)
}

/// Changes the caller's password after checking the current one, and ends the
/// caller's other live sessions (PASSWORD_CHANGED). A wrong current password
/// is invalid input on `currentPassword`.
#[tracing::instrument(skip_all, fields(user_id = %principal.user.id))]
#[expect(clippy::too_many_arguments, reason = "the service handles, the caller and the two passwords are all distinct")]
pub async fn change_password(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    hasher: &PasswordHasher,
    policy: &SessionPolicy,
    bus: &EventBus,
    principal: &Principal,
    current_password: &str,
    new_password: &str,
) -> AppResult<u64> {
    validation::new_password("newPassword", new_password)?;
    // Wrong current passwords count like failed logins, so a stolen token
    // cannot be used to guess the password.
    let account_key = account_key_of(db, &principal.user).await?;
    if throttle::locked_until(db, &account_key, clock.now()).await?.is_some() {
        return Err(AppError::forbidden(
            "this account is locked after repeated wrong passwords; try again later or ask an administrator to unlock it",
        ));
    }
    if current_password.chars().count() > validation::MAX_PASSWORD_CHARS
        || !hasher.verify(current_password, Some(&principal.user.password_hash)).await?
    {
        let limits = policy.throttle;
        throttle::record_failure(
            db,
            &account_key,
            clock.now(),
            limits.account_threshold,
            limits.account_window,
            limits.lockout_duration,
        )
        .await?;
        tracing::info!("password change rejected: wrong current password");
        return Err(AppError::bad_input("currentPassword", "is not your current password"));
    }
    if current_password == new_password {
        return Err(AppError::bad_input("newPassword", "must differ from the current password"));
    }
    let password_hash = hasher.hash(new_password).await?;

    let now = clock.now();
    let txn = db::begin_write(db).await?;
    if let Some(slice_id) = principal.user.slice_id {
        db::lock_slice(&txn, slice_id).await?;
    }
    let account = user::Entity::find_by_id(principal.user.id).one(&txn).await?.ok_or(AppError::Unauthenticated)?;
    let mut model: user::ActiveModel = account.into();
    model.password_hash = Set(password_hash);
    model.updated_at = Set(now);
    model.update(&txn).await?;
    let others = Condition::all()
        .add(session::Column::UserId.eq(principal.user.id))
        .add(session::Column::Id.ne(principal.session.id));
    let ended = end_sessions(&txn, others, SessionEndReason::PasswordChanged, now).await?;
    let events = events::session_changes(&txn, principal.user.slice_id, None, &ended, now).await?;
    bus.commit(txn, principal.user.slice_id, events).await?;
    tracing::info!(ended_sessions = ended.len(), "password changed");
    Ok(ended.len() as u64)
}

/// Returns the failed-login counter key of an account.
pub async fn account_key_of(db: &DatabaseConnection, account: &user::Model) -> AppResult<String> {
    let slice_name = match account.slice_id {
        Some(slice_id) => slice::Entity::find_by_id(slice_id).one(db).await?.map(|slice| slice.name_key),
        None => None,
    };
    Ok(throttle::account_key(slice_name.as_deref(), &account.username_key))
}

/// Returns the instant until which the account's logins are rejected after failed logins.
pub async fn locked_until(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    account: &user::Model,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    let key = account_key_of(db, account).await?;
    throttle::locked_until(db, &key, clock.now()).await
}

/// Lifts a lockout caused by failed logins and clears the failure count.
#[tracing::instrument(skip_all, fields(user_id = %target.id))]
pub async fn unlock(db: &DatabaseConnection, target: &Administered<user::Model>) -> AppResult<()> {
    let key = account_key_of(db, target).await?;
    throttle::clear(db, &key).await?;
    tracing::info!("account unlocked");
    Ok(())
}
