//! Per-request data and the accessors resolvers use to reach it.

use async_graphql::Context;

use super::error::ApiError;
use crate::{
    auth::{Auth, Principal},
    error::AppError,
    state::AppState,
};

/// Facts the HTTP layer established about the request before executing it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub auth: Auth,
    /// The peer's IP address, recorded with new sessions.
    pub client_address: Option<String>,
}

fn missing(what: &str) -> ApiError {
    AppError::internal(anyhow::anyhow!("{what} is missing from the GraphQL context")).into()
}

pub fn state<'a>(ctx: &Context<'a>) -> Result<&'a AppState, ApiError> {
    ctx.data::<AppState>().map_err(|_| missing("AppState"))
}

pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, ApiError> {
    ctx.data::<RequestContext>().map_err(|_| missing("RequestContext"))
}

/// Returns the authenticated caller, or UNAUTHENTICATED.
pub fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    Ok(request(ctx)?.auth.principal()?)
}
