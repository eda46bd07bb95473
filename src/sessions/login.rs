//! Password login: verify first, then decide and write in one transaction.

use entity::{Channel, LicenseType, Role, session, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{SessionPolicy, new_session};
use crate::{
    auth::{PasswordHasher, SessionToken},
    clock::Clock,
    db,
    error::{AppError, AppResult},
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
}

/// Reason a login with well-formed input did not start a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    InvalidCredentials,
    UserInactive,
    ChannelNotAllowed,
}

/// The result of a login attempt that was well-formed.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one value per login, moved once")]
pub enum LoginOutcome {
    Success { token: SessionToken, session: session::Model, user: user::Model },
    Rejected(RejectReason),
}

/// Logs a user in.
///
/// The password is verified before any transaction starts (Argon2 is slow and
/// must not hold a lock), and an unknown account costs the same verification
/// as a known one. USER_INACTIVE is only returned after a correct password.
#[tracing::instrument(skip_all, fields(slice = request.slice.as_deref().unwrap_or(""), channel = ?request.channel, user_id))]
pub async fn login(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    hasher: &PasswordHasher,
    policy: &SessionPolicy,
    request: LoginRequest,
) -> AppResult<LoginOutcome> {
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
    let user_agent = request
        .user_agent
        .as_deref()
        .map(str::trim)
        .filter(|ua| !ua.is_empty())
        .map(|ua| ua.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect::<String>());

    let account = find_account(db, slice_name, username).await?;
    let verified = hasher.verify(&request.password, account.as_ref().map(|u| u.password_hash.as_str())).await?;
    let Some(account) = account.filter(|_| verified) else {
        tracing::info!("login rejected: invalid credentials");
        return Ok(LoginOutcome::Rejected(RejectReason::InvalidCredentials));
    };
    tracing::Span::current().record("user_id", tracing::field::display(account.id));
    if !account.active {
        tracing::info!("login rejected: user inactive");
        return Ok(LoginOutcome::Rejected(RejectReason::UserInactive));
    }
    if account.license_type == Some(LicenseType::WebServices) && request.channel != Channel::Api {
        tracing::info!("login rejected: WEB_SERVICES users log in on the API channel only");
        return Ok(LoginOutcome::Rejected(RejectReason::ChannelNotAllowed));
    }

    let now = clock.now();
    let txn = db::begin_write(db).await?;
    if let Some(slice_id) = account.slice_id {
        db::lock_slice(&txn, slice_id).await?;
    }
    // The account may have changed while the password was being verified.
    let Some(account) = user::Entity::find_by_id(account.id).one(&txn).await? else {
        return Ok(LoginOutcome::Rejected(RejectReason::InvalidCredentials));
    };
    if !account.active {
        return Ok(LoginOutcome::Rejected(RejectReason::UserInactive));
    }
    let token = SessionToken::generate();
    let session = new_session(&account, request.channel, token.hash.clone(), now, policy, request.client_address, user_agent)
        .insert(&txn)
        .await?;
    let mut model: user::ActiveModel = account.into();
    model.last_login_at = Set(Some(now));
    let account = model.update(&txn).await?;
    if let Some(slice_id) = account.slice_id {
        slices::bump_version(&txn, slice_id).await?;
    }
    txn.commit().await?;
    tracing::info!(session_id = %session.id, "login succeeded");
    Ok(LoginOutcome::Success { token, session, user: account })
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
