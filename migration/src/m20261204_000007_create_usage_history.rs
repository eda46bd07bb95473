//! Creates the daily usage history, the log of seat changes and the record of
//! notices sent (renewal reminders, unused-license digests).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Slices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UsageDays {
    Table,
    SliceId,
    Day,
    NamedAssigned,
    NamedAtEnd,
    ConcurrentPeak,
    SeatsAtEnd,
    SessionsStarted,
    LoginsBlocked,
    LoginsWouldBeBlocked,
}

#[derive(DeriveIden)]
enum SeatChanges {
    Table,
    Id,
    SliceId,
    At,
    SeatsInUse,
}

#[derive(DeriveIden)]
enum NoticesSent {
    Table,
    SliceId,
    Kind,
    Key,
    SentAt,
}

fn slice_fk(name: &str, table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Slices::Table, Slices::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsageDays::Table)
                    .col(uuid(UsageDays::SliceId))
                    .col(date(UsageDays::Day))
                    .col(integer(UsageDays::NamedAssigned))
                    .col(integer(UsageDays::NamedAtEnd))
                    .col(integer(UsageDays::ConcurrentPeak))
                    .col(integer(UsageDays::SeatsAtEnd))
                    .col(integer(UsageDays::SessionsStarted))
                    .col(integer(UsageDays::LoginsBlocked))
                    .col(integer(UsageDays::LoginsWouldBeBlocked))
                    .primary_key(Index::create().col(UsageDays::SliceId).col(UsageDays::Day))
                    .foreign_key(&mut slice_fk("fk_usage_days_slice", UsageDays::Table, UsageDays::SliceId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SeatChanges::Table)
                    .col(uuid(SeatChanges::Id).primary_key())
                    .col(uuid(SeatChanges::SliceId))
                    .col(timestamp_with_time_zone(SeatChanges::At))
                    .col(integer(SeatChanges::SeatsInUse))
                    .foreign_key(&mut slice_fk("fk_seat_changes_slice", SeatChanges::Table, SeatChanges::SliceId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_seat_changes_slice_at")
                    .table(SeatChanges::Table)
                    .col(SeatChanges::SliceId)
                    .col(SeatChanges::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_seat_changes_at").table(SeatChanges::Table).col(SeatChanges::At).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NoticesSent::Table)
                    .col(uuid(NoticesSent::SliceId))
                    .col(string_len(NoticesSent::Kind, 32))
                    .col(string_len(NoticesSent::Key, 64))
                    .col(timestamp_with_time_zone(NoticesSent::SentAt))
                    .primary_key(Index::create().col(NoticesSent::SliceId).col(NoticesSent::Kind).col(NoticesSent::Key))
                    .foreign_key(&mut slice_fk("fk_notices_sent_slice", NoticesSent::Table, NoticesSent::SliceId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(NoticesSent::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SeatChanges::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(UsageDays::Table).to_owned()).await
    }
}
