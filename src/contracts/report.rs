//! The summary an import prints: one line per slice, then a total.

use std::fmt;

use entity::slice;
use sea_orm::ActiveEnum;

use super::{ImportReport, SliceOutcome};
use crate::slices::mode_name;

impl ImportReport {
    /// Counts the slices created, changed and left unchanged.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for outcome in &self.outcomes {
            match outcome {
                SliceOutcome::Created(_) => counts.0 += 1,
                SliceOutcome::Changed { .. } => counts.1 += 1,
                SliceOutcome::Unchanged(_) => counts.2 += 1,
            }
        }
        counts
    }
}

fn date_text(date: Option<chrono::NaiveDate>) -> String {
    date.map_or_else(|| "none".to_owned(), |date| date.to_string())
}

fn text_or_none(text: Option<&str>) -> String {
    text.map_or_else(|| "none".to_owned(), |text| format!("{text:?}"))
}

/// Lists each field that differs between two versions of a slice as `field old → new`.
fn changes(before: &slice::Model, after: &slice::Model) -> Vec<String> {
    let mut changes = Vec::new();
    let mut compare = |field: &str, old: String, new: String| {
        if old != new {
            changes.push(format!("{field} {old} → {new}"));
        }
    };
    compare("named", before.owned_named_licenses.to_string(), after.owned_named_licenses.to_string());
    compare("concurrent", before.owned_concurrent_licenses.to_string(), after.owned_concurrent_licenses.to_string());
    compare("renewal date", date_text(before.renewal_date), date_text(after.renewal_date));
    compare("edition", before.edition.to_value(), after.edition.to_value());
    compare("display name", format!("{:?}", before.display_name), format!("{:?}", after.display_name));
    compare("customer", text_or_none(before.customer.as_deref()), text_or_none(after.customer.as_deref()));
    changes
}

/// Describes a new slice: its kind, edition, counts, renewal date and mode.
fn description(slice: &slice::Model) -> String {
    format!(
        "{}, {}, named {}, concurrent {}, renewal date {}, mode {}",
        slice.kind.to_value(),
        slice.edition.to_value(),
        slice.owned_named_licenses,
        slice.owned_concurrent_licenses,
        date_text(slice.renewal_date),
        mode_name(slice.enforcement_mode)
    )
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (created_word, created_total) = if self.dry_run { ("new slice", "new") } else { ("created", "created") };
        for outcome in &self.outcomes {
            match outcome {
                SliceOutcome::Created(slice) => writeln!(f, "{}: {created_word} ({})", slice.name, description(slice))?,
                SliceOutcome::Changed { before, after } => writeln!(f, "{}: {}", after.name, changes(before, after).join(", "))?,
                SliceOutcome::Unchanged(slice) => writeln!(f, "{}: unchanged", slice.name)?,
            }
        }
        let (created, changed, unchanged) = self.counts();
        let slices = if self.outcomes.len() == 1 { "slice" } else { "slices" };
        write!(f, "total: {} {slices}, {created} {created_total}, {changed} changed, {unchanged} unchanged", self.outcomes.len())?;
        if self.dry_run {
            write!(f, "; dry run, nothing was written")?;
        }
        writeln!(f)
    }
}
