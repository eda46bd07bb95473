//! Creates slices, users and sessions with the indexes their queries use.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Slices {
    Table,
    Id,
    Name,
    NameKey,
    DisplayName,
    Customer,
    Kind,
    Edition,
    OwnedNamedLicenses,
    OwnedConcurrentLicenses,
    RenewalDate,
    EnforcementMode,
    ModePinned,
    AlertThresholdPercent,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    SliceId,
    Username,
    UsernameKey,
    Email,
    DisplayName,
    LicenseType,
    Role,
    Active,
    PasswordHash,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    SliceId,
    Channel,
    TokenHash,
    StartedAt,
    LastSeenAt,
    IdleExpiresAt,
    AbsoluteExpiresAt,
    EndedAt,
    EndReason,
    ClientAddress,
    UserAgent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Slices::Table)
                    .col(pk_uuid(Slices::Id))
                    .col(string(Slices::Name))
                    .col(string_uniq(Slices::NameKey))
                    .col(string(Slices::DisplayName))
                    .col(string_null(Slices::Customer))
                    .col(string_len(Slices::Kind, 16))
                    .col(string_len(Slices::Edition, 32))
                    .col(integer(Slices::OwnedNamedLicenses))
                    .col(integer(Slices::OwnedConcurrentLicenses))
                    .col(date_null(Slices::RenewalDate))
                    .col(string_len(Slices::EnforcementMode, 16))
                    .col(boolean(Slices::ModePinned))
                    .col(integer(Slices::AlertThresholdPercent))
                    .col(big_integer(Slices::Version))
                    .col(timestamp_with_time_zone(Slices::CreatedAt))
                    .col(timestamp_with_time_zone(Slices::UpdatedAt))
                    .check(Expr::col(Slices::OwnedNamedLicenses).gte(0))
                    .check(Expr::col(Slices::OwnedConcurrentLicenses).gte(0))
                    .check(Expr::col(Slices::AlertThresholdPercent).between(1, 100))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_slices_customer")
                    .table(Slices::Table)
                    .col(Slices::Customer)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(uuid_null(Users::SliceId))
                    .col(string(Users::Username))
                    .col(string(Users::UsernameKey))
                    .col(string(Users::Email))
                    .col(string(Users::DisplayName))
                    .col(string_len_null(Users::LicenseType, 16))
                    .col(string_len(Users::Role, 16))
                    .col(boolean(Users::Active))
                    .col(string(Users::PasswordHash))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_slice")
                            .from(Users::Table, Users::SliceId)
                            .to(Slices::Table, Slices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Usernames are unique per slice, and operators (who have no slice) need an index of
        // their own because NULL slice ids never collide in a composite unique index.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_users_slice_username ON users (slice_id, username_key) \
             WHERE slice_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX uq_users_operator_username ON users (username_key) \
             WHERE slice_id IS NULL",
        )
        .await?;
        for (name, columns) in [
            ("idx_users_slice_last_login", vec![Users::SliceId, Users::LastLoginAt, Users::Id]),
            ("idx_users_slice_created", vec![Users::SliceId, Users::CreatedAt, Users::Id]),
            ("idx_users_slice_license", vec![Users::SliceId, Users::LicenseType, Users::Active]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Users::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(uuid_null(Sessions::SliceId))
                    .col(string_len(Sessions::Channel, 16))
                    .col(string_len_uniq(Sessions::TokenHash, 64))
                    .col(timestamp_with_time_zone(Sessions::StartedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::IdleExpiresAt))
                    .col(timestamp_with_time_zone(Sessions::AbsoluteExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::EndedAt))
                    .col(string_len_null(Sessions::EndReason, 32))
                    .col(string_null(Sessions::ClientAddress))
                    .col(string_null(Sessions::UserAgent))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_slice")
                            .from(Sessions::Table, Sessions::SliceId)
                            .to(Slices::Table, Slices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("idx_sessions_user_started", vec![Sessions::UserId, Sessions::StartedAt]),
            ("idx_sessions_slice_open", vec![Sessions::SliceId, Sessions::EndedAt, Sessions::StartedAt]),
            ("idx_sessions_open_idle", vec![Sessions::EndedAt, Sessions::IdleExpiresAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Sessions::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Slices::Table).to_owned()).await?;
        Ok(())
    }
}
