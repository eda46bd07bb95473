//! Query fields for the recorded compliance events of a slice.

use async_graphql::{Context, ID, Object};

use crate::{
    access,
    graphql::{
        context::{principal, state},
        error::ApiResult,
        inputs::ComplianceEventFilter,
        types::ComplianceEventConnection,
    },
    licensing,
};

#[derive(Default)]
pub struct ComplianceEventQuery;

#[Object]
impl ComplianceEventQuery {
    /// Newest first. For the slice's administrators and operators.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 100) as usize * child_complexity")]
    async fn compliance_events(
        &self,
        ctx: &Context<'_>,
        slice_id: ID,
        filter: Option<ComplianceEventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ComplianceEventConnection> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let slice = access::administered_slice(&state.db, principal, &slice_id).await?;
        let filter = filter.map(Into::into).unwrap_or_default();
        let page =
            licensing::list_events(&state.db, &slice, filter, first, after.as_deref(), state.config.max_page_size).await?;
        Ok(page.into())
    }
}
