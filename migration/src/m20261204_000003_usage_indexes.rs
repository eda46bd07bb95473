//! Adds the indexes behind the license usage counts.
//!
//! Usage is computed from the rows at the instant the service's clock gives,
//! not kept in counters: a session stops holding its seat the instant one of
//! its deadlines passes, and nothing is written at that instant that could
//! update a counter. With these indexes every count reads only indexes, on
//! SQLite and on PostgreSQL (there once VACUUM has marked the pages all-visible):
//!
//! - Active users per license type read `idx_users_slice_license_id` over
//!   `(slice_id, license_type, active)`.
//! - CONCURRENT seats read the live WEB sessions from `idx_sessions_live_seats`,
//!   a partial index over the sessions that have not ended (so the slice's
//!   history of ended sessions adds nothing to it), and find each session's
//!   user in `idx_users_slice_license_id` through its trailing `id`. The
//!   sessions index ends in `ended_at`, which is always NULL in it, because
//!   SQLite (3.54, as bundled by libsqlite3-sys 0.40) reads the table as well
//!   when the query names a column that only the index's WHERE clause contains.
//!
//! `idx_users_slice_license_id` replaces `idx_users_slice_license`, whose
//! columns are its prefix, so the queries that used the old index use the new one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_sessions_live_seats \
             ON sessions (slice_id, channel, idle_expires_at, absolute_expires_at, user_id, ended_at) \
             WHERE ended_at IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX idx_users_slice_license_id ON users (slice_id, license_type, active, id)")
            .await?;
        db.execute_unprepared("DROP INDEX idx_users_slice_license").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX idx_users_slice_license ON users (slice_id, license_type, active)")
            .await?;
        db.execute_unprepared("DROP INDEX idx_users_slice_license_id").await?;
        db.execute_unprepared("DROP INDEX idx_sessions_live_seats").await?;
        Ok(())
    }
}
