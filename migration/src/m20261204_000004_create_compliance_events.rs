//! Creates compliance events and the per-slice alert state behind level events.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ComplianceEvents {
    Table,
    Id,
    SliceId,
    Kind,
    LicenseType,
    Level,
    InUse,
    Owned,
    UserId,
    ActorId,
    FromMode,
    ToMode,
    Message,
    OccurredAt,
    EmailStatus,
}

#[derive(DeriveIden)]
enum AlertStates {
    Table,
    SliceId,
    LicenseType,
    Level,
    ApproachingOn,
    LimitReachedOn,
    OverLimitOn,
}

#[derive(DeriveIden)]
enum Slices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ComplianceEvents::Table)
                    .col(pk_uuid(ComplianceEvents::Id))
                    .col(uuid(ComplianceEvents::SliceId))
                    .col(string_len(ComplianceEvents::Kind, 32))
                    .col(string_len_null(ComplianceEvents::LicenseType, 16))
                    .col(string_len_null(ComplianceEvents::Level, 16))
                    .col(integer_null(ComplianceEvents::InUse))
                    .col(integer_null(ComplianceEvents::Owned))
                    .col(uuid_null(ComplianceEvents::UserId))
                    .col(uuid_null(ComplianceEvents::ActorId))
                    .col(string_len_null(ComplianceEvents::FromMode, 16))
                    .col(string_len_null(ComplianceEvents::ToMode, 16))
                    .col(text(ComplianceEvents::Message))
                    .col(timestamp_with_time_zone(ComplianceEvents::OccurredAt))
                    .col(string_len(ComplianceEvents::EmailStatus, 16))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_compliance_events_slice")
                            .from(ComplianceEvents::Table, ComplianceEvents::SliceId)
                            .to(Slices::Table, Slices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_compliance_events_user")
                            .from(ComplianceEvents::Table, ComplianceEvents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_compliance_events_actor")
                            .from(ComplianceEvents::Table, ComplianceEvents::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_compliance_events_slice_time")
                    .table(ComplianceEvents::Table)
                    .col(ComplianceEvents::SliceId)
                    .col(ComplianceEvents::OccurredAt)
                    .col(ComplianceEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AlertStates::Table)
                    .col(uuid(AlertStates::SliceId))
                    .col(string_len(AlertStates::LicenseType, 16))
                    .col(string_len(AlertStates::Level, 16))
                    .col(date_null(AlertStates::ApproachingOn))
                    .col(date_null(AlertStates::LimitReachedOn))
                    .col(date_null(AlertStates::OverLimitOn))
                    .primary_key(Index::create().col(AlertStates::SliceId).col(AlertStates::LicenseType))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_states_slice")
                            .from(AlertStates::Table, AlertStates::SliceId)
                            .to(Slices::Table, Slices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AlertStates::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ComplianceEvents::Table).to_owned()).await
    }
}
