use async_graphql::Object;

use super::{ComplianceReportNode, SessionNode};
use crate::{events::SessionEvent, graphql::enums::SessionEventKind};

/// Usage as computed in the transaction that started or ended the session.
pub struct SessionEventNode(pub SessionEvent);

#[Object(name = "SessionEvent")]
impl SessionEventNode {
    async fn kind(&self) -> SessionEventKind {
        self.0.kind.into()
    }

    async fn session(&self) -> SessionNode {
        SessionNode(self.0.session.clone())
    }

    async fn usage(&self) -> ComplianceReportNode {
        ComplianceReportNode(self.0.usage.clone())
    }
}
