//! Alert emails for recorded compliance events.
//!
//! Which events are emailed depends on the slice's mode: in WARN, usage going
//! OVER what the slice owns; in ENFORCE, usage approaching, reaching and
//! exceeding it; in any mode, a change of the mode itself. Blocked and
//! would-be-blocked decisions are not emailed one by one. Every active
//! administrator of the slice receives one email, written to the outbox in
//! the transaction that recorded the event, with the event's counts; a slice
//! without administrators marks the event SUPPRESSED.

use std::collections::HashMap;

use entity::{ComplianceEventKind, EmailStatus, EnforcementMode, compliance_event, slice};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{
    error::AppResult,
    events::Event,
    licensing::type_name,
    mail::{self, EmailDraft, Line},
    slices::mode_name,
    users,
};

/// Tells whether an event of `kind` is emailed while the slice is in `mode`.
pub fn requires_email(kind: ComplianceEventKind, mode: EnforcementMode) -> bool {
    match kind {
        ComplianceEventKind::ModeChanged => true,
        ComplianceEventKind::OverLimit => mode != EnforcementMode::Off,
        ComplianceEventKind::ApproachingLimit | ComplianceEventKind::LimitReached => mode == EnforcementMode::Enforce,
        ComplianceEventKind::LoginBlocked
        | ComplianceEventKind::AssignmentBlocked
        | ComplianceEventKind::LoginWouldBeBlocked
        | ComplianceEventKind::AssignmentWouldBeBlocked => false,
    }
}

fn level_words(kind: ComplianceEventKind) -> &'static str {
    match kind {
        ComplianceEventKind::ApproachingLimit => "approaching the limit",
        ComplianceEventKind::LimitReached => "at the limit",
        ComplianceEventKind::OverLimit => "over the limit",
        _ => "changed",
    }
}

/// Builds the subject and body of the alert for `event` of `slice`.
fn compose(slice: &slice::Model, event: &compliance_event::Model, public_base_url: &str) -> (String, mail::RenderedBody) {
    let (subject, summary) = match (event.kind, event.license_type) {
        (ComplianceEventKind::ModeChanged, _) => {
            let from = event.from_mode.map_or("?", mode_name);
            let to = event.to_mode.map_or("?", mode_name);
            (
                format!("[{}] License enforcement mode changed from {from} to {to}", slice.name),
                format!("The license enforcement mode of {} is now {to} (it was {from}).", slice.display_name),
            )
        }
        (kind, Some(license_type)) => {
            let in_use = event.in_use.unwrap_or(0);
            let owned = event.owned.unwrap_or(0);
            let words = level_words(kind);
            (
                format!("[{}] {} licenses {words}: {in_use} in use of {owned} owned", slice.name, type_name(license_type)),
                format!(
                    "{} uses {in_use} {} licenses and owns {owned}: usage is {words}.",
                    slice.display_name,
                    type_name(license_type)
                ),
            )
        }
        (kind, None) => (format!("[{}] {kind:?}", slice.name), event.message.clone()),
    };
    let lines = [
        Line::text(summary),
        Line::text(event.message.clone()),
        Line::text(format!("Recorded at {} (UTC).", event.occurred_at.format("%Y-%m-%d %H:%M:%S"))),
        Line::link("Review usage in GraphiQL", "/graphiql"),
    ];
    let body = mail::render(public_base_url, &subject, &lines);
    (subject, body)
}

/// Queues the alert emails that the compliance events among `events` require,
/// inside the transaction that recorded them, and sets each event's email status.
pub async fn queue(txn: &impl ConnectionTrait, events: &mut [Event], public_base_url: &str) -> AppResult<()> {
    let mut slices: HashMap<Uuid, (slice::Model, Vec<String>)> = HashMap::new();
    for event in events.iter_mut() {
        let Event::Compliance(recorded) = event else {
            continue;
        };
        if !slices.contains_key(&recorded.slice_id) {
            let Some(slice) = slice::Entity::find_by_id(recorded.slice_id).one(txn).await? else {
                continue;
            };
            let admins = users::admin_addresses(txn, slice.id).await?;
            slices.insert(slice.id, (slice, admins));
        }
        let Some((slice, admins)) = slices.get(&recorded.slice_id) else {
            continue;
        };
        if !requires_email(recorded.kind, slice.enforcement_mode) {
            continue;
        }
        if admins.is_empty() {
            compliance_event::Entity::update_many()
                .col_expr(compliance_event::Column::EmailStatus, Expr::value(EmailStatus::Suppressed))
                .filter(compliance_event::Column::Id.eq(recorded.id))
                .exec(txn)
                .await?;
            recorded.email_status = EmailStatus::Suppressed;
            tracing::warn!(slice_id = %slice.id, event_id = %recorded.id, "alert not emailed: the slice has no active administrator");
            continue;
        }
        let (subject, body) = compose(slice, recorded, public_base_url);
        let draft = EmailDraft::new(admins.clone(), subject, body).for_event(recorded.id);
        let queued = mail::enqueue(txn, draft, recorded.occurred_at).await?;
        recorded.email_status = EmailStatus::Pending;
        tracing::info!(slice_id = %slice.id, event_id = %recorded.id, outbox_id = %queued.id, recipients = admins.len(), "alert email queued");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_the_mode() {
        use ComplianceEventKind::*;
        use EnforcementMode::*;
        assert!(requires_email(OverLimit, Warn));
        assert!(!requires_email(ApproachingLimit, Warn));
        assert!(!requires_email(LimitReached, Warn));
        assert!(requires_email(ApproachingLimit, Enforce));
        assert!(requires_email(LimitReached, Enforce));
        assert!(requires_email(OverLimit, Enforce));
        assert!(!requires_email(OverLimit, Off));
        assert!(requires_email(ModeChanged, Off));
        assert!(!requires_email(LoginBlocked, Enforce));
        assert!(!requires_email(AssignmentWouldBeBlocked, Warn));
    }
}
