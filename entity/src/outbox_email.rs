//! An email waiting in, or delivered from, the outbox.

use sea_orm::entity::prelude::*;

/// Delivery state of an outbox email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OutboxStatus {
    /// Not delivered yet; the dispatcher tries it again from `next_attempt_at` on.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Rejected permanently, or still undelivered when the dispatcher gave up.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Recipient addresses as a JSON array of strings.
    pub to_addresses: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Message-ID header, such as `<ID@example.com>`. Null until the dispatcher
    /// first claims the row, then kept for every resend.
    pub message_id: Option<String>,
    /// The compliance event this email reports, whose `email_status` follows delivery.
    pub compliance_event_id: Option<Uuid>,
    pub status: OutboxStatus,
    /// Delivery attempts made so far, successful or not.
    pub attempts: i32,
    /// A PENDING email is due from this instant on. While a dispatcher works
    /// on the email, it is the end of that dispatcher's claim.
    pub next_attempt_at: DateTimeUtc,
    /// Error of the latest failed attempt, with any SMTP password removed.
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::compliance_event::Entity",
        from = "Column::ComplianceEventId",
        to = "super::compliance_event::Column::Id",
        on_delete = "SetNull"
    )]
    ComplianceEvent,
}

impl Related<super::compliance_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ComplianceEvent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
