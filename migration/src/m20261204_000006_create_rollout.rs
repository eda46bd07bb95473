//! Creates the stored rollout schedule and the record of applied steps.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RolloutSchedules {
    Table,
    Id,
    VisibleAt,
    WarnAt,
    EnforceAt,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum RolloutSteps {
    Table,
    Phase,
    EffectiveAt,
    AppliedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RolloutSchedules::Table)
                    .col(integer(RolloutSchedules::Id).primary_key())
                    .col(timestamp_with_time_zone(RolloutSchedules::VisibleAt))
                    .col(timestamp_with_time_zone(RolloutSchedules::WarnAt))
                    .col(timestamp_with_time_zone(RolloutSchedules::EnforceAt))
                    .col(timestamp_with_time_zone(RolloutSchedules::UpdatedAt))
                    .col(uuid_null(RolloutSchedules::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RolloutSteps::Table)
                    .col(string_len(RolloutSteps::Phase, 16).primary_key())
                    .col(timestamp_with_time_zone(RolloutSteps::EffectiveAt))
                    .col(timestamp_with_time_zone_null(RolloutSteps::AppliedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RolloutSteps::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RolloutSchedules::Table).to_owned()).await
    }
}
