//! Writing emails into the outbox inside the caller's transaction.

use chrono::{DateTime, Utc};
use entity::{
    EmailStatus, compliance_event,
    outbox_email::{self, OutboxStatus},
};
use lettre::Address;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::template::RenderedBody;
use crate::error::{AppError, AppResult};

/// An email before it is written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailDraft {
    /// Recipient addresses, such as `ada@example.com`; at least one.
    pub to: Vec<String>,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The compliance event this email reports; its `email_status` follows delivery.
    pub compliance_event_id: Option<Uuid>,
}

impl EmailDraft {
    /// Builds a draft from a body made by [`super::render`].
    pub fn new(to: Vec<String>, subject: impl Into<String>, body: RenderedBody) -> Self {
        Self { to, subject: subject.into(), text: body.text, html: body.html, compliance_event_id: None }
    }

    /// Links the draft to the compliance event it reports.
    pub fn for_event(mut self, compliance_event_id: Uuid) -> Self {
        self.compliance_event_id = Some(compliance_event_id);
        self
    }
}

/// Parses one recipient address as the SMTP transport will: a bare address, no display name.
pub fn parse_address(address: &str) -> Option<Address> {
    address.trim().parse::<Address>().ok()
}

/// Writes `draft` to the outbox as PENDING and due at `now`, in the caller's
/// transaction, so the email exists exactly when the change it reports commits.
/// A linked compliance event's `email_status` becomes PENDING in the same transaction.
///
/// Fails with BAD_USER_INPUT when there is no recipient, an address is invalid
/// (see [`parse_address`]) or the subject contains a line break, and with
/// NOT_FOUND when the linked compliance event does not exist.
pub async fn enqueue(txn: &impl ConnectionTrait, draft: EmailDraft, now: DateTime<Utc>) -> AppResult<outbox_email::Model> {
    if draft.to.is_empty() {
        return Err(AppError::bad_input("to", "expected at least one recipient address"));
    }
    let mut recipients = Vec::with_capacity(draft.to.len());
    for address in &draft.to {
        let parsed = parse_address(address)
            .ok_or_else(|| AppError::bad_input("to", format!("{address:?} is not a valid email address")))?;
        recipients.push(parsed.to_string());
    }
    if draft.subject.contains(['\r', '\n']) {
        return Err(AppError::bad_input("subject", "expected one line of text without line breaks"));
    }
    let to_addresses = serde_json::to_string(&recipients).map_err(AppError::internal)?;

    if let Some(event_id) = draft.compliance_event_id {
        let updated = compliance_event::Entity::update_many()
            .col_expr(compliance_event::Column::EmailStatus, Expr::value(EmailStatus::Pending))
            .filter(compliance_event::Column::Id.eq(event_id))
            .exec(txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(AppError::NotFound { what: "compliance event" });
        }
    }

    let email = outbox_email::ActiveModel {
        id: Set(Uuid::now_v7()),
        to_addresses: Set(to_addresses),
        subject: Set(draft.subject),
        text_body: Set(draft.text),
        html_body: Set(draft.html),
        message_id: Set(None),
        compliance_event_id: Set(draft.compliance_event_id),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(txn)
    .await?;
    tracing::debug!(outbox_id = %email.id, compliance_event_id = ?email.compliance_event_id, "email queued");
    Ok(email)
}

/// Reads the recipients stored by [`enqueue`].
pub(super) fn stored_recipients(email: &outbox_email::Model) -> Result<Vec<Address>, String> {
    let addresses: Vec<String> = serde_json::from_str(&email.to_addresses)
        .map_err(|error| format!("to_addresses is not a JSON array of strings: {error}"))?;
    if addresses.is_empty() {
        return Err("to_addresses is empty".to_owned());
    }
    addresses
        .iter()
        .map(|address| parse_address(address).ok_or_else(|| format!("{address:?} is not a valid email address")))
        .collect()
}
