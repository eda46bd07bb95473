//! Codes for the errors that async-graphql raises itself, before or while
//! reading arguments, so that every error a client sees has `extensions.code`.

use std::sync::Arc;

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation},
    parser::types::ExecutableDocument,
};

/// Adds GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED or BAD_USER_INPUT to
/// errors that have no code.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

fn has_code(error: &ServerError) -> bool {
    error.extensions.as_ref().is_some_and(|extensions| extensions.get("code").is_some())
}

fn set_code(error: &mut ServerError, code: &str) {
    if has_code(error) {
        return;
    }
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    if code == "BAD_USER_INPUT"
        && let Some(field) = argument_name(&error.message)
    {
        extensions.set("field", field);
    }
}

/// Maximum length of the error message returned for a query that does not parse; the
/// parser's message can quote much of a large query.
const MAX_PARSE_MESSAGE_CHARS: usize = 300;

fn truncate(message: &str) -> String {
    if message.chars().count() <= MAX_PARSE_MESSAGE_CHARS {
        return message.to_owned();
    }
    let mut short: String = message.chars().take(MAX_PARSE_MESSAGE_CHARS).collect();
    short.push('…');
    short
}

/// Extracts `input.kind` from messages such as `Invalid value for argument "input.kind", …`.
fn argument_name(message: &str) -> Option<String> {
    let rest = message.split_once("argument \"")?.1;
    Some(rest.split_once('"')?.0.to_owned())
}

/// Argument values that do not fit their type are the client's input errors;
/// other validation errors are malformed operations.
fn validation_code(error: &ServerError) -> &'static str {
    if error.message.starts_with("Invalid value for argument") {
        "BAD_USER_INPUT"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut error| {
            set_code(&mut error, "GRAPHQL_PARSE_FAILED");
            error.message = truncate(&error.message);
            error
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for error in &mut errors {
                let code = validation_code(error);
                set_code(error, code);
            }
            errors
        })
    }

    async fn execute(&self, ctx: &ExtensionContext<'_>, operation_name: Option<&str>, next: NextExecute<'_>) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        // Every error of this service's resolvers carries a code, so one
        // without a code comes from reading an argument or variable value.
        for error in &mut response.errors {
            set_code(error, "BAD_USER_INPUT");
        }
        response
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn argument_name_is_extracted() {
        assert_eq!(
            super::argument_name(r#"Invalid value for argument "input.kind", enumeration type "SliceKind" does not contain the value "MOON""#),
            Some("input.kind".to_owned())
        );
        assert_eq!(super::argument_name("Unknown field"), None);
    }
}
