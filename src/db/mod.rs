//! Database connection, migrations and the transaction that serializes rule decisions.

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::{
        Connection,
        postgres::PgConnection,
        sqlite::{SqliteJournalMode, SqliteSynchronous},
    },
};
use migration::MigratorTrait;
use uuid::Uuid;

use crate::config::Config;

/// Opens the connection pool. On SQLite it turns on WAL, foreign keys and the busy timeout.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    open(config, true).await
}

/// Opens the connection pool like [`connect`], but fails instead of creating
/// a SQLite file that does not exist.
pub async fn connect_existing(config: &Config) -> Result<DatabaseConnection, DbErr> {
    open(config, false).await
}

/// Returns how many migrations the database has not applied yet, without writing.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(migration::Migrator::get_pending_migrations_read_only(db).await?.len())
}

async fn open(config: &Config, create_sqlite_file: bool) -> Result<DatabaseConnection, DbErr> {
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
            .create_if_missing(create_sqlite_file)
    });
    Database::connect(options).await
}

/// Key of the PostgreSQL advisory lock held while migrations run.
const MIGRATION_LOCK: i64 = 0x5ea7_0001;

/// Applies every pending migration.
///
/// sea-orm-migration takes no lock of its own, so on PostgreSQL a session-level
/// advisory lock on a connection outside the pool serializes instances that
/// start at once: the second waits, then finds nothing pending. Closing that
/// connection releases the lock on every path, errors included.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return migration::Migrator::up(db, None).await;
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let mut lock = PgConnection::connect_with(&options).await.map_err(sqlx_error)?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut lock).await.map_err(sqlx_error)?;
    tracing::debug!("migration lock taken");
    let result = migration::Migrator::up(db, None).await;
    if let Err(error) = lock.close().await {
        tracing::warn!(error = %error, "closing the migration lock's connection failed; the server releases the lock when the connection drops");
    }
    result
}

fn sqlx_error(error: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(error)))
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
