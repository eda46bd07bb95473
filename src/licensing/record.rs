//! Writing compliance events inside the deciding transaction.

use chrono::{DateTime, Utc};
use entity::{ComplianceEventKind, EmailStatus, EnforcementMode, LicenseType, compliance_event};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

use super::UsageLevel;
use crate::{error::AppResult, history};

/// The fields of a compliance event before it is written.
#[derive(Debug, Clone)]
pub struct EventDraft {
    pub kind: ComplianceEventKind,
    pub license_type: Option<LicenseType>,
    pub level: Option<UsageLevel>,
    pub in_use: Option<u64>,
    pub owned: Option<u64>,
    pub user_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub from_mode: Option<EnforcementMode>,
    pub to_mode: Option<EnforcementMode>,
    pub message: String,
}

impl EventDraft {
    pub fn new(kind: ComplianceEventKind, message: String) -> Self {
        Self {
            kind,
            license_type: None,
            level: None,
            in_use: None,
            owned: None,
            user_id: None,
            actor_id: None,
            from_mode: None,
            to_mode: None,
            message,
        }
    }

    /// Sets the license type and the counts behind the decision.
    pub fn counts(mut self, license_type: LicenseType, in_use: u64, owned: u64) -> Self {
        self.license_type = Some(license_type);
        self.in_use = Some(in_use);
        self.owned = Some(owned);
        self
    }
}

/// Maps a computed level onto its stored form.
pub fn stored_level(level: UsageLevel) -> entity::UsageLevel {
    match level {
        UsageLevel::Within => entity::UsageLevel::Within,
        UsageLevel::Approaching => entity::UsageLevel::Approaching,
        UsageLevel::AtLimit => entity::UsageLevel::AtLimit,
        UsageLevel::Over => entity::UsageLevel::Over,
    }
}

/// Returns a license type as the API spells it.
pub fn type_name(license_type: LicenseType) -> &'static str {
    match license_type {
        LicenseType::Named => "NAMED",
        LicenseType::Concurrent => "CONCURRENT",
        LicenseType::SelfService => "SELF_SERVICE",
        LicenseType::WebServices => "WEB_SERVICES",
    }
}

fn to_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Inserts a compliance event of `slice_id` in the caller's transaction; a
/// blocked or would-be-blocked login also counts in the day's usage history.
///
/// NOTE: email status stays NOT_REQUIRED until alert mail is sent.
pub async fn record(
    txn: &impl ConnectionTrait,
    slice_id: Uuid,
    draft: EventDraft,
    now: DateTime<Utc>,
) -> AppResult<compliance_event::Model> {
    let model = compliance_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        slice_id: Set(slice_id),
        kind: Set(draft.kind),
        license_type: Set(draft.license_type),
        level: Set(draft.level.map(stored_level)),
        in_use: Set(draft.in_use.map(to_i32)),
        owned: Set(draft.owned.map(to_i32)),
        user_id: Set(draft.user_id),
        actor_id: Set(draft.actor_id),
        from_mode: Set(draft.from_mode),
        to_mode: Set(draft.to_mode),
        message: Set(draft.message),
        occurred_at: Set(now),
        email_status: Set(EmailStatus::NotRequired),
    };
    let event = model.insert(txn).await?;
    let counter = match event.kind {
        ComplianceEventKind::LoginBlocked => Some(history::Counter::LoginBlocked),
        ComplianceEventKind::LoginWouldBeBlocked => Some(history::Counter::LoginWouldBeBlocked),
        _ => None,
    };
    if let Some(counter) = counter {
        history::count(txn, slice_id, counter, now).await?;
    }
    tracing::info!(slice_id = %slice_id, kind = ?event.kind, in_use = ?event.in_use, owned = ?event.owned, "compliance event recorded");
    Ok(event)
}
