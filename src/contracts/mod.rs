//! Contract import: owned license counts, renewal dates and editions from a CSV file.
//!
//! [`parse`] reads the file without a database and reports every line it
//! cannot use. [`import`] then applies the rows through the same slice
//! functions as `createSlice` and `updateSlice`, in one transaction that it
//! commits only when no row failed, and rolls back on a dry run.

mod apply;
mod cells;
mod columns;
mod lines;
mod parse;
mod report;

use std::{fmt, path::Path};

pub use apply::{ImportOptions, ImportReport, SliceOutcome, import};
pub use columns::ColumnNames;
pub use parse::{ContractFile, ContractRow, ParseError, parse};

use crate::error::AppError;

/// How many errors an import reports before it stops checking further lines.
pub const MAX_ERRORS: usize = 100;

/// A problem with one line of the file. Line 1 is the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// Physical line of the file, counted from 1.
    pub line: u64,
    /// The column as the file spells it, or `None` for a problem with the whole line.
    pub column: Option<String>,
    pub message: String,
}

impl LineError {
    pub fn new(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Self { line, column: column.map(str::to_owned), message: message.into() }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// The errors that stopped an import, ordered by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub errors: Vec<LineError>,
    /// Whether checking stopped at [`MAX_ERRORS`], so later lines may contain more errors.
    pub truncated: bool,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        let noun = if count == 1 { "error" } else { "errors" };
        if self.truncated {
            write!(f, "{count} {noun} (checking stopped there), nothing was written:")?;
        } else {
            write!(f, "{count} {noun}, nothing was written:")?;
        }
        for error in &self.errors {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

/// A failed import; the transaction was rolled back, so nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The caller names the file in the message around this one.
    #[error("reading the file failed")]
    Read(#[source] std::io::Error),
    #[error("{0}")]
    Rejected(Rejection),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Reads and parses a contract file. Problems with the header reject the
/// file. Problems with other lines are kept in [`ContractFile::errors`], so
/// that [`import`] reports them together with the errors of the database checks.
pub fn read(path: &Path) -> Result<ContractFile, ImportError> {
    let file = std::fs::File::open(path).map_err(ImportError::Read)?;
    parse(file).map_err(|error| match error {
        ParseError::Io(source) => ImportError::Read(source),
        ParseError::Rejected(rejection) => ImportError::Rejected(rejection),
    })
}
