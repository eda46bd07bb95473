//! Password login: throttles, then the password, then one transaction that
//! decides and writes.

use std::collections::HashSet;

use entity::{Channel, EnforcementMode, LicenseType, Role, SessionEndReason, session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{SessionPolicy, end_sessions, live_condition, new_session, throttle};
use crate::{
    auth::{PasswordHasher, SessionToken},
    clock::Clock,
    db,
    error::{AppError, AppResult},
    events::{self, Event, EventBus},
    licensing::{self, Decision, Subject},
    slices, validation,
};

/// Maximum length of the user agent stored with a session, in characters.
const MAX_USER_AGENT_CHARS: usize = 512;

/// A login attempt as the client sent it.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// The slice's name; `None` or empty for operators.
    pub slice: Option<String>,
    pub username: String,
    pub password: String,
    pub channel: Channel,
    pub user_agent: Option<String>,
    pub client_address: Option<String>,
    /// Live WEB sessions of this user to end in the same transaction, after a
    /// [`LoginOutcome::SessionLimitReached`].
    pub end_session_ids: Vec<String>,
}

/// Reason a login with well-formed input did not start a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    InvalidCredentials,
    UserInactive,
    ChannelNotAllowed,
    AccountLocked,
    TooManyAttempts,
}

/// A condition a successful login reports to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginWarning {
    /// WARN mode let this login take a CONCURRENT seat that ENFORCE would have refused.
    WouldBeBlockedWhenEnforced { in_use: u64, owned: u64 },
    /// The slice uses more NAMED or CONCURRENT licenses than it owns; told to administrators.
    SliceOverLicenseLimit,
}

/// The result of a login attempt that was well-formed.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one value per login, moved once")]
pub enum LoginOutcome {
    Success { token: SessionToken, session: session::Model, user: user::Model, warnings: Vec<LoginWarning> },
    /// ENFORCE refused a CONCURRENT seat; the LOGIN_BLOCKED event is committed.
    LicenseUnavailable { owned: u64, in_use: u64 },
    /// The user already holds the maximum of live WEB sessions; nothing was written.
    SessionLimitReached { sessions: Vec<session::Model>, max_web_sessions: usize },
    Rejected(RejectReason),
}

/// Logs a user in.
///
/// Locked accounts and addresses are rejected before any password check. The
/// password is verified before any transaction starts (Argon2 is slow and
/// must not hold a lock), and an unknown account costs the same verification
/// as a known one. USER_INACTIVE is only returned after a correct password.
/// The web-session limit, the ending of `end_session_ids` and the insert of
/// the new session happen in one transaction that serializes on the slice, so
/// simultaneous logins of one user never leave more than the limit live.
#[tracing::instrument(skip_all, fields(slice = request.slice.as_deref().unwrap_or(""), channel = ?request.channel, user_id))]
pub async fn login(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    hasher: &PasswordHasher,
    policy: &SessionPolicy,
    bus: &EventBus,
    request: LoginRequest,
) -> AppResult<LoginOutcome> {
    let input = validate(&request)?;
    let now = clock.now();
    let account_key = throttle::account_key(input.slice_name.as_deref(), &input.username);
    let address_key = request.client_address.as_deref().map(throttle::address_key);

    if let Some(key) = &address_key
        && throttle::locked_until(db, key, now).await?.is_some()
    {
        tracing::warn!(client_address = request.client_address.as_deref(), "login rejected: too many failed logins from this address");
        return Ok(LoginOutcome::Rejected(RejectReason::TooManyAttempts));
    }
    if throttle::locked_until(db, &account_key, now).await?.is_some() {
        tracing::info!("login rejected: account locked after failed logins");
        return Ok(LoginOutcome::Rejected(RejectReason::AccountLocked));
    }

    let account = find_account(db, input.slice_name.as_deref(), &input.username).await?;
    let verified = hasher.verify(&request.password, account.as_ref().map(|u| u.password_hash.as_str())).await?;
    let Some(account) = account.filter(|_| verified) else {
        let limits = policy.throttle;
        throttle::record_failure(db, &account_key, now, limits.account_threshold, limits.account_window, limits.lockout_duration)
            .await?;
        if let Some(key) = &address_key {
            throttle::record_failure(db, key, now, limits.address_limit, limits.address_window, limits.address_window).await?;
        }
        tracing::info!("login rejected: invalid credentials");
        return Ok(LoginOutcome::Rejected(RejectReason::InvalidCredentials));
    };
    tracing::Span::current().record("user_id", tracing::field::display(account.id));
    throttle::clear(db, &account_key).await?;
    if !account.active {
        tracing::info!("login rejected: user inactive");
        return Ok(LoginOutcome::Rejected(RejectReason::UserInactive));
    }
    if account.license_type == Some(LicenseType::WebServices) && request.channel != Channel::Api {
        tracing::info!("login rejected: WEB_SERVICES users log in on the API channel only");
        return Ok(LoginOutcome::Rejected(RejectReason::ChannelNotAllowed));
    }

    let txn = db::begin_write(db).await?;
    let slice = match account.slice_id {
        Some(slice_id) => db::lock_slice(&txn, slice_id).await?,
        None => None,
    };
    // Decisions under the lock read the clock again, so that the instants they
    // record follow the order in which the slice's transactions commit.
    let now = clock.now();
    // The account may have changed while the password was being verified.
    let Some(account) = user::Entity::find_by_id(account.id).one(&txn).await? else {
        return Ok(LoginOutcome::Rejected(RejectReason::InvalidCredentials));
    };
    if !account.active {
        return Ok(LoginOutcome::Rejected(RejectReason::UserInactive));
    }

    let mut live_web = live_web_sessions(&txn, account.id, now).await?;
    // A user with a live WEB session already holds a seat; ending some of
    // those sessions to make room keeps it.
    let holds_seat = !live_web.is_empty();
    let mut replaced = Vec::new();
    if !input.end_session_ids.is_empty() {
        let live_ids: HashSet<Uuid> = live_web.iter().map(|s| s.id).collect();
        if let Some(unknown) = input.end_session_ids.iter().find(|id| !live_ids.contains(id)) {
            return Err(AppError::bad_input(
                "input.endSessionIds",
                format!(
                    "{unknown} is not one of your live WEB sessions; repeat the login without endSessionIds to see them"
                ),
            ));
        }
        let ids: Vec<Uuid> = input.end_session_ids.iter().copied().collect();
        replaced =
            end_sessions(&txn, Condition::all().add(session::Column::Id.is_in(ids)), SessionEndReason::Replaced, now).await?;
        live_web.retain(|s| !input.end_session_ids.contains(&s.id));
    }

    let limited = request.channel == Channel::Web
        && matches!(account.license_type, Some(LicenseType::Named | LicenseType::Concurrent))
        && slice.as_ref().is_some_and(|s| s.enforcement_mode != EnforcementMode::Off);
    if limited && live_web.len() >= policy.max_web_sessions {
        // Rolling back leaves any sessions named in endSessionIds live, because
        // ending them did not make room for the new one.
        txn.rollback().await?;
        tracing::info!(live_web_sessions = live_web.len(), "login stopped: web-session limit reached");
        return Ok(LoginOutcome::SessionLimitReached { sessions: live_web, max_web_sessions: policy.max_web_sessions });
    }

    let mut warnings = Vec::new();
    let mut decision_events = Vec::new();
    let needs_seat = request.channel == Channel::Web && account.license_type == Some(LicenseType::Concurrent) && !holds_seat;
    if let (true, Some(slice)) = (needs_seat, &slice) {
        let subject = Subject { user_id: Some(account.id), username: &account.username, actor_id: None };
        match licensing::decide_seat(&txn, slice, subject, now).await? {
            Decision::Refused { owned, in_use, event } => {
                bus.commit(txn, Some(slice.id), vec![Event::Compliance(event)]).await?;
                tracing::info!(owned, in_use, "login rejected: no CONCURRENT seat is free");
                return Ok(LoginOutcome::LicenseUnavailable { owned, in_use });
            }
            Decision::Allowed { would_be_blocked: Some(event) } => {
                warnings.push(LoginWarning::WouldBeBlockedWhenEnforced {
                    in_use: event.in_use.map_or(0, |n| n as u64),
                    owned: event.owned.map_or(0, |n| n as u64),
                });
                decision_events.push(Event::Compliance(event));
            }
            Decision::Allowed { would_be_blocked: None } => {}
        }
    }

    let token = SessionToken::generate();
    let session = new_session(&account, request.channel, token.hash.clone(), now, policy, request.client_address, input.user_agent)
        .insert(&txn)
        .await?;
    let mut model: user::ActiveModel = account.into();
    model.last_login_at = Set(Some(now));
    let account = model.update(&txn).await?;
    let mut events = events::session_changes(&txn, account.slice_id, Some(&session), &replaced, now).await?;
    let over_limit = events.iter().filter_map(Event::usage).any(|usage| !usage.compliant);
    if account.role == Role::Admin && over_limit {
        warnings.push(LoginWarning::SliceOverLicenseLimit);
    }
    events.extend(decision_events);
    bus.commit(txn, account.slice_id, events).await?;
    tracing::info!(session_id = %session.id, replaced_sessions = replaced.len(), "login succeeded");
    Ok(LoginOutcome::Success { token, session, user: account, warnings })
}

/// The checked parts of a login request.
struct ValidLogin {
    slice_name: Option<String>,
    username: String,
    user_agent: Option<String>,
    end_session_ids: HashSet<Uuid>,
}

fn validate(request: &LoginRequest) -> AppResult<ValidLogin> {
    let username = request.username.trim();
    if username.is_empty() {
        return Err(AppError::bad_input("input.username", "must not be blank"));
    }
    if username.chars().count() > validation::MAX_NAME_CHARS {
        return Err(AppError::bad_input("input.username", format!("must be at most {} characters", validation::MAX_NAME_CHARS)));
    }
    if request.password.is_empty() {
        return Err(AppError::bad_input("input.password", "must not be empty"));
    }
    if request.password.chars().count() > validation::MAX_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            "input.password",
            format!("must be at most {} characters", validation::MAX_PASSWORD_CHARS),
        ));
    }
    let slice_name = request.slice.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if slice_name.is_some_and(|s| s.chars().count() > validation::MAX_NAME_CHARS) {
        return Err(AppError::bad_input("input.slice", format!("must be at most {} characters", validation::MAX_NAME_CHARS)));
    }
    let mut end_session_ids = HashSet::new();
    for raw in &request.end_session_ids {
        let id = Uuid::parse_str(raw.trim()).map_err(|_| {
            AppError::bad_input(
                "input.endSessionIds",
                format!("`{raw}` is not a session id; pass ids from the SessionLimitReached answer"),
            )
        })?;
        end_session_ids.insert(id);
    }
    let user_agent = request
        .user_agent
        .as_deref()
        .map(str::trim)
        .filter(|ua| !ua.is_empty())
        .map(|ua| ua.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect::<String>());
    Ok(ValidLogin { slice_name: slice_name.map(str::to_owned), username: username.to_owned(), user_agent, end_session_ids })
}

/// Loads the live WEB sessions of a user, oldest first.
async fn live_web_sessions(
    txn: &DatabaseTransaction,
    user_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Channel.eq(Channel::Web))
        .filter(live_condition(now))
        .order_by_asc(session::Column::StartedAt)
        .order_by_asc(session::Column::Id)
        .all(txn)
        .await?)
}

/// Finds the account a login names: an operator when no slice is given,
/// otherwise a user of the named slice. Names match regardless of letter case.
async fn find_account(db: &DatabaseConnection, slice_name: Option<&str>, username: &str) -> AppResult<Option<user::Model>> {
    let key = validation::name_key(username);
    let query = match slice_name {
        None => user::Entity::find()
            .filter(user::Column::SliceId.is_null())
            .filter(user::Column::Role.eq(Role::Operator)),
        Some(name) => {
            let Some(slice) = slices::find_by_name(db, name).await? else {
                return Ok(None);
            };
            user::Entity::find().filter(user::Column::SliceId.eq(slice.id))
        }
    };
    Ok(query.filter(user::Column::UsernameKey.eq(key)).one(db).await?)
}
