//! Query fields for the Subscription Center.

use async_graphql::{Context, ID, Object};

use crate::{
    graphql::{
        context::{principal, state},
        error::ApiResult,
        types::SubscriptionCenterNode,
    },
    licensing,
};

#[derive(Default)]
pub struct SubscriptionCenterQuery;

#[Object]
impl SubscriptionCenterQuery {
    /// What the slice owns and uses, its renewal, usage history and warnings;
    /// for its administrators and operators, FORBIDDEN for its members.
    async fn subscription_center(&self, ctx: &Context<'_>, slice_id: ID) -> ApiResult<SubscriptionCenterNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let now = state.clock.now();
        let (slice, report) = licensing::administered_report(&state.db, principal, &slice_id, now).await?;
        Ok(SubscriptionCenterNode { slice, report, today: now.date_naive() })
    }
}
