//! Database connection, migrations and the transaction that serializes rule decisions.

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};
use migration::MigratorTrait;
use uuid::Uuid;

use crate::config::Config;

/// Opens the connection pool. On SQLite it turns on WAL, foreign keys and the busy timeout.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.database_max_connections)
        .min_connections(0)
        .acquire_timeout(config.database_acquire_timeout)
        .connect_timeout(config.database_connect_timeout)
        .sqlx_logging(false);
    let busy_timeout = config.sqlite_busy_timeout;
    options.map_sqlx_sqlite_opts(move |sqlite| {
        sqlite
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(busy_timeout)
    });
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}

/// Starts a transaction that writes.
///
/// On SQLite it is an IMMEDIATE transaction, which takes the database's single
/// write lock at BEGIN: a deferred one would fail with "database is locked"
/// when two readers both try to upgrade. On PostgreSQL callers serialize on a
/// row with [`lock_slice`].
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
        }
        _ => db.begin().await,
    }
}

/// Locks a slice's row for the rest of the transaction (`SELECT … FOR UPDATE` on
/// PostgreSQL; on SQLite the IMMEDIATE transaction already excludes other writers)
/// and returns it, or `None` when it does not exist.
pub async fn lock_slice(
    txn: &DatabaseTransaction,
    slice_id: Uuid,
) -> Result<Option<entity::slice::Model>, DbErr> {
    entity::slice::Entity::find_by_id(slice_id).lock_exclusive().one(txn).await
}

/// Checks that the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}
