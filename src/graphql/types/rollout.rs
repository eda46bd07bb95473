use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use crate::{graphql::enums::RolloutPhase, rollout::StepStatus};

#[derive(SimpleObject)]
pub struct RolloutStep {
    pub phase: RolloutPhase,
    pub effective_at: DateTime<Utc>,
    /// Null until the scheduler has applied the step.
    pub applied_at: Option<DateTime<Utc>>,
}

impl From<StepStatus> for RolloutStep {
    fn from(step: StepStatus) -> Self {
        Self { phase: step.phase.into(), effective_at: step.effective_at, applied_at: step.applied_at }
    }
}
