//! Failed-login counters: account lockout and the per-address limit.
//!
//! Counters are keyed by the name a login typed, not by the account row, so an
//! unknown username locks exactly like a known one and a lockout reveals
//! nothing about which accounts exist. Only wrong passwords count.

use chrono::{DateTime, TimeDelta, Utc};
use entity::login_throttle;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{config::Config, error::AppResult, validation};

/// Limits on wrong passwords, per account and per client address.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub account_threshold: i32,
    pub account_window: TimeDelta,
    pub lockout_duration: TimeDelta,
    pub address_limit: i32,
    pub address_window: TimeDelta,
}

impl ThrottlePolicy {
    pub fn from_config(config: &Config) -> Self {
        let delta = |d: std::time::Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            account_threshold: count(config.account_lockout_threshold),
            account_window: delta(config.account_lockout_window),
            lockout_duration: delta(config.account_lockout_duration),
            address_limit: count(config.address_failure_limit),
            address_window: delta(config.address_failure_window),
        }
    }
}

/// Returns the counter key of an account: the lower-cased slice name (empty
/// for operators) and username.
pub fn account_key(slice_name: Option<&str>, username: &str) -> String {
    let slice = slice_name.map(|name| validation::name_key(name.trim())).unwrap_or_default();
    format!("account:{slice}/{}", validation::name_key(username.trim()))
}

pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// Returns the instant until which logins under `key` are rejected, if that is after `now`.
pub async fn locked_until(db: &impl ConnectionTrait, key: &str, now: DateTime<Utc>) -> AppResult<Option<DateTime<Utc>>> {
    let row = login_throttle::Entity::find_by_id(key.to_owned()).one(db).await?;
    Ok(row.and_then(|row| row.locked_until).filter(|until| *until > now))
}

/// Counts one wrong password under `key`, starting a new window when the
/// current one has passed, and locks the key for `lock_for` once `threshold`
/// failures fall within one window.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
    threshold: i32,
    window: TimeDelta,
    lock_for: TimeDelta,
) -> AppResult<()> {
    use login_throttle::Column;
    let window_passed = Expr::col((login_throttle::Entity, Column::WindowStartedAt)).lte(now - window);
    let insert = login_throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(1),
        window_started_at: Set(now),
        locked_until: Set(None),
    };
    login_throttle::Entity::insert(insert)
        .on_conflict(
            OnConflict::column(Column::Key)
                .value(
                    Column::Failures,
                    Expr::case(window_passed.clone(), 1)
                        .finally(Expr::col((login_throttle::Entity, Column::Failures)).add(1)),
                )
                .value(
                    Column::WindowStartedAt,
                    Expr::case(window_passed, now).finally(Expr::col((login_throttle::Entity, Column::WindowStartedAt))),
                )
                .to_owned(),
        )
        .exec(db)
        .await?;
    login_throttle::Entity::update_many()
        .col_expr(Column::LockedUntil, Some(now + lock_for).into())
        .filter(Column::Key.eq(key))
        .filter(Column::Failures.gte(threshold))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the failures under `key` (after a correct password, or an administrator's unlock).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    login_throttle::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}
