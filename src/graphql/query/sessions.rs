//! Query fields for the sessions of a slice.

use async_graphql::{Context, ID, Object};

use crate::{
    access,
    graphql::{
        context::{principal, state},
        error::ApiResult,
        inputs::SessionFilter,
        types::SessionConnection,
    },
    sessions,
};

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The slice's sessions, newest first, for its administrators and operators.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 100) as usize * child_complexity")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        slice_id: ID,
        filter: Option<SessionFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<SessionConnection> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let slice = access::administered_slice(&state.db, principal, &slice_id).await?;
        let filter = filter.map(Into::into).unwrap_or_default();
        let now = state.clock.now();
        let page =
            sessions::list(&state.db, &slice, filter, first, after.as_deref(), state.config.max_page_size, now).await?;
        Ok(page.into())
    }
}
