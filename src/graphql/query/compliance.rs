//! Query fields for license compliance.

use async_graphql::{Context, ID, Object};

use crate::graphql::{
    context::{principal, state},
    error::ApiResult,
    types::ComplianceReportNode,
};
use crate::licensing;

#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// The slice's license usage now, for its administrators and operators.
    async fn compliance(&self, ctx: &Context<'_>, slice_id: ID) -> ApiResult<ComplianceReportNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let report = licensing::report_for(&state.db, principal, &slice_id, state.clock.now()).await?;
        Ok(ComplianceReportNode(report))
    }
}
