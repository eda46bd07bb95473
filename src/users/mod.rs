//! Accounts: creating and changing slice users, and creating operators.

mod admins;
mod list;

use entity::{Edition, LicenseType, Role, SessionEndReason, slice, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait};
use uuid::Uuid;

pub use admins::admin_addresses;
pub use list::{UserFilter, UserOrder, UserOrderField, list};

use crate::{
    access::Administered,
    auth::{PasswordHasher, Principal},
    clock::Clock,
    db,
    error::{AppError, AppResult, is_unique_violation},
    events::{self, Event, EventBus},
    licensing::{self, Decision, Subject},
    sessions, validation,
};

/// The fields of a new slice user, as the client sent them.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub license_type: LicenseType,
    pub role: Role,
}

/// Changes to a user; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub license_type: Option<LicenseType>,
    pub role: Option<Role>,
}

fn check_role(field: &str, role: Role) -> AppResult<()> {
    if role == Role::Operator {
        return Err(AppError::bad_input(
            field,
            "must be ADMIN or MEMBER; operators are created with the `seatwarden create-operator` command",
        ));
    }
    Ok(())
}

fn check_edition(field: &str, slice: &slice::Model, license_type: LicenseType) -> AppResult<()> {
    if slice.edition == Edition::ServiceDesk && license_type == LicenseType::Concurrent {
        return Err(AppError::bad_input(
            field,
            "CONCURRENT licenses exist only in the SERVICE_MANAGEMENT edition; assign NAMED, SELF_SERVICE or WEB_SERVICES",
        ));
    }
    Ok(())
}

/// The result of a change that a NAMED license limit can refuse.
#[derive(Debug)]
pub enum Assignment<T> {
    Done(T),
    /// ENFORCE refused the NAMED license; the ASSIGNMENT_BLOCKED event is committed.
    LimitReached { owned: u64, in_use: u64 },
}

/// Runs the NAMED decision for a change that adds one active NAMED user. When
/// ENFORCE refuses, commits the refusal and returns it as `Err`; otherwise
/// returns the transaction and the WARN event to publish with the change.
async fn check_named<T>(
    txn: DatabaseTransaction,
    bus: &EventBus,
    slice: &slice::Model,
    subject: Subject<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Result<(DatabaseTransaction, Vec<Event>), Assignment<T>>> {
    match licensing::decide_named_assignment(&txn, slice, subject, now).await? {
        Decision::Refused { owned, in_use, event } => {
            bus.commit(txn, Some(slice.id), vec![Event::Compliance(event)]).await?;
            tracing::info!(owned, in_use, "NAMED assignment rejected: no license is free");
            Ok(Err(Assignment::LimitReached { owned, in_use }))
        }
        Decision::Allowed { would_be_blocked } => Ok(Ok((txn, would_be_blocked.into_iter().map(Event::Compliance).collect()))),
    }
}

fn duplicate_username(username: &str) -> AppError {
    AppError::bad_input(
        "input.username",
        format!("`{username}` is already taken in this slice (usernames are unique regardless of letter case); choose another"),
    )
}

/// Creates a user in a slice the caller administers.
#[tracing::instrument(skip_all, fields(slice_id = %slice.id, actor_id = ?actor_id))]
pub async fn create(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    hasher: &PasswordHasher,
    bus: &EventBus,
    actor_id: Option<Uuid>,
    slice: Administered<slice::Model>,
    input: NewUser,
) -> AppResult<Assignment<user::Model>> {
    let username = validation::identifier("input.username", &input.username)?;
    let email = validation::email("input.email", &input.email)?;
    let display_name = validation::required_text("input.displayName", &input.display_name, validation::MAX_TEXT_CHARS)?;
    validation::new_password("input.password", &input.password)?;
    check_role("input.role", input.role)?;
    check_edition("input.licenseType", &slice, input.license_type)?;
    let password_hash = hasher.hash(&input.password).await?;

    let txn = db::begin_write(db).await?;
    let slice = db::lock_slice(&txn, slice.id).await?.ok_or(AppError::NotFound { what: "slice" })?;
    check_edition("input.licenseType", &slice, input.license_type)?;
    let now = clock.now();
    let mut decision_events = Vec::new();
    let txn = if input.license_type == LicenseType::Named {
        let subject = Subject { user_id: None, username: &username, actor_id };
        match check_named(txn, bus, &slice, subject, now).await? {
            Ok((txn, events)) => {
                decision_events = events;
                txn
            }
            Err(refused) => return Ok(refused),
        }
    } else {
        txn
    };
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        slice_id: Set(Some(slice.id)),
        username_key: Set(validation::name_key(&username)),
        username: Set(username.clone()),
        email: Set(email),
        display_name: Set(display_name),
        license_type: Set(Some(input.license_type)),
        role: Set(input.role),
        active: Set(true),
        password_hash: Set(password_hash),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let created = model.insert(&txn).await.map_err(|error| {
        if is_unique_violation(&error) { duplicate_username(&username) } else { error.into() }
    })?;
    let mut events = events::usage_changes(&txn, slice.id, now).await?;
    events.extend(decision_events);
    bus.commit(txn, Some(slice.id), events).await?;
    tracing::info!(user_id = %created.id, license_type = ?created.license_type, role = ?created.role, "user created");
    Ok(Assignment::Done(created))
}

/// Changes a user's profile, license type or role. A license change ends the
/// user's live sessions, because they were opened under the old license.
#[tracing::instrument(skip_all, fields(user_id = %target.id, actor_id = %actor.user.id))]
pub async fn update(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    bus: &EventBus,
    actor: &Principal,
    target: Administered<user::Model>,
    patch: UserPatch,
) -> AppResult<Assignment<user::Model>> {
    let email = patch.email.as_deref().map(|v| validation::email("input.email", v)).transpose()?;
    let display_name = patch
        .display_name
        .as_deref()
        .map(|v| validation::required_text("input.displayName", v, validation::MAX_TEXT_CHARS))
        .transpose()?;
    if let Some(role) = patch.role {
        check_role("input.role", role)?;
        if target.id == actor.user.id && role != target.role {
            return Err(AppError::bad_input(
                "input.role",
                "you cannot change your own role; ask another administrator or an operator",
            ));
        }
    }

    let slice_id = target.slice_id.ok_or(AppError::NotFound { what: "user" })?;
    let txn = db::begin_write(db).await?;
    let slice = db::lock_slice(&txn, slice_id).await?.ok_or(AppError::NotFound { what: "user" })?;
    let current = user::Entity::find_by_id(target.id).one(&txn).await?.ok_or(AppError::NotFound { what: "user" })?;
    if let Some(license_type) = patch.license_type {
        check_edition("input.licenseType", &slice, license_type)?;
    }
    let now = clock.now();
    let license_changed = patch.license_type.is_some_and(|lt| Some(lt) != current.license_type);
    let mut decision_events = Vec::new();
    let txn = if license_changed && patch.license_type == Some(LicenseType::Named) && current.active {
        let subject = Subject { user_id: Some(current.id), username: &current.username, actor_id: Some(actor.user.id) };
        match check_named(txn, bus, &slice, subject, now).await? {
            Ok((txn, events)) => {
                decision_events = events;
                txn
            }
            Err(refused) => return Ok(refused),
        }
    } else {
        txn
    };

    let mut model: user::ActiveModel = current.clone().into();
    if let Some(value) = email {
        model.email = Set(value);
    }
    if let Some(value) = display_name {
        model.display_name = Set(value);
    }
    if let Some(value) = patch.license_type {
        model.license_type = Set(Some(value));
    }
    if let Some(value) = patch.role {
        model.role = Set(value);
    }
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    let mut events = Vec::new();
    if license_changed {
        let ended = sessions::end_live_sessions_of_user(&txn, updated.id, SessionEndReason::LicenseChanged, now).await?;
        events = if ended.is_empty() {
            events::usage_changes(&txn, slice.id, now).await?
        } else {
            events::session_changes(&txn, Some(slice.id), None, &ended, now).await?
        };
        tracing::info!(ended_sessions = ended.len(), from = ?current.license_type, to = ?updated.license_type, "license type changed");
    }
    events.extend(decision_events);
    bus.commit(txn, Some(slice.id), events).await?;
    Ok(Assignment::Done(updated))
}

/// Activates or inactivates a user. Inactivating ends every live session of the
/// user and frees their license.
#[tracing::instrument(skip_all, fields(user_id = %target.id, actor_id = %actor.user.id, active))]
pub async fn set_active(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    bus: &EventBus,
    actor: &Principal,
    target: Administered<user::Model>,
    active: bool,
) -> AppResult<Assignment<user::Model>> {
    if target.id == actor.user.id && !active {
        return Err(AppError::bad_input(
            "active",
            "you cannot inactivate your own account; ask another administrator or an operator",
        ));
    }
    let slice_id = target.slice_id.ok_or(AppError::NotFound { what: "user" })?;
    let txn = db::begin_write(db).await?;
    let slice = db::lock_slice(&txn, slice_id).await?.ok_or(AppError::NotFound { what: "user" })?;
    let current = user::Entity::find_by_id(target.id).one(&txn).await?.ok_or(AppError::NotFound { what: "user" })?;
    if current.active == active {
        txn.commit().await?;
        return Ok(Assignment::Done(current));
    }
    let now = clock.now();
    let mut decision_events = Vec::new();
    let txn = if active && current.license_type == Some(LicenseType::Named) {
        let subject = Subject { user_id: Some(current.id), username: &current.username, actor_id: Some(actor.user.id) };
        match check_named(txn, bus, &slice, subject, now).await? {
            Ok((txn, events)) => {
                decision_events = events;
                txn
            }
            Err(refused) => return Ok(refused),
        }
    } else {
        txn
    };
    let mut model: user::ActiveModel = current.into();
    model.active = Set(active);
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    let ended = if active {
        Vec::new()
    } else {
        sessions::end_live_sessions_of_user(&txn, updated.id, SessionEndReason::UserInactivated, now).await?
    };
    let mut events = if ended.is_empty() {
        events::usage_changes(&txn, slice.id, now).await?
    } else {
        events::session_changes(&txn, Some(slice.id), None, &ended, now).await?
    };
    events.extend(decision_events);
    bus.commit(txn, Some(slice.id), events).await?;
    tracing::info!(ended_sessions = ended.len(), "user active flag changed");
    Ok(Assignment::Done(updated))
}

/// Creates an operator account; only the command line calls this.
pub async fn create_operator(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    hasher: &PasswordHasher,
    username: &str,
    email: &str,
    password: &str,
) -> AppResult<user::Model> {
    let username = validation::identifier("--username", username)?;
    let email = validation::email("--email", email)?;
    validation::new_password("password", password)?;
    let password_hash = hasher.hash(password).await?;
    let now = clock.now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        slice_id: Set(None),
        username_key: Set(validation::name_key(&username)),
        username: Set(username.clone()),
        email: Set(email),
        display_name: Set(username.clone()),
        license_type: Set(None),
        role: Set(Role::Operator),
        active: Set(true),
        password_hash: Set(password_hash),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let created = model.insert(db).await.map_err(|error| {
        if is_unique_violation(&error) {
            AppError::bad_input(
                "--username",
                format!("an operator named `{username}` already exists (regardless of letter case); choose another name"),
            )
        } else {
            error.into()
        }
    })?;
    tracing::info!(user_id = %created.id, "operator created");
    Ok(created)
}
