//! The one mapping from [`AppError`] to GraphQL errors and their `extensions.code`.

use async_graphql::{ErrorExtensions, Value};

use crate::error::AppError;

/// A resolver error: an [`AppError`] already turned into a GraphQL error.
///
/// It deliberately has no `Display`, so that async-graphql's blanket conversion
/// (which would drop the code) cannot apply, and every `?` in a resolver goes
/// through [`From<AppError>`] below.
#[derive(Clone)]
pub struct ApiError(pub async_graphql::Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.0
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(to_graphql_error(&error))
    }
}

/// Returns the stable `extensions.code` of an error.
pub fn code_of(error: &AppError) -> &'static str {
    match error {
        AppError::Unauthenticated => "UNAUTHENTICATED",
        AppError::Forbidden(_) => "FORBIDDEN",
        AppError::NotFound { .. } => "NOT_FOUND",
        AppError::BadInput { .. } => "BAD_USER_INPUT",
        AppError::LicenseLimitReached { .. } => "LICENSE_LIMIT_REACHED",
        AppError::ServiceUnavailable(_) => "SERVICE_UNAVAILABLE",
        AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
    }
}

/// Builds the GraphQL error a client sees, and logs what the client must not see.
pub fn to_graphql_error(error: &AppError) -> async_graphql::Error {
    match error {
        AppError::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "request failed with an internal error");
        }
        AppError::ServiceUnavailable(cause) => {
            tracing::warn!(error = %cause, "database unavailable");
        }
        _ => {}
    }
    let code = code_of(error);
    async_graphql::Error::new(error.to_string()).extend_with(|_, extensions| {
        extensions.set("code", code);
        if let AppError::BadInput { field, .. } = error {
            extensions.set("field", Value::from(field.as_str()));
        }
        if let AppError::LicenseLimitReached { owned, in_use } = error {
            extensions.set("owned", *owned);
            extensions.set("inUse", *in_use);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(error: &async_graphql::Error, key: &str) -> Option<Value> {
        error.extensions.as_ref().and_then(|extensions| extensions.get(key).cloned())
    }

    #[test]
    fn every_variant_has_its_code() {
        let cases = [
            (AppError::Unauthenticated, "UNAUTHENTICATED"),
            (AppError::forbidden("no"), "FORBIDDEN"),
            (AppError::NotFound { what: "slice" }, "NOT_FOUND"),
            (AppError::bad_input("input.name", "must not be blank"), "BAD_USER_INPUT"),
            (AppError::LicenseLimitReached { owned: 3, in_use: 3 }, "LICENSE_LIMIT_REACHED"),
            (
                AppError::ServiceUnavailable(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal("down".into()))),
                "SERVICE_UNAVAILABLE",
            ),
            (AppError::internal(anyhow::anyhow!("secret detail")), "INTERNAL_SERVER_ERROR"),
        ];
        for (error, code) in cases {
            let converted = to_graphql_error(&error);
            assert_eq!(extension(&converted, "code"), Some(Value::from(code)), "{error:?}");
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        let converted = to_graphql_error(&AppError::bad_input("input.ownedNamedLicenses", "must be from 0"));
        assert_eq!(extension(&converted, "field"), Some(Value::from("input.ownedNamedLicenses")));
        assert!(converted.message.contains("input.ownedNamedLicenses"));
    }

    #[test]
    fn internal_error_hides_its_cause() {
        let converted = to_graphql_error(&AppError::internal(anyhow::anyhow!("SELECT secret FROM users")));
        assert_eq!(converted.message, "internal error");
    }
}
