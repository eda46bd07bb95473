//! Query fields for the rollout schedule.

use async_graphql::{Context, Object};

use crate::{
    graphql::{
        context::{principal, state},
        error::ApiResult,
        types::RolloutStep,
    },
    rollout,
};

#[derive(Default)]
pub struct RolloutQuery;

#[Object]
impl RolloutQuery {
    /// The rollout's steps in order, each with the instant it takes effect and when it was applied.
    async fn rollout_schedule(&self, ctx: &Context<'_>) -> ApiResult<Vec<RolloutStep>> {
        principal(ctx)?;
        let state = state(ctx)?;
        let steps = rollout::steps(&state.db, &state.config).await?;
        Ok(steps.into_iter().map(RolloutStep::from).collect())
    }
}
