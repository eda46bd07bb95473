//! The one error type of the service's rules, and how database errors map onto it.
//!
//! The GraphQL layer turns each variant into one `extensions.code`
//! (see `graphql::error`); nothing else decides what a client sees.

use sea_orm::{DbErr, RuntimeErr};

/// A failed operation, in the terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No token, or an unknown, ended or expired one.
    #[error("authentication required: log in and send the token as `Authorization: Bearer TOKEN`")]
    Unauthenticated,

    /// The caller sees the object but may not perform this action on it.
    #[error("{0}")]
    Forbidden(String),

    /// A missing, foreign or malformed id; the three are indistinguishable on purpose.
    #[error("{what} not found")]
    NotFound { what: &'static str },

    /// An invalid argument; `field` is the argument path, such as `input.name`.
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },

    /// ENFORCE refused a NAMED license because the slice uses all it owns.
    #[error("no NAMED license is free: {in_use} in use of {owned} owned; free one or ask for more")]
    LicenseLimitReached { owned: u64, in_use: u64 },

    /// The database cannot be reached.
    #[error("the database is unavailable; retry later")]
    ServiceUnavailable(#[source] DbErr),

    /// Anything else: logged with its cause chain, returned without detail.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput { field: field.into(), message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        if is_connection_error(&error) {
            AppError::ServiceUnavailable(error)
        } else {
            AppError::Internal(error.into())
        }
    }
}

/// Tells whether a database error means the database could not be reached,
/// as opposed to a failed statement.
///
/// PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P (operator
/// intervention: shutdown, crash, still starting up) count as unreachable too:
/// a server stopping answers statements in flight with 57P01.
fn is_connection_error(error: &DbErr) -> bool {
    use sea_orm::sqlx::Error as SqlxError;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => match inner.as_ref() {
            SqlxError::Io(_) | SqlxError::PoolTimedOut | SqlxError::PoolClosed | SqlxError::Tls(_) => true,
            SqlxError::Database(database) => {
                database.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Tells whether a database error is a violation of a unique index.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}
