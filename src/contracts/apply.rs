//! Applying parsed contracts to slices in one transaction.

use entity::{SliceKind, slice};
use sea_orm::{ActiveEnum, DatabaseTransaction, TransactionTrait};

use super::{ColumnNames, ContractFile, ContractRow, ImportError, LineError, MAX_ERRORS, Rejection};
use crate::{
    access::{self, OperatorProof},
    db,
    error::AppError,
    events::Event,
    rollout,
    slices::{self, FieldNames, NewSlice, Patch, SlicePatch},
    state::AppState,
};

/// The alert threshold of a slice that the import creates: the default of
/// `createSlice`.
const NEW_SLICE_ALERT_THRESHOLD_PERCENT: i32 = 80;

/// Options of an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check and describe every change, then roll back.
    pub dry_run: bool,
    /// Create the slices that do not exist. Their rows need a kind.
    pub create_missing: bool,
}

/// The change an import made, or on a dry run would make, to one slice.
#[derive(Debug, Clone)]
pub enum SliceOutcome {
    Created(slice::Model),
    Changed { before: slice::Model, after: slice::Model },
    Unchanged(slice::Model),
}

/// The outcome of every row, in the file's order.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub outcomes: Vec<SliceOutcome>,
    /// Whether the changes were rolled back.
    pub dry_run: bool,
}

/// The failure of one row.
enum RowFailure {
    /// A problem with the row's values, reported with the other rows' problems.
    Line(LineError),
    /// Anything else, which stops the import.
    App(AppError),
}

impl From<AppError> for RowFailure {
    fn from(error: AppError) -> Self {
        RowFailure::App(error)
    }
}

impl From<sea_orm::DbErr> for RowFailure {
    fn from(error: sea_orm::DbErr) -> Self {
        RowFailure::App(error.into())
    }
}

/// Turns an input error of the slice functions, whose field is a column name
/// here, into an error of the row's line.
fn on_line(line: u64) -> impl FnOnce(AppError) -> RowFailure {
    move |error| match error {
        AppError::BadInput { field, message } => RowFailure::Line(LineError { line, column: Some(field), message }),
        other => RowFailure::App(other),
    }
}

/// The state and settings that every row of an import needs.
struct RowContext<'a> {
    state: &'a AppState,
    operator: OperatorProof,
    columns: &'a ColumnNames,
    fields: FieldNames<'a>,
    phase_mode: entity::EnforcementMode,
    create_missing: bool,
}

/// Applies every row of `file` in one transaction, as an operator acting
/// without a request would through `createSlice` and `updateSlice`.
///
/// Each row runs in a savepoint, so a row that fails leaves nothing behind
/// and the remaining rows are still checked. When any line failed, in parsing
/// or here, the transaction is rolled back and every error is returned. A dry
/// run rolls back after all rows succeeded. Otherwise the transaction commits
/// with the events of every row, which queues the alert emails they require.
pub async fn import(state: &AppState, file: ContractFile, options: ImportOptions) -> Result<ImportReport, ImportError> {
    let txn = db::begin_write(&state.db).await.map_err(AppError::from)?;
    let phase_mode = rollout::current_mode(&txn, &state.config, state.clock.now()).await?;
    let context = RowContext {
        state,
        operator: access::host_operator(),
        columns: &file.columns,
        fields: file.columns.field_names(),
        phase_mode,
        create_missing: options.create_missing,
    };

    let mut errors = file.errors.clone();
    let mut truncated = file.truncated;
    let mut outcomes = Vec::new();
    let mut events = Vec::new();
    for row in &file.rows {
        if errors.len() >= MAX_ERRORS {
            truncated = true;
            break;
        }
        let savepoint = txn.begin().await.map_err(AppError::from)?;
        match apply_row(&savepoint, &context, row).await {
            Ok((outcome, row_events)) => {
                savepoint.commit().await.map_err(AppError::from)?;
                outcomes.push(outcome);
                events.extend(row_events);
            }
            Err(RowFailure::Line(error)) => {
                savepoint.rollback().await.map_err(AppError::from)?;
                errors.push(error);
            }
            Err(RowFailure::App(error)) => return Err(error.into()),
        }
    }

    if !errors.is_empty() {
        txn.rollback().await.map_err(AppError::from)?;
        errors.sort_by_key(|error| error.line);
        errors.truncate(MAX_ERRORS);
        return Err(ImportError::Rejected(Rejection { errors, truncated }));
    }
    if options.dry_run {
        txn.rollback().await.map_err(AppError::from)?;
    } else {
        state.events.commit(txn, None, events).await?;
    }
    let report = ImportReport { outcomes, dry_run: options.dry_run };
    let (created, changed, unchanged) = report.counts();
    tracing::info!(created, changed, unchanged, dry_run = options.dry_run, "contracts imported");
    Ok(report)
}

/// Applies one row inside its savepoint and returns its outcome and events.
async fn apply_row(
    txn: &DatabaseTransaction,
    context: &RowContext<'_>,
    row: &ContractRow,
) -> Result<(SliceOutcome, Vec<Event>), RowFailure> {
    let clock = context.state.clock.as_ref();
    let Some(found) = slices::find_by_name(txn, &row.slice).await? else {
        let created = create_row(txn, context, row).await?;
        return Ok((SliceOutcome::Created(created), Vec::new()));
    };
    // Locked now, so the patch and the printed change compare with the row that the update changes.
    let slice = db::lock_slice(txn, found.id).await?.ok_or(AppError::NotFound { what: "slice" })?;

    if let Some(kind) = row.kind.filter(|kind| *kind != slice.kind) {
        let current = slice.kind.to_value();
        return Err(RowFailure::Line(LineError::new(
            row.line,
            Some(&context.columns.kind),
            format!(
                "slice `{}` is {current}, and the import cannot make it {}; write {current} or leave the cell empty",
                slice.name,
                kind.to_value()
            ),
        )));
    }
    let Some(patch) = patch_for(&slice, row) else {
        return Ok((SliceOutcome::Unchanged(slice), Vec::new()));
    };
    let (after, events) =
        slices::update_in(txn, clock, context.operator, None, slice.id, patch, context.phase_mode, &context.fields)
            .await
            .map_err(on_line(row.line))?;
    Ok((SliceOutcome::Changed { before: slice, after }, events))
}

/// Creates the slice of a row whose slice does not exist, when the options allow it.
async fn create_row(txn: &DatabaseTransaction, context: &RowContext<'_>, row: &ContractRow) -> Result<slice::Model, RowFailure> {
    if !context.create_missing {
        return Err(RowFailure::Line(LineError::new(
            row.line,
            Some(context.fields.name),
            format!("no slice is named `{}`; correct the name, or pass --create-missing to create the slice", row.slice),
        )));
    }
    let Some(kind) = row.kind else {
        let kinds: Vec<String> = [SliceKind::Production, SliceKind::Staging].iter().map(ActiveEnum::to_value).collect();
        return Err(RowFailure::Line(LineError::new(
            row.line,
            Some(&context.columns.kind),
            format!("slice `{}` does not exist yet, so its kind is required: write {}", row.slice, kinds.join(" or ")),
        )));
    };
    let input = NewSlice {
        name: row.slice.clone(),
        display_name: row.display_name.clone().unwrap_or_else(|| row.slice.clone()),
        customer: match &row.customer {
            Patch::Set(customer) => Some(customer.clone()),
            Patch::Keep | Patch::Clear => None,
        },
        kind,
        edition: row.edition,
        owned_named_licenses: row.named,
        owned_concurrent_licenses: row.concurrent,
        renewal_date: row.renewal_date,
        alert_threshold_percent: NEW_SLICE_ALERT_THRESHOLD_PERCENT,
    };
    let clock = context.state.clock.as_ref();
    slices::create_in(txn, clock, context.operator, input, context.phase_mode, &context.fields)
        .await
        .map_err(on_line(row.line))
}

/// Builds the patch that gives `slice` the row's values, with only the fields
/// that differ. Returns `None` when no field differs.
fn patch_for(slice: &slice::Model, row: &ContractRow) -> Option<SlicePatch> {
    let mut patch = SlicePatch::default();
    let mut changed = false;
    if let Some(display_name) = row.display_name.as_ref().filter(|name| **name != slice.display_name) {
        patch.display_name = Some(display_name.clone());
        changed = true;
    }
    patch.customer = match (&row.customer, &slice.customer) {
        (Patch::Set(new), current) if current.as_ref() != Some(new) => Patch::Set(new.clone()),
        (Patch::Clear, Some(_)) => Patch::Clear,
        _ => Patch::Keep,
    };
    changed |= patch.customer != Patch::Keep;
    if row.edition != slice.edition {
        patch.edition = Some(row.edition);
        changed = true;
    }
    if row.named != slice.owned_named_licenses {
        patch.owned_named_licenses = Some(row.named);
        changed = true;
    }
    if row.concurrent != slice.owned_concurrent_licenses {
        patch.owned_concurrent_licenses = Some(row.concurrent);
        changed = true;
    }
    if row.renewal_date != slice.renewal_date {
        patch.renewal_date = row.renewal_date.map_or(Patch::Clear, Patch::Set);
        changed = true;
    }
    changed.then_some(patch)
}
