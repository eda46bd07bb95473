//! Scenario 3: 1,000 simultaneous WEB logins for 100 CONCURRENT seats in
//! ENFORCE, against a raw SQL transaction doing the same check and insert
//! from the load process, on SQLite and on PostgreSQL.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use entity::{LicenseType, Role};
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use serde_json::json;
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::{
    Context,
    client::{self, http_client},
    report::{Finding, Section, Verdict, table},
    seed::{self, Backend, Database, Users},
    server::Server,
    stats::{median, ms, per_second, rate, ratio},
};

const LOGINS: usize = 1_000;
const SEATS: i32 = 100;
/// The login's rate must reach this share of the raw transaction's.
const TARGET: f64 = 0.5;

/// Counts and wall time of one race.
#[derive(Debug, Clone, Default)]
struct Race {
    admitted: usize,
    refused: usize,
    errors: usize,
    first_error: Option<String>,
    wall: Duration,
    /// Seats in use afterwards, counted by the service (`compliance`) or by SQL.
    in_use_after: u64,
}

impl Race {
    fn over_admitted(&self) -> usize {
        self.admitted.saturating_sub(SEATS as usize).max(self.in_use_after.saturating_sub(SEATS as u64) as usize)
    }
}

pub async fn run(ctx: &Context, title: &str) -> Result<Section> {
    let rounds = ctx.pick(1, 3);
    let mut section = Section::new(title);
    let mut rows = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && ctx.postgres_url.is_none() {
            section.findings.push(not_measured(backend, "no PostgreSQL cluster (--postgres-url)"));
            continue;
        }
        let mut api = Vec::new();
        let mut raw = Vec::new();
        for round in 0..rounds {
            let name = format!("race-{}-{round}", backend.label().to_lowercase());
            api.push(api_race(ctx, backend, &name).await.with_context(|| format!("the login race on {}", backend.label()))?);
            raw.push(raw_race(ctx, backend, &format!("{name}-raw")).await.with_context(|| format!("the raw race on {}", backend.label()))?);
        }
        for (round, (api, raw)) in api.iter().zip(&raw).enumerate() {
            for (kind, race) in [("login over HTTP", api), ("raw SQL transaction", raw)] {
                rows.push(vec![
                    backend.label().to_owned(),
                    (round + 1).to_string(),
                    kind.to_owned(),
                    ms(race.wall),
                    per_second(rate(LOGINS, race.wall)),
                    race.admitted.to_string(),
                    race.refused.to_string(),
                    race.errors.to_string(),
                    race.in_use_after.to_string(),
                    race.over_admitted().to_string(),
                ]);
            }
        }
        section.findings.extend(findings(backend, &api, &raw));
    }
    section.details.push(format!(
        "Each race loads a fresh database with SQL: one slice in ENFORCE owning {SEATS} CONCURRENT seats, \
         {LOGINS} CONCURRENT users and one NAMED administrator, all sharing one hash of the minimum \
         Argon2id cost. The server runs with `SEATWARDEN_ARGON2_MEMORY_KIB=8`, \
         `SEATWARDEN_ARGON2_ITERATIONS=1` and otherwise its defaults (10 pooled connections). The load \
         process first opens {LOGINS} connections (`GET /health`), then releases {LOGINS} tasks at once, \
         each sending one WEB login of a distinct user. The wall time runs from the release to the last \
         response. Afterwards the administrator reads `compliance(sliceId) {{ concurrent {{ inUse owned }} }}`."
    ));
    section.details.push(format!(
        "The baseline runs on a second, identical database, from the load process over a pool of 10 \
         connections opened like the service's: {LOGINS} tasks released at once each run one transaction \
         that begins as the service's write transactions do (IMMEDIATE on SQLite), locks the slice row \
         (`SELECT … FOR UPDATE` on PostgreSQL), counts the live seats with the service's query and inserts a \
         WEB session when a seat is free (commit) or refuses (rollback). It verifies no password and records \
         no event. Over-admissions are logins admitted beyond {SEATS}, or seats in use beyond {SEATS} \
         afterwards, whichever is larger. {rounds} round(s) per database; the summary uses the median wall time."
    ));
    section.details.push(table(
        &["database", "round", "what", "wall ms", "rate", "admitted", "refused", "errors", "in use after", "over-admitted"],
        &rows,
    ));
    Ok(section)
}

fn not_measured(backend: Backend, reason: &str) -> Finding {
    Finding {
        measure: format!("{} rate", backend.label()),
        figure: "–".to_owned(),
        baseline: "–".to_owned(),
        ratio: "–".to_owned(),
        target: format!("≥ {TARGET:.2}×, 0 over-admitted"),
        verdict: Verdict::NotMeasured(reason.to_owned()),
    }
}

fn findings(backend: Backend, api: &[Race], raw: &[Race]) -> Vec<Finding> {
    let api_wall = median(&api.iter().map(|race| race.wall).collect::<Vec<_>>());
    let raw_wall = median(&raw.iter().map(|race| race.wall).collect::<Vec<_>>());
    let (api_rate, raw_rate) = (rate(LOGINS, api_wall), rate(LOGINS, raw_wall));
    let api_over: usize = api.iter().map(Race::over_admitted).sum();
    let raw_over: usize = raw.iter().map(Race::over_admitted).sum();
    let errors: usize = api.iter().chain(raw).map(|race| race.errors).sum();
    let first_error = api.iter().chain(raw).find_map(|race| race.first_error.clone());
    let error_verdict = || Verdict::NotMeasured(format!("{errors} requests failed: {}", first_error.clone().unwrap_or_default()));
    vec![
        Finding {
            measure: format!("{}: {LOGINS} logins for {SEATS} seats, rate", backend.label()),
            figure: format!("{} ({} ms)", per_second(api_rate), ms(api_wall)),
            baseline: format!("{} ({} ms)", per_second(raw_rate), ms(raw_wall)),
            ratio: ratio(api_rate / raw_rate),
            target: format!("≥ {TARGET:.2}×"),
            verdict: if errors > 0 { error_verdict() } else { Verdict::from_check(api_rate >= TARGET * raw_rate) },
        },
        Finding {
            measure: format!("{}: over-admissions", backend.label()),
            figure: api_over.to_string(),
            baseline: raw_over.to_string(),
            ratio: "–".to_owned(),
            target: "0 for both".to_owned(),
            verdict: if errors > 0 { error_verdict() } else { Verdict::from_check(api_over == 0 && raw_over == 0) },
        },
    ]
}

/// Loads the race's data set into a fresh database.
async fn seed_race(ctx: &Context, backend: Backend, name: &str) -> Result<(Database, Uuid)> {
    let db = seed::fresh_database(ctx, backend, name).await?;
    let mut rng = seed::rng(3);
    let hash = seed::password_hash(8, 1)?;
    let slice_id = seed::insert_slice(&db, &mut rng, "bench-race", 10, SEATS).await?;
    let admin = Users { prefix: "admin", count: 1, license_type: LicenseType::Named, role: Role::Admin, inactive_every: 0 };
    seed::insert_users(&db, &mut rng, slice_id, admin, &hash).await?;
    let users = Users { prefix: "c", count: LOGINS, license_type: LicenseType::Concurrent, role: Role::Member, inactive_every: 0 };
    seed::insert_users(&db, &mut rng, slice_id, users, &hash).await?;
    seed::analyze(&db).await?;
    Ok((db, slice_id))
}

async fn api_race(ctx: &Context, backend: Backend, name: &str) -> Result<Race> {
    let (db, slice_id) = seed_race(ctx, backend, name).await?;
    db.conn.close().await?;
    let env = [("SEATWARDEN_ARGON2_MEMORY_KIB", "8"), ("SEATWARDEN_ARGON2_ITERATIONS", "1")];
    let server = Server::start(ctx, name, &db.url, &env).await?;
    let http = http_client(LOGINS + 10)?;
    let url = server.graphql_url();
    let admin = client::login_token(&http, &url, "bench-race", &seed::username("admin", 0), seed::PASSWORD).await?;
    let health = format!("{}/health", server.base_url);
    join_all((0..LOGINS).map(|_| http.get(&health).send())).await;

    let barrier = Arc::new(Barrier::new(LOGINS + 1));
    let tasks: Vec<_> = (0..LOGINS)
        .map(|index| {
            let (http, url, barrier) = (http.clone(), url.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let outcome = client::login(&http, &url, "bench-race", &seed::username("c", index), seed::PASSWORD).await;
                (outcome, Instant::now())
            })
        })
        .collect();
    barrier.wait().await;
    let released = Instant::now();
    let mut race = Race::default();
    for task in tasks {
        let (outcome, finished) = task.await?;
        race.wall = race.wall.max(finished - released);
        match outcome {
            Ok(login) if login.typename == "LoginSuccess" => race.admitted += 1,
            Ok(login) if login.typename == "LicenseUnavailable" => race.refused += 1,
            Ok(login) => {
                race.errors += 1;
                race.first_error.get_or_insert(format!("unexpected outcome {}", login.typename));
            }
            Err(error) => {
                race.errors += 1;
                race.first_error.get_or_insert(format!("{error:#}"));
            }
        }
    }
    let query = "query($s: ID!) { compliance(sliceId: $s) { concurrent { inUse owned } } }";
    let report = client::graphql(&http, &url, Some(&admin), query, json!({ "s": slice_id })).await?;
    race.in_use_after = report["compliance"]["concurrent"]["inUse"].as_u64().context("compliance has no inUse")?;
    server.stop().await?;
    Ok(race)
}

async fn raw_race(ctx: &Context, backend: Backend, name: &str) -> Result<Race> {
    let (db, slice_id) = seed_race(ctx, backend, name).await?;
    let users = user_ids(&db.conn, slice_id).await?;
    let conn = db.conn.clone();

    let barrier = Arc::new(Barrier::new(users.len() + 1));
    let tasks: Vec<_> = users
        .into_iter()
        .map(|user_id| {
            let (conn, barrier) = (conn.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let outcome = take_seat(&conn, slice_id, user_id).await;
                (outcome, Instant::now())
            })
        })
        .collect();
    barrier.wait().await;
    let released = Instant::now();

    let mut race = Race::default();
    for task in tasks {
        let (outcome, finished) = task.await?;
        race.wall = race.wall.max(finished - released);
        match outcome {
            Ok(true) => race.admitted += 1,
            Ok(false) => race.refused += 1,
            Err(error) => {
                race.errors += 1;
                race.first_error.get_or_insert(format!("{error:#}"));
            }
        }
    }
    race.in_use_after = count_seats(&conn, slice_id, Utc::now()).await?;
    db.conn.close().await?;
    Ok(race)
}

/// Loads the ids of the slice's CONCURRENT users, ordered by username.
async fn user_ids(conn: &DatabaseConnection, slice_id: Uuid) -> Result<Vec<Uuid>> {
    let backend = conn.get_database_backend();
    let sql = seed::placeholders(backend, "SELECT id FROM users WHERE slice_id = $1 AND license_type = 'CONCURRENT' ORDER BY username_key");
    let rows = conn.query_all_raw(Statement::from_sql_and_values(backend, sql, [slice_id.into()])).await?;
    rows.iter().map(|row| Ok(row.try_get::<Uuid>("", "id")?)).collect()
}

/// The service's count of seats in use: distinct active CONCURRENT users with a live WEB session.
const COUNT_SEATS: &str = "SELECT COUNT(DISTINCT s.user_id) AS seats FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.slice_id = $1 AND s.channel = 'WEB' AND s.ended_at IS NULL AND s.idle_expires_at > $2 \
     AND s.absolute_expires_at > $3 AND u.slice_id = $4 AND u.license_type = 'CONCURRENT' AND u.active = $5";

async fn count_seats(conn: &impl ConnectionTrait, slice_id: Uuid, now: DateTime<Utc>) -> Result<u64> {
    let backend = conn.get_database_backend();
    let values: [Value; 5] = [slice_id.into(), now.into(), now.into(), slice_id.into(), true.into()];
    let statement = Statement::from_sql_and_values(backend, seed::placeholders(backend, COUNT_SEATS), values);
    let row = conn.query_one_raw(statement).await?.context("the seat count returned no row")?;
    Ok(u64::try_from(row.try_get::<i64>("", "seats")?)?)
}

/// Runs the raw transaction: lock the slice, count live seats, insert a session or refuse.
async fn take_seat(conn: &DatabaseConnection, slice_id: Uuid, user_id: Uuid) -> Result<bool> {
    let backend = conn.get_database_backend();
    let txn = seatwarden::db::begin_write(conn).await?;
    let lock = match backend {
        DbBackend::Postgres => "SELECT owned_concurrent_licenses FROM slices WHERE id = $1 FOR UPDATE",
        _ => "SELECT owned_concurrent_licenses FROM slices WHERE id = $1",
    };
    let statement = Statement::from_sql_and_values(backend, seed::placeholders(backend, lock), [slice_id.into()]);
    let slice = txn.query_one_raw(statement).await?.context("the slice is missing")?;
    let owned = u64::try_from(slice.try_get::<i32>("", "owned_concurrent_licenses")?)?;

    let now = Utc::now();
    if count_seats(&txn, slice_id, now).await? >= owned {
        txn.rollback().await?;
        return Ok(false);
    }

    let id = Uuid::now_v7();
    let token_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id.as_bytes()));
    let values: Vec<Value> = vec![
        id.into(),
        user_id.into(),
        slice_id.into(),
        "WEB".into(),
        token_hash.into(),
        now.into(),
        now.into(),
        (now + chrono::Duration::minutes(30)).into(),
        (now + chrono::Duration::hours(12)).into(),
        "127.0.0.1".into(),
    ];
    let insert = "INSERT INTO sessions (id, user_id, slice_id, channel, token_hash, started_at, last_seen_at, \
         idle_expires_at, absolute_expires_at, client_address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    txn.execute_raw(Statement::from_sql_and_values(backend, seed::placeholders(backend, insert), values)).await?;
    txn.commit().await?;
    Ok(true)
}
