use async_graphql::{Context, ID, Object};

use crate::{
    access,
    graphql::{
        context::{principal, state},
        error::ApiResult,
        inputs::{CreateUserInput, UpdateUserInput},
        types::UserNode,
    },
    users,
};

#[derive(Default)]
pub struct UserMutations;

#[Object]
impl UserMutations {
    /// The slice's administrators and operators: creates a user.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let (slice_id, new_user) = input.into_new_user();
        let slice = access::administered_slice(&state.db, principal, &slice_id).await?;
        let created = users::create(&state.db, state.clock.as_ref(), &state.hasher, Some(principal.user.id), slice, new_user).await?;
        Ok(UserNode(created))
    }

    /// The slice's administrators and operators: changes a user. A field left out is unchanged.
    async fn update_user(&self, ctx: &Context<'_>, id: ID, input: UpdateUserInput) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let target = access::administered_user(&state.db, principal, &id).await?;
        let patch = input.into_patch()?;
        Ok(UserNode(users::update(&state.db, state.clock.as_ref(), &state.events, principal, target, patch).await?))
    }

    /// The slice's administrators and operators: activates or inactivates a user.
    async fn set_user_active(&self, ctx: &Context<'_>, id: ID, active: bool) -> ApiResult<UserNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let target = access::administered_user(&state.db, principal, &id).await?;
        Ok(UserNode(users::set_active(&state.db, state.clock.as_ref(), &state.events, principal, target, active).await?))
    }
}
