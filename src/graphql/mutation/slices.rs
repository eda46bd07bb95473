use async_graphql::{Context, ID, Object};

use crate::{
    access,
    graphql::{
        context::{principal, state},
        error::ApiResult,
        inputs::{CreateSliceInput, UpdateSliceInput},
        types::SliceNode,
    },
    slices,
};

#[derive(Default)]
pub struct SliceMutations;

#[Object]
impl SliceMutations {
    /// Operators: creates a slice.
    async fn create_slice(&self, ctx: &Context<'_>, input: CreateSliceInput) -> ApiResult<SliceNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let operator = access::require_operator(principal)?;
        Ok(SliceNode(slices::create(&state.db, state.clock.as_ref(), operator, input.into()).await?))
    }

    /// Operators: changes a slice. A field left out is unchanged.
    async fn update_slice(&self, ctx: &Context<'_>, id: ID, input: UpdateSliceInput) -> ApiResult<SliceNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let slice = access::visible_slice(&state.db, principal, &id).await?;
        let operator = access::require_operator(principal)?;
        let patch = input.into_patch()?;
        let updated =
            slices::update(&state.db, state.clock.as_ref(), &state.events, operator, Some(principal.user.id), slice.id, patch)
                .await?;
        Ok(SliceNode(updated))
    }
}
