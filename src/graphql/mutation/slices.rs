use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::{
    access,
    graphql::{
        context::{principal, state},
        error::ApiResult,
        inputs::{CreateSliceInput, UpdateSliceInput},
        types::{RolloutStep, SliceNode},
    },
    rollout, slices,
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
        let phase_mode = rollout::current_mode(&state.db, &state.config, state.clock.now()).await?;
        Ok(SliceNode(slices::create(&state.db, state.clock.as_ref(), operator, input.into(), phase_mode).await?))
    }

    /// Operators. Unpinned production slices take the resulting phase's mode at once. A null visibleAt keeps the current one.
    async fn set_rollout_schedule(
        &self,
        ctx: &Context<'_>,
        visible_at: Option<DateTime<Utc>>,
        warn_at: DateTime<Utc>,
        enforce_at: DateTime<Utc>,
    ) -> ApiResult<Vec<RolloutStep>> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let operator = access::require_operator(principal)?;
        let steps = rollout::set_schedule(
            &state.db,
            state.clock.as_ref(),
            &state.events,
            &state.config,
            operator,
            principal.user.id,
            visible_at,
            warn_at,
            enforce_at,
        )
        .await?;
        Ok(steps.into_iter().map(RolloutStep::from).collect())
    }

    /// Operators: changes a slice. A field left out is unchanged.
    async fn update_slice(&self, ctx: &Context<'_>, id: ID, input: UpdateSliceInput) -> ApiResult<SliceNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let slice = access::visible_slice(&state.db, principal, &id).await?;
        let operator = access::require_operator(principal)?;
        let patch = input.into_patch()?;
        let phase_mode = rollout::current_mode(&state.db, &state.config, state.clock.now()).await?;
        let actor_id = Some(principal.user.id);
        let updated =
            slices::update(&state.db, state.clock.as_ref(), &state.events, operator, actor_id, slice.id, patch, phase_mode)
                .await?;
        Ok(SliceNode(updated))
    }
}
