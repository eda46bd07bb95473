//! The columns of a contract file and the parsing of its header.

use std::collections::HashMap;

use super::{LineError, parse::cell_text};
use crate::slices::FieldNames;

/// A column that the import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Column {
    Slice,
    Named,
    Concurrent,
    RenewalDate,
    Edition,
    Kind,
    DisplayName,
    Customer,
}

impl Column {
    pub(super) const ALL: [Column; 8] = [
        Column::Slice,
        Column::Named,
        Column::Concurrent,
        Column::RenewalDate,
        Column::Edition,
        Column::Kind,
        Column::DisplayName,
        Column::Customer,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Column::Slice => "slice",
            Column::Named => "named",
            Column::Concurrent => "concurrent",
            Column::RenewalDate => "renewal_date",
            Column::Edition => "edition",
            Column::Kind => "kind",
            Column::DisplayName => "display_name",
            Column::Customer => "customer",
        }
    }

    /// Returns the older name of a column. Contracts call NAMED licenses
    /// "Fixed" and CONCURRENT licenses "Floater".
    fn legacy_name(self) -> Option<&'static str> {
        match self {
            Column::Named => Some("fixed"),
            Column::Concurrent => Some("floater"),
            _ => None,
        }
    }

    fn is_required(self) -> bool {
        !matches!(self, Column::Kind | Column::DisplayName | Column::Customer)
    }

    /// Finds the column a header names, regardless of letter case.
    fn from_header(header: &str) -> Option<Column> {
        let lower = header.to_lowercase();
        Column::ALL.into_iter().find(|column| column.name() == lower || column.legacy_name() == Some(lower.as_str()))
    }

    /// Returns the column's name with its legacy name, as a message lists it.
    fn described(self) -> String {
        match self.legacy_name() {
            Some(legacy) => format!("{} (or {legacy})", self.name()),
            None => self.name().to_owned(),
        }
    }
}

/// Lists the known columns for the message about an unknown one.
fn known_columns() -> String {
    let required: Vec<String> = Column::ALL.into_iter().filter(|c| c.is_required()).map(Column::described).collect();
    let optional: Vec<&str> = Column::ALL.into_iter().filter(|c| !c.is_required()).map(Column::name).collect();
    format!("the columns are {}, and optionally {}", required.join(", "), optional.join(", "))
}

/// The column names as the file spells them. An optional column that the file
/// lacks has its standard name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNames {
    pub slice: String,
    pub named: String,
    pub concurrent: String,
    pub renewal_date: String,
    pub edition: String,
    pub kind: String,
    pub display_name: String,
    pub customer: String,
}

impl ColumnNames {
    /// Returns the names under which the slice functions report input errors.
    /// The file has no alert threshold column, and the import sets no threshold
    /// other than the API's default, so that name never appears in an error.
    pub fn field_names(&self) -> FieldNames<'_> {
        FieldNames {
            name: &self.slice,
            display_name: &self.display_name,
            customer: &self.customer,
            edition: &self.edition,
            owned_named_licenses: &self.named,
            owned_concurrent_licenses: &self.concurrent,
            alert_threshold_percent: "alert_threshold_percent",
        }
    }

    /// Returns a column's name as the file spells it.
    pub(super) fn spelled(&self, column: Column) -> &str {
        match column {
            Column::Slice => &self.slice,
            Column::Named => &self.named,
            Column::Concurrent => &self.concurrent,
            Column::RenewalDate => &self.renewal_date,
            Column::Edition => &self.edition,
            Column::Kind => &self.kind,
            Column::DisplayName => &self.display_name,
            Column::Customer => &self.customer,
        }
    }
}

pub(super) type Positions = HashMap<Column, usize>;

pub(super) fn parse_header(header: &csv::ByteRecord, line: u64) -> Result<(ColumnNames, Positions), Vec<LineError>> {
    let mut errors = Vec::new();
    let mut positions = Positions::new();
    let mut spelled: HashMap<Column, String> = HashMap::new();
    for (index, bytes) in header.iter().enumerate() {
        let text = match cell_text(bytes) {
            Ok(text) => text,
            Err(message) => {
                errors.push(LineError::new(line, None, format!("header cell {}: {message}", index + 1)));
                continue;
            }
        };
        if text.is_empty() {
            errors.push(LineError::new(line, None, format!("header cell {} is empty; name the column or remove it", index + 1)));
            continue;
        }
        let Some(column) = Column::from_header(text) else {
            errors.push(LineError::new(line, Some(text), format!("unknown column; {}", known_columns())));
            continue;
        };
        if let Some(earlier) = spelled.get(&column) {
            errors.push(LineError::new(
                line,
                Some(text),
                format!("repeats column `{earlier}` ({}); keep only one of them", column.described()),
            ));
            continue;
        }
        positions.insert(column, index);
        spelled.insert(column, text.to_owned());
    }
    for column in Column::ALL.into_iter().filter(|c| c.is_required() && !spelled.contains_key(c)) {
        errors.push(LineError::new(
            line,
            Some(column.name()),
            format!("missing required column; add {} to the header", column.described()),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let name = |column: Column| spelled.get(&column).cloned().unwrap_or_else(|| column.name().to_owned());
    let columns = ColumnNames {
        slice: name(Column::Slice),
        named: name(Column::Named),
        concurrent: name(Column::Concurrent),
        renewal_date: name(Column::RenewalDate),
        edition: name(Column::Edition),
        kind: name(Column::Kind),
        display_name: name(Column::DisplayName),
        customer: name(Column::Customer),
    };
    Ok((columns, positions))
}

