//! Fresh databases and data sets loaded with SQL, never through the API.
//!
//! Rows are inserted with the service's SeaORM entities in multi-row INSERT
//! statements, so SQLite stores ids and instants exactly as the service
//! does. Every user of a data set shares one Argon2id hash with a fixed salt,
//! computed once, and every id comes from an RNG with a fixed seed.

use std::process::Stdio;

use anyhow::{Context as _, Result, bail};
use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher as _, SaltString},
};
use chrono::{DateTime, Duration, Utc};
use entity::{Channel, Edition, EnforcementMode, LicenseType, Role, SessionEndReason, SliceKind, session, slice, user};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Context;

/// The password of every seeded user.
pub const PASSWORD: &str = "bench password 1";

/// Rows per INSERT statement: 1,000 rows of 13 columns stay below the
/// bound-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
const BATCH: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A migrated database and a pool of 10 connections to it, opened like the service opens its own.
pub struct Database {
    pub backend: Backend,
    pub url: String,
    pub conn: DatabaseConnection,
}

/// Creates an empty database named after `name`, migrates it with
/// `seatwarden migrate` and connects to it.
pub async fn fresh_database(ctx: &Context, backend: Backend, name: &str) -> Result<Database> {
    let url = match backend {
        Backend::Sqlite => {
            let folder = ctx.workdir.join("db");
            std::fs::create_dir_all(&folder)?;
            let path = folder.join(format!("{name}.sqlite"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Backend::Postgres => {
            let server = ctx.postgres_url.as_deref().context("PostgreSQL is not available: pass --postgres-url")?;
            let database = format!("bench_{}", name.replace('-', "_"));
            let admin = sea_orm::Database::connect(server).await.context("connecting to the PostgreSQL cluster failed")?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {database}")).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {database}")).await?;
            admin.close().await?;
            with_database(server, &database)
        }
    };
    let log = std::fs::File::create(ctx.workdir.join(format!("migrate-{name}.log")))?;
    let status = tokio::process::Command::new(&ctx.seatwarden)
        .arg("migrate")
        .env("SEATWARDEN_DATABASE_URL", &url)
        .current_dir(&ctx.workdir)
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .await
        .context("running `seatwarden migrate` failed")?;
    if !status.success() {
        bail!("`seatwarden migrate` on {url} exited with {status}; see migrate-{name}.log in the work folder");
    }
    Ok(Database { backend, conn: connect(&url, 10).await?, url })
}

/// Opens a pool with the service's own settings (WAL and busy timeout on SQLite).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection> {
    let config = seatwarden::config::Config {
        database_url: url.to_owned(),
        database_max_connections: max_connections,
        ..seatwarden::config::Config::default()
    };
    seatwarden::db::connect(&config).await.with_context(|| format!("connecting to {url} failed"))
}

/// Replaces the database name of a URL such as `postgres://user@host:port/postgres`.
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, ""), |(base, query)| (base, query));
    let base = base.trim_end_matches('/');
    let authority_end = base.find("//").map_or(0, |index| index + 2);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    if query.is_empty() { format!("{base}/{database}") } else { format!("{base}/{database}?{query}") }
}

/// Computes the Argon2id PHC string of [`PASSWORD`] with a fixed salt.
pub fn password_hash(memory_kib: u32, iterations: u32) -> Result<String> {
    let params = Params::new(memory_kib, iterations, 1, None).map_err(|error| anyhow::anyhow!("{error}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"seatwarden-bench").map_err(|error| anyhow::anyhow!("{error}"))?;
    let hash = argon2.hash_password(PASSWORD.as_bytes(), &salt).map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(hash.to_string())
}

/// Returns the RNG, seeded with `seed`, behind every id of one data set.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn random_uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// Inserts a production slice in ENFORCE, pinned so the rollout job leaves it alone.
pub async fn insert_slice(db: &Database, rng: &mut StdRng, name: &str, owned_named: i32, owned_concurrent: i32) -> Result<Uuid> {
    let now = Utc::now();
    let id = random_uuid(rng);
    slice::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        name_key: Set(name.to_lowercase()),
        display_name: Set(format!("{name} (benchmark)")),
        customer: Set(Some("Benchmark".to_owned())),
        kind: Set(SliceKind::Production),
        edition: Set(Edition::ServiceManagement),
        owned_named_licenses: Set(owned_named),
        owned_concurrent_licenses: Set(owned_concurrent),
        renewal_date: Set(None),
        enforcement_mode: Set(EnforcementMode::Enforce),
        mode_pinned: Set(true),
        alert_threshold_percent: Set(80),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db.conn)
    .await?;
    Ok(id)
}

/// A group of users to insert: `PREFIX000000`, `PREFIX000001`, …
pub struct Users<'a> {
    pub prefix: &'a str,
    pub count: usize,
    pub license_type: LicenseType,
    pub role: Role,
    /// Every `inactive_every`-th user is inactive; 0 for none.
    pub inactive_every: usize,
}

/// Returns the username of the `index`-th user of a group.
pub fn username(prefix: &str, index: usize) -> String {
    format!("{prefix}{index:06}")
}

/// Inserts the users of a group with the shared hash and returns their ids in order.
pub async fn insert_users(db: &Database, rng: &mut StdRng, slice_id: Uuid, group: Users<'_>, hash: &str) -> Result<Vec<Uuid>> {
    let now = Utc::now();
    let ids: Vec<Uuid> = (0..group.count).map(|_| random_uuid(rng)).collect();
    let txn = db.conn.begin().await?;
    for (batch, chunk) in ids.chunks(BATCH).enumerate() {
        let models = chunk.iter().enumerate().map(|(offset, id)| {
            let index = batch * BATCH + offset;
            let name = username(group.prefix, index);
            user::ActiveModel {
                id: Set(*id),
                slice_id: Set(Some(slice_id)),
                username_key: Set(name.to_lowercase()),
                email: Set(format!("{name}@bench.example")),
                display_name: Set(format!("Bench user {name}")),
                username: Set(name),
                license_type: Set(Some(group.license_type)),
                role: Set(group.role),
                active: Set(group.inactive_every == 0 || index % group.inactive_every != group.inactive_every - 1),
                password_hash: Set(hash.to_owned()),
                last_login_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
        });
        user::Entity::insert_many(models).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(ids)
}

/// State of a seeded session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Live,
    /// Ended by logout an hour ago.
    Ended,
    /// Idle deadline passed without its end being recorded yet.
    Expired,
}

/// One session to insert.
pub struct SeedSession {
    pub user_id: Uuid,
    pub channel: Channel,
    pub state: SessionState,
}

/// Inserts sessions; each token hash is the SHA-256 of a counter, so no token is usable.
pub async fn insert_sessions(db: &Database, rng: &mut StdRng, slice_id: Uuid, sessions: &[SeedSession]) -> Result<()> {
    let now = Utc::now();
    let txn = db.conn.begin().await?;
    for (batch, chunk) in sessions.chunks(BATCH).enumerate() {
        let models: Vec<session::ActiveModel> = chunk
            .iter()
            .enumerate()
            .map(|(offset, seed)| session_model(rng.random(), slice_id, seed, batch * BATCH + offset, now))
            .collect();
        session::Entity::insert_many(models).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

fn session_model(random: [u8; 16], slice_id: Uuid, seed: &SeedSession, index: usize, now: DateTime<Utc>) -> session::ActiveModel {
    let started_at = now - Duration::minutes(5 + (index % 50) as i64);
    let (last_seen_at, idle_expires_at, ended_at, end_reason) = match seed.state {
        SessionState::Live => (now, now + Duration::minutes(25), None, None),
        SessionState::Ended => (now - Duration::hours(1), now - Duration::minutes(30), Some(now - Duration::hours(1)), Some(SessionEndReason::Logout)),
        SessionState::Expired => (now - Duration::hours(1), now - Duration::minutes(30), None, None),
    };
    session::ActiveModel {
        id: Set(uuid::Builder::from_random_bytes(random).into_uuid()),
        user_id: Set(seed.user_id),
        slice_id: Set(Some(slice_id)),
        channel: Set(seed.channel),
        token_hash: Set(hex::encode(Sha256::digest(format!("bench-session-{slice_id}-{index}")))),
        started_at: Set(started_at.min(last_seen_at)),
        last_seen_at: Set(last_seen_at),
        idle_expires_at: Set(idle_expires_at),
        absolute_expires_at: Set(now + Duration::hours(11)),
        ended_at: Set(ended_at),
        end_reason: Set(end_reason),
        client_address: Set(Some("127.0.0.1".to_owned())),
        user_agent: Set(Some("seatwarden-bench".to_owned())),
    }
}

/// Runs ANALYZE on PostgreSQL, so the planner has statistics of the loaded tables; does nothing on SQLite.
pub async fn analyze(db: &Database) -> Result<()> {
    if db.backend == Backend::Postgres {
        db.conn.execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}

/// Rewrites `$1`, `$2`, … as `?` for SQLite. Each placeholder must appear
/// once and in increasing order, so the values bind in the same order.
pub fn placeholders(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Sqlite {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}
