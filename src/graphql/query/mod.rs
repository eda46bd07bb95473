//! Root query fields, one object per concern merged into one root. Resolvers
//! authorize, call the domain and wrap the result.

mod compliance;
mod compliance_events;
mod directory;
mod rollout;
mod sessions;
mod subscription_center;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    directory::DirectoryQuery,
    compliance::ComplianceQuery,
    compliance_events::ComplianceEventQuery,
    sessions::SessionQuery,
    rollout::RolloutQuery,
    subscription_center::SubscriptionCenterQuery,
);
