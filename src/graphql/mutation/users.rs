use async_graphql::{Context, ID, Object};

use crate::{
    access,
    graphql::{
        context::{principal, state},
        error::{ApiError, ApiResult},
        inputs::{CreateUserInput, UpdateUserInput},
        types::UserNode,
    },
    error::AppError,
    users::{self, Assignment},
};

#[derive(Default)]
pub struct UserMutations;

/// Turns a refused NAMED assignment into the LICENSE_LIMIT_REACHED error.
fn assigned(result: Assignment<entity::user::Model>) -> Result<entity::user::Model, ApiError> {
    match result {
        Assignment::Done(user) => Ok(user),
        Assignment::LimitReached { owned, in_use } => Err(AppError::LicenseLimitReached { owned, in_use }.into()),
    }
}

#[Object]
impl UserMutations {
    /// The slice's administrators and operators: creates a user.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let (slice_id, new_user) = input.into_new_user();
        let slice = access::administered_slice(&state.db, principal, &slice_id).await?;
        let created = users::create(&state.db, state.clock.as_ref(), &state.hasher, &state.events, Some(principal.user.id), slice, new_user)
                .await?;
        Ok(UserNode(assigned(created)?))
    }

    /// The slice's administrators and operators: changes a user. A field left out is unchanged.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let target = access::administered_user(&state.db, principal, &id).await?;
        let patch = input.into_patch()?;
        let updated = users::update(&state.db, state.clock.as_ref(), &state.events, principal, target, patch).await?;
        Ok(UserNode(assigned(updated)?))
    }

    /// The slice's administrators and operators: activates or inactivates a user.
    async fn set_user_active(&self, ctx: &Context<'_>, id: ID, active: bool) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let target = access::administered_user(&state.db, principal, &id).await?;
        let changed = users::set_active(&state.db, state.clock.as_ref(), &state.events, principal, target, active).await?;
        Ok(UserNode(assigned(changed)?))
    }
}
