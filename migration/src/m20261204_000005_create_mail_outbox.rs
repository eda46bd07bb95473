//! Creates the outbox of emails that the dispatcher delivers.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutboxEmails {
    Table,
    Id,
    ToAddresses,
    Subject,
    TextBody,
    HtmlBody,
    MessageId,
    ComplianceEventId,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum ComplianceEvents {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxEmails::Table)
                    .col(pk_uuid(OutboxEmails::Id))
                    .col(text(OutboxEmails::ToAddresses))
                    .col(text(OutboxEmails::Subject))
                    .col(text(OutboxEmails::TextBody))
                    .col(text(OutboxEmails::HtmlBody))
                    .col(string_len_null(OutboxEmails::MessageId, 255))
                    .col(uuid_null(OutboxEmails::ComplianceEventId))
                    .col(string_len(OutboxEmails::Status, 16))
                    .col(integer(OutboxEmails::Attempts))
                    .col(timestamp_with_time_zone(OutboxEmails::NextAttemptAt))
                    .col(text_null(OutboxEmails::LastError))
                    .col(timestamp_with_time_zone(OutboxEmails::CreatedAt))
                    .col(timestamp_with_time_zone_null(OutboxEmails::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_emails_compliance_event")
                            .from(OutboxEmails::Table, OutboxEmails::ComplianceEventId)
                            .to(ComplianceEvents::Table, ComplianceEvents::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The dispatcher's query: PENDING emails due at an instant, oldest due first.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_emails_status_next_attempt")
                    .table(OutboxEmails::Table)
                    .col(OutboxEmails::Status)
                    .col(OutboxEmails::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // Deleting a compliance event sets this column to null; PostgreSQL does
        // not index foreign keys on its own.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_emails_compliance_event")
                    .table(OutboxEmails::Table)
                    .col(OutboxEmails::ComplianceEventId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OutboxEmails::Table).to_owned()).await
    }
}
