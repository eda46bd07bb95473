//! Parsing the value of one cell into what the slice functions take.

use chrono::NaiveDate;
use sea_orm::{ActiveEnum, Iterable};

use super::LineError;
use crate::validation;

/// Returns the value of a cell that parsed, or records its error.
pub(super) fn keep_value<T>(errors: &mut Vec<LineError>, line: u64, column: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|message| errors.push(LineError::new(line, Some(column), message))).ok()
}

pub(super) fn slice_name(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("expected the slice name (its login code), got an empty cell".to_owned());
    }
    Ok(text.to_owned())
}

/// Parses an owned license count. [`validation::owned_count`] decides the range.
pub(super) fn owned_count(column: &str, text: &str) -> Result<i32, String> {
    let expected = format!("expected a whole number from 0 to {}", validation::MAX_OWNED_LICENSES);
    if text.is_empty() {
        return Err(format!("{expected}, got an empty cell"));
    }
    text.parse::<i32>()
        .ok()
        .and_then(|value| validation::owned_count(column, value).ok())
        .ok_or_else(|| format!("{expected}, got {text:?}"))
}

pub(super) fn renewal_date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    crate::validation::parse_date(text)
        .map(Some)
        .ok_or_else(|| format!("expected a date as YYYY-MM-DD such as 2027-03-01, or an empty cell for no renewal date, got {text:?}"))
}

/// Parses an enumeration value as the API spells it, regardless of letter case.
pub(super) fn enum_value<E: ActiveEnum<Value = String> + Iterable>(text: &str) -> Result<E, String> {
    let upper = text.to_uppercase();
    E::iter().find(|value| value.to_value() == upper).ok_or_else(|| {
        let names: Vec<String> = E::iter().map(|value| value.to_value()).collect();
        if text.is_empty() {
            format!("expected {}, got an empty cell", names.join(" or "))
        } else {
            format!("expected {}, got {text:?}", names.join(" or "))
        }
    })
}
