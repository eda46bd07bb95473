//! Adds the indexes behind the license usage counts.
//!
//! Usage is computed from the rows at the instant the service's clock gives,
//! not kept in counters: a session stops holding its seat the instant one of
//! its deadlines passes, and nothing is written at that instant that could
//! update a counter. These indexes keep that computation cheap.
//!
//! CONCURRENT seats are counted from the sessions that have not ended, which
//! `idx_sessions_live_seats` holds alone (a partial index, so the slice's
//! history of ended sessions adds nothing to it). Its key ends in the columns
//! the count reads, so the sessions side never visits the table:
//!
//! ```sql
//! SELECT COUNT(DISTINCT sessions.user_id) FROM sessions JOIN users ON users.id = sessions.user_id
//! WHERE sessions.slice_id = ? AND sessions.channel = 'WEB' AND sessions.ended_at IS NULL
//!   AND sessions.idle_expires_at > ? AND sessions.absolute_expires_at > ?
//!   AND users.slice_id = ? AND users.license_type = 'CONCURRENT' AND users.active
//! ```

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_sessions_live_seats \
             ON sessions (slice_id, channel, idle_expires_at, absolute_expires_at, user_id) \
             WHERE ended_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_sessions_live_seats").await?;
        Ok(())
    }
}
