use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::slice;

use super::to_int;
use crate::graphql::{
    enums::{Edition, EnforcementMode, SliceKind},
    scalars::Date,
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

    /// Grows with every committed change of the slice's sessions, usage, owned counts or mode; events carry it too.
    async fn version(&self) -> i32 {
        to_int(self.0.version)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
