//! `ComplianceReport` and `LicenseUsage`, wrapping the licensing module's report.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};

use super::to_int;
use crate::{
    graphql::enums::{EnforcementMode, LicenseType, UsageLevel},
    licensing,
};

/// Usage of one license type in a slice.
pub struct LicenseUsageNode(pub licensing::LicenseUsage);

#[Object(name = "LicenseUsage")]
impl LicenseUsageNode {
    async fn license_type(&self) -> LicenseType {
        self.0.license_type.into()
    }

    /// Null where the type is unlimited.
    async fn owned(&self) -> Option<i32> {
        self.0.owned.map(to_int)
    }

    async fn in_use(&self) -> i32 {
        to_int(self.0.in_use)
    }

    /// Null where unlimited; never negative.
    async fn available(&self) -> Option<i32> {
        self.0.available.map(to_int)
    }

    async fn over_by(&self) -> i32 {
        to_int(self.0.over_by)
    }

    /// Null where unlimited or nothing is owned.
    async fn percent_used(&self) -> Option<f64> {
        self.0.percent_used
    }

    async fn level(&self) -> UsageLevel {
        self.0.level.into()
    }
}

/// A slice's license usage at one instant, compared with what it owns.
pub struct ComplianceReportNode(pub licensing::ComplianceReport);

#[Object(name = "ComplianceReport")]
impl ComplianceReportNode {
    async fn slice_id(&self) -> ID {
        ID(self.0.slice_id.to_string())
    }

    async fn mode(&self) -> EnforcementMode {
        self.0.mode.into()
    }

    async fn named(&self) -> LicenseUsageNode {
        LicenseUsageNode(self.0.named)
    }

    async fn concurrent(&self) -> LicenseUsageNode {
        LicenseUsageNode(self.0.concurrent)
    }

    async fn self_service(&self) -> LicenseUsageNode {
        LicenseUsageNode(self.0.self_service)
    }

    async fn web_services(&self) -> LicenseUsageNode {
        LicenseUsageNode(self.0.web_services)
    }

    /// False when NAMED or CONCURRENT usage is over what is owned.
    async fn compliant(&self) -> bool {
        self.0.compliant
    }

    async fn evaluated_at(&self) -> DateTime<Utc> {
        self.0.evaluated_at
    }

    /// The slice's version when this report was computed.
    async fn version(&self) -> i32 {
        to_int(self.0.version)
    }
}
