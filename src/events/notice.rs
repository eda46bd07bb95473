//! Events as notices sent with `pg_notify`, and back.
//!
//! A notice names the rows an event is about (a session, a compliance event),
//! which the receiving instance loads. The slice's usage report travels in
//! the notice, because it was computed inside the deciding transaction and
//! cannot be recomputed later for that version.

use std::collections::HashMap;

use entity::{compliance_event, session};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Event, SessionEvent, SessionEventKind};
use crate::{error::AppResult, licensing::ComplianceReport};

/// The PostgreSQL channel every instance listens on.
pub const CHANNEL: &str = "seatwarden_events";

/// Largest payload of one notification. PostgreSQL accepts up to 8000 bytes,
/// so this leaves room for the channel name and the server's framing.
const MAX_PAYLOAD: usize = 7000;

/// One committed event, without the rows the receiver loads itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    SessionStarted { session_id: Uuid, usage: ComplianceReport },
    SessionEnded { session_id: Uuid, usage: ComplianceReport },
    Usage { usage: ComplianceReport },
    Compliance { event_id: Uuid },
    OperatorSessionEnded { session_id: Uuid },
}

impl Notice {
    fn of(event: &Event) -> Self {
        match event {
            Event::Session(event) => match event.kind {
                SessionEventKind::Started => Notice::SessionStarted { session_id: event.session.id, usage: event.usage.clone() },
                SessionEventKind::Ended => Notice::SessionEnded { session_id: event.session.id, usage: event.usage.clone() },
            },
            Event::Usage(report) => Notice::Usage { usage: report.clone() },
            Event::Compliance(event) => Notice::Compliance { event_id: event.id },
            Event::OperatorSessionEnded { session_id } => Notice::OperatorSessionEnded { session_id: *session_id },
        }
    }
}

/// Encodes events as JSON arrays of notices, each array small enough for one notification.
pub fn encode(events: &[Event]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for event in events {
        // serde_json fails only on maps with non-string keys; a notice holds no map.
        let Ok(item) = serde_json::to_string(&Notice::of(event)) else {
            continue;
        };
        if !current.is_empty() && current.len() + item.len() + 2 > MAX_PAYLOAD {
            current.push(']');
            payloads.push(std::mem::take(&mut current));
        }
        current.push(if current.is_empty() { '[' } else { ',' });
        current.push_str(&item);
    }
    if !current.is_empty() {
        current.push(']');
        payloads.push(current);
    }
    payloads
}

/// Decodes one notification's payload.
pub fn decode(payload: &str) -> Result<Vec<Notice>, serde_json::Error> {
    serde_json::from_str(payload)
}

/// Loads the rows the notices name and rebuilds their events, in order. A
/// row deleted since (its slice was deleted) drops its event.
pub async fn load(db: &impl ConnectionTrait, notices: Vec<Notice>) -> AppResult<Vec<Event>> {
    let session_ids: Vec<Uuid> = notices
        .iter()
        .filter_map(|notice| match notice {
            Notice::SessionStarted { session_id, .. } | Notice::SessionEnded { session_id, .. } => Some(*session_id),
            _ => None,
        })
        .collect();
    let event_ids: Vec<Uuid> = notices
        .iter()
        .filter_map(|notice| match notice {
            Notice::Compliance { event_id } => Some(*event_id),
            _ => None,
        })
        .collect();
    let sessions: HashMap<Uuid, session::Model> = if session_ids.is_empty() {
        HashMap::new()
    } else {
        session::Entity::find()
            .filter(session::Column::Id.is_in(session_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect()
    };
    let compliance: HashMap<Uuid, compliance_event::Model> = if event_ids.is_empty() {
        HashMap::new()
    } else {
        compliance_event::Entity::find()
            .filter(compliance_event::Column::Id.is_in(event_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect()
    };

    let mut events = Vec::with_capacity(notices.len());
    for notice in notices {
        let event = match notice {
            Notice::SessionStarted { session_id, usage } => session_event(&sessions, SessionEventKind::Started, session_id, usage),
            Notice::SessionEnded { session_id, usage } => session_event(&sessions, SessionEventKind::Ended, session_id, usage),
            Notice::Usage { usage } => Some(Event::Usage(usage)),
            Notice::Compliance { event_id } => compliance.get(&event_id).cloned().map(Event::Compliance),
            Notice::OperatorSessionEnded { session_id } => Some(Event::OperatorSessionEnded { session_id }),
        };
        match event {
            Some(event) => events.push(event),
            None => tracing::debug!("a notice names a row that no longer exists; its event is dropped"),
        }
    }
    Ok(events)
}

fn session_event(
    sessions: &HashMap<Uuid, session::Model>,
    kind: SessionEventKind,
    session_id: Uuid,
    usage: ComplianceReport,
) -> Option<Event> {
    let session = sessions.get(&session_id)?.clone();
    Some(Event::Session(SessionEvent { kind, session, usage }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use entity::{EnforcementMode, LicenseType};

    use super::*;
    use crate::licensing::LicenseUsage;

    fn report(slice_id: Uuid, version: i64) -> ComplianceReport {
        ComplianceReport {
            slice_id,
            mode: EnforcementMode::Warn,
            named: LicenseUsage::limited(LicenseType::Named, 3, 10, 80),
            concurrent: LicenseUsage::limited(LicenseType::Concurrent, 1, 3, 80),
            self_service: LicenseUsage::unlimited(LicenseType::SelfService, 4),
            web_services: LicenseUsage::unlimited(LicenseType::WebServices, 0),
            compliant: true,
            evaluated_at: chrono::Utc.with_ymd_and_hms(2027, 1, 4, 9, 30, 0).unwrap(),
            version,
        }
    }

    #[test]
    fn notices_round_trip_in_bounded_payloads() {
        let slice_id = Uuid::now_v7();
        let events: Vec<Event> = (0..60).map(|version| Event::Usage(report(slice_id, version))).collect();
        let payloads = encode(&events);
        assert!(payloads.len() > 1, "60 reports do not fit one notification");
        assert!(payloads.iter().all(|payload| payload.len() <= MAX_PAYLOAD));
        let decoded: Vec<Notice> = payloads.iter().flat_map(|payload| decode(payload).unwrap()).collect();
        let expected: Vec<Notice> = (0..60).map(|version| Notice::Usage { usage: report(slice_id, version) }).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn no_events_send_no_notification() {
        assert!(encode(&[]).is_empty());
    }
}
