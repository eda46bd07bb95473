//! Slices: creating, changing and listing customer environments.

mod list;

use chrono::NaiveDate;
use entity::{ComplianceEventKind, Edition, EnforcementMode, LicenseType, SliceKind, slice, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

pub use list::{SliceFilter, list};

use crate::{
    access::OperatorProof,
    clock::Clock,
    db,
    events::{self, Event, EventBus},
    licensing::{self, EventDraft},
    error::{AppError, AppResult, is_unique_violation},
    validation,
};

/// A change to a nullable field: leave it, clear it or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// The fields of a new slice, as the client sent them.
#[derive(Debug, Clone)]
pub struct NewSlice {
    pub name: String,
    pub display_name: String,
    pub customer: Option<String>,
    pub kind: SliceKind,
    pub edition: Edition,
    pub owned_named_licenses: i32,
    pub owned_concurrent_licenses: i32,
    pub renewal_date: Option<NaiveDate>,
    pub alert_threshold_percent: i32,
}

/// The changes to a slice; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct SlicePatch {
    pub display_name: Option<String>,
    pub customer: Patch<String>,
    pub edition: Option<Edition>,
    pub owned_named_licenses: Option<i32>,
    pub owned_concurrent_licenses: Option<i32>,
    pub renewal_date: Patch<NaiveDate>,
    pub alert_threshold_percent: Option<i32>,
    /// Sets the mode and pins it, so the rollout no longer changes it.
    pub enforcement_mode: Option<EnforcementMode>,
    /// Releases a pinned mode.
    pub unpin_mode: bool,
}

/// The names under which input errors report the fields of a slice: the
/// API's argument paths, or the columns of an imported contract file.
#[derive(Debug, Clone, Copy)]
pub struct FieldNames<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub customer: &'a str,
    pub edition: &'a str,
    pub owned_named_licenses: &'a str,
    pub owned_concurrent_licenses: &'a str,
    pub alert_threshold_percent: &'a str,
}

/// The argument paths of `createSlice` and `updateSlice`.
pub const API_FIELDS: FieldNames<'static> = FieldNames {
    name: "input.name",
    display_name: "input.displayName",
    customer: "input.customer",
    edition: "input.edition",
    owned_named_licenses: "input.ownedNamedLicenses",
    owned_concurrent_licenses: "input.ownedConcurrentLicenses",
    alert_threshold_percent: "input.alertThresholdPercent",
};

/// Returns a field name without the `input.` prefix of an argument path, as
/// messages spell the field that the caller should change.
fn bare_field(name: &str) -> &str {
    name.strip_prefix("input.").unwrap_or(name)
}

fn optional_customer(field: &str, value: &str) -> AppResult<String> {
    validation::required_text(field, value, validation::MAX_TEXT_CHARS)
}

/// Creates a slice; only operators may. A production slice starts in
/// `phase_mode`, the rollout's current mode; a staging slice starts in OFF.
#[tracing::instrument(skip_all, fields(slice_name = %input.name))]
pub async fn create(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    operator: OperatorProof,
    input: NewSlice,
    phase_mode: EnforcementMode,
) -> AppResult<slice::Model> {
    create_in(db, clock, operator, input, phase_mode, &API_FIELDS).await
}

/// Creates a slice as [`create`] does, on `db`, which may be the caller's
/// transaction, and reports input errors under `fields`. Creating a slice
/// records no event, so there is nothing to publish.
///
/// On PostgreSQL a name that is already taken fails the INSERT, which aborts
/// the transaction. A caller that continues after that error needs a savepoint.
pub async fn create_in(
    db: &impl ConnectionTrait,
    clock: &dyn Clock,
    _operator: OperatorProof,
    input: NewSlice,
    phase_mode: EnforcementMode,
    fields: &FieldNames<'_>,
) -> AppResult<slice::Model> {
    let name = validation::identifier(fields.name, &input.name)?;
    let display_name = validation::required_text(fields.display_name, &input.display_name, validation::MAX_TEXT_CHARS)?;
    let customer = input.customer.as_deref().map(|c| optional_customer(fields.customer, c)).transpose()?;
    let owned_named = validation::owned_count(fields.owned_named_licenses, input.owned_named_licenses)?;
    let owned_concurrent = validation::owned_count(fields.owned_concurrent_licenses, input.owned_concurrent_licenses)?;
    let threshold = validation::threshold_percent(fields.alert_threshold_percent, input.alert_threshold_percent)?;
    if input.edition == Edition::ServiceDesk && owned_concurrent > 0 {
        return Err(AppError::bad_input(
            fields.owned_concurrent_licenses,
            "must be 0 in the SERVICE_DESK edition, which has no concurrent licenses; choose SERVICE_MANAGEMENT to own them",
        ));
    }

    let now = clock.now();
    let model = slice::ActiveModel {
        id: Set(Uuid::now_v7()),
        name_key: Set(validation::name_key(&name)),
        name: Set(name.clone()),
        display_name: Set(display_name),
        customer: Set(customer),
        kind: Set(input.kind),
        edition: Set(input.edition),
        owned_named_licenses: Set(owned_named),
        owned_concurrent_licenses: Set(owned_concurrent),
        renewal_date: Set(input.renewal_date),
        enforcement_mode: Set(if input.kind == SliceKind::Production { phase_mode } else { EnforcementMode::Off }),
        mode_pinned: Set(false),
        alert_threshold_percent: Set(threshold),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let slice = model.insert(db).await.map_err(|error| {
        if is_unique_violation(&error) {
            AppError::bad_input(
                fields.name,
                format!("a slice named `{name}` already exists (names are unique regardless of letter case); choose another name"),
            )
        } else {
            error.into()
        }
    })?;
    tracing::info!(slice_id = %slice.id, "slice created");
    Ok(slice)
}

/// Applies a patch to a slice; only operators may. `phase_mode` is the
/// rollout's current mode, which a slice takes when `unpin_mode` releases it.
#[tracing::instrument(skip_all, fields(slice_id = %slice_id))]
#[expect(clippy::too_many_arguments, reason = "the service handles, the proof, the actor and the change are all distinct")]
pub async fn update(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    bus: &EventBus,
    _operator: OperatorProof,
    actor_id: Option<Uuid>,
    slice_id: Uuid,
    patch: SlicePatch,
    phase_mode: EnforcementMode,
) -> AppResult<slice::Model> {
    let patch = checked_patch(patch, &API_FIELDS)?;
    let txn = db::begin_write(db).await?;
    let (updated, events) = apply_patch(&txn, clock, actor_id, slice_id, patch, phase_mode, &API_FIELDS).await?;
    bus.commit(txn, Some(updated.id), events).await?;
    tracing::info!(slice_id = %updated.id, version = updated.version, "slice updated");
    Ok(updated)
}

/// Applies a patch to a slice as [`update`] does, inside the caller's write
/// transaction, and reports input errors under `fields`. Returns the updated
/// slice and the events to publish once the caller commits with
/// [`EventBus::commit`], which also queues the alert emails they require.
///
/// Input errors are found before anything is written, so after one the
/// transaction contains no part of this change.
#[expect(clippy::too_many_arguments, reason = "the transaction, the proof, the actor, the change and the field names are all distinct")]
pub async fn update_in(
    txn: &DatabaseTransaction,
    clock: &dyn Clock,
    _operator: OperatorProof,
    actor_id: Option<Uuid>,
    slice_id: Uuid,
    patch: SlicePatch,
    phase_mode: EnforcementMode,
    fields: &FieldNames<'_>,
) -> AppResult<(slice::Model, Vec<Event>)> {
    let patch = checked_patch(patch, fields)?;
    apply_patch(txn, clock, actor_id, slice_id, patch, phase_mode, fields).await
}

/// Checks the values of a patch that need no database and returns the patch
/// with them trimmed.
fn checked_patch(patch: SlicePatch, fields: &FieldNames<'_>) -> AppResult<SlicePatch> {
    let display_name = patch
        .display_name
        .as_deref()
        .map(|v| validation::required_text(fields.display_name, v, validation::MAX_TEXT_CHARS))
        .transpose()?;
    let customer = match &patch.customer {
        Patch::Set(value) => Patch::Set(optional_customer(fields.customer, value)?),
        Patch::Clear => Patch::Clear,
        Patch::Keep => Patch::Keep,
    };
    let owned_named = patch
        .owned_named_licenses
        .map(|v| validation::owned_count(fields.owned_named_licenses, v))
        .transpose()?;
    let owned_concurrent = patch
        .owned_concurrent_licenses
        .map(|v| validation::owned_count(fields.owned_concurrent_licenses, v))
        .transpose()?;
    let threshold = patch
        .alert_threshold_percent
        .map(|v| validation::threshold_percent(fields.alert_threshold_percent, v))
        .transpose()?;
    if patch.enforcement_mode.is_some() && patch.unpin_mode {
        return Err(AppError::bad_input(
            "input.unpinMode",
            "cannot be combined with enforcementMode: set a mode to pin it, or unpin to let the rollout decide",
        ));
    }
    Ok(SlicePatch {
        display_name,
        customer,
        owned_named_licenses: owned_named,
        owned_concurrent_licenses: owned_concurrent,
        alert_threshold_percent: threshold,
        ..patch
    })
}

/// Locks the slice, checks the edition rules, writes a patch that
/// [`checked_patch`] returned, and records the mode and usage changes.
async fn apply_patch(
    txn: &DatabaseTransaction,
    clock: &dyn Clock,
    actor_id: Option<Uuid>,
    slice_id: Uuid,
    patch: SlicePatch,
    phase_mode: EnforcementMode,
    fields: &FieldNames<'_>,
) -> AppResult<(slice::Model, Vec<Event>)> {
    let slice = db::lock_slice(txn, slice_id).await?.ok_or(AppError::NotFound { what: "slice" })?;

    let edition = patch.edition.unwrap_or(slice.edition);
    let final_concurrent = patch.owned_concurrent_licenses.unwrap_or(slice.owned_concurrent_licenses);
    if edition == Edition::ServiceDesk {
        if slice.edition != Edition::ServiceDesk {
            let concurrent_users = count_concurrent_users(txn, slice.id).await?;
            if concurrent_users > 0 || final_concurrent > 0 {
                return Err(AppError::bad_input(
                    fields.edition,
                    format!(
                        "cannot switch to SERVICE_DESK, which has no concurrent licenses: {concurrent_users} user(s) hold CONCURRENT \
                         and the slice owns {final_concurrent} concurrent license(s); move those users to another license type \
                         and set {} to 0 first",
                        bare_field(fields.owned_concurrent_licenses)
                    ),
                ));
            }
        } else if final_concurrent > 0 {
            return Err(AppError::bad_input(
                fields.owned_concurrent_licenses,
                "must be 0 in the SERVICE_DESK edition, which has no concurrent licenses; switch the edition to SERVICE_MANAGEMENT first",
            ));
        }
    }

    let counts_changed = patch.owned_named_licenses.is_some_and(|v| v != slice.owned_named_licenses)
        || patch.owned_concurrent_licenses.is_some_and(|v| v != slice.owned_concurrent_licenses);
    // Unpinning hands the slice back to the rollout, which gives it the current phase's mode.
    let new_mode = patch.enforcement_mode.or(patch.unpin_mode.then_some(phase_mode));
    let mode_changed = new_mode.is_some_and(|mode| mode != slice.enforcement_mode);

    let mut model: slice::ActiveModel = slice.clone().into();
    if let Some(value) = patch.display_name {
        model.display_name = Set(value);
    }
    match patch.customer {
        Patch::Set(value) => model.customer = Set(Some(value)),
        Patch::Clear => model.customer = Set(None),
        Patch::Keep => {}
    }
    if let Some(value) = patch.edition {
        model.edition = Set(value);
    }
    if let Some(value) = patch.owned_named_licenses {
        model.owned_named_licenses = Set(value);
    }
    if let Some(value) = patch.owned_concurrent_licenses {
        model.owned_concurrent_licenses = Set(value);
    }
    match patch.renewal_date {
        Patch::Set(value) => model.renewal_date = Set(Some(value)),
        Patch::Clear => model.renewal_date = Set(None),
        Patch::Keep => {}
    }
    if let Some(value) = patch.alert_threshold_percent {
        model.alert_threshold_percent = Set(value);
    }
    if patch.enforcement_mode.is_some() {
        model.mode_pinned = Set(true);
    }
    if patch.unpin_mode {
        model.mode_pinned = Set(false);
    }
    let now = clock.now();
    model.updated_at = Set(now);
    let updated = model.update(txn).await?;
    let mut events = Vec::new();
    if let (true, Some(mode)) = (mode_changed, new_mode) {
        let cause = if patch.unpin_mode { "unpinned by an operator, so it follows the rollout" } else { "set by an operator" };
        events.push(change_mode(txn, &updated, mode, actor_id, cause, now).await?);
    }
    if counts_changed || mode_changed {
        events.extend(events::usage_changes(txn, slice.id, now).await?);
    }
    let updated = slice::Entity::find_by_id(slice.id).one(txn).await?.ok_or(AppError::NotFound { what: "slice" })?;
    Ok((updated, events))
}

/// Sets a slice's mode inside the caller's transaction, which holds the slice
/// lock, and records MODE_CHANGED; the caller then records the usage change.
pub async fn change_mode(
    txn: &impl ConnectionTrait,
    slice: &slice::Model,
    mode: EnforcementMode,
    actor_id: Option<Uuid>,
    cause: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Event> {
    let from = slice.enforcement_mode;
    slice::Entity::update_many()
        .col_expr(slice::Column::EnforcementMode, Expr::value(mode))
        .filter(slice::Column::Id.eq(slice.id))
        .exec(txn)
        .await?;
    let message = format!("Mode changed from {} to {}: {cause}", mode_name(from), mode_name(mode));
    let draft = EventDraft {
        actor_id,
        from_mode: Some(from),
        to_mode: Some(mode),
        ..EventDraft::new(ComplianceEventKind::ModeChanged, message)
    };
    tracing::info!(slice_id = %slice.id, from = mode_name(from), to = mode_name(mode), cause, "slice mode changed");
    Ok(Event::Compliance(licensing::record(txn, slice.id, draft, now).await?))
}

/// Returns a mode as the API spells it.
pub fn mode_name(mode: EnforcementMode) -> &'static str {
    match mode {
        EnforcementMode::Off => "OFF",
        EnforcementMode::Warn => "WARN",
        EnforcementMode::Enforce => "ENFORCE",
    }
}

/// Counts the users of a slice that hold a CONCURRENT license, active or not.
pub async fn count_concurrent_users(db: &impl ConnectionTrait, slice_id: Uuid) -> AppResult<u64> {
    Ok(user::Entity::find()
        .filter(user::Column::SliceId.eq(slice_id))
        .filter(user::Column::LicenseType.eq(LicenseType::Concurrent))
        .count(db)
        .await?)
}

/// Adds one to a slice's version inside the caller's transaction.
pub async fn bump_version(txn: &impl ConnectionTrait, slice_id: Uuid) -> AppResult<()> {
    slice::Entity::update_many()
        .col_expr(slice::Column::Version, Expr::col(slice::Column::Version).add(1))
        .filter(slice::Column::Id.eq(slice_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Loads a slice by the name typed at login, regardless of letter case.
pub async fn find_by_name(db: &impl ConnectionTrait, name: &str) -> AppResult<Option<slice::Model>> {
    Ok(slice::Entity::find()
        .filter(slice::Column::NameKey.eq(validation::name_key(name.trim())))
        .one(db)
        .await?)
}
