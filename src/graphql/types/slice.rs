use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::slice;

use super::{ComplianceReportNode, to_int};
use crate::{
    graphql::{
        context::{principal, state},
        enums::{Edition, EnforcementMode, SliceKind},
        error::ApiResult,
        scalars::Date,
    },
    licensing,
};

/// A customer environment.
pub struct SliceNode(pub slice::Model);

#[Object(name = "Slice")]
impl SliceNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Unique code typed at login, e.g. acme-prod (unique regardless of letter case).
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// The customer that owns this slice; groups a customer's staging and production slices.
    async fn customer(&self) -> Option<&str> {
        self.0.customer.as_deref()
    }

    async fn kind(&self) -> SliceKind {
        self.0.kind.into()
    }

    async fn edition(&self) -> Edition {
        self.0.edition.into()
    }

    async fn owned_named_licenses(&self) -> i32 {
        self.0.owned_named_licenses
    }

    async fn owned_concurrent_licenses(&self) -> i32 {
        self.0.owned_concurrent_licenses
    }

    async fn renewal_date(&self) -> Option<Date> {
        self.0.renewal_date.map(Date)
    }

    async fn enforcement_mode(&self) -> EnforcementMode {
        self.0.enforcement_mode.into()
    }

    /// True when an operator pinned the mode; the rollout then leaves this slice alone.
    async fn mode_pinned(&self) -> bool {
        self.0.mode_pinned
    }

    async fn alert_threshold_percent(&self) -> i32 {
        self.0.alert_threshold_percent
    }

    /// License usage now; for the slice's administrators and operators, FORBIDDEN for its members.
    async fn compliance(&self, ctx: &Context<'_>) -> ApiResult<ComplianceReportNode> {
        let principal = principal(ctx)?;
        let state = state(ctx)?;
        let report = licensing::report_for(&state.db, principal, &self.0.id.to_string(), state.clock.now()).await?;
        Ok(ComplianceReportNode(report))
    }

    /// Grows with every committed change of the slice's sessions, usage, owned counts or mode; events carry it too.
    async fn version(&self) -> i32 {
        to_int(self.0.version)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
