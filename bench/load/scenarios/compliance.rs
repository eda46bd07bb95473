//! Scenario 5: `compliance(sliceId)` on a slice with 100,000 users and 20,000
//! live sessions, against the same counts as raw SQL from the load process.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use entity::{Channel, LicenseType, Role};
use rand::seq::SliceRandom;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};
use serde_json::json;
use uuid::Uuid;

use crate::{
    Context,
    client::{self, http_client},
    report::{Finding, Section, Verdict, table},
    seed::{self, Backend, SeedSession, SessionState, Users},
    server::Server,
    stats::{Summary, ms},
};

const QUERY: &str = "query($s: ID!) { compliance(sliceId: $s) { named { inUse owned level } concurrent { inUse owned level } \
     selfService { inUse } webServices { inUse } compliant version } }";
/// The p99 of `compliance` must stay below this.
const TARGET: Duration = Duration::from_millis(5);
/// Requests sent before timing starts.
const WARMUP: usize = 20;

/// The service's four usage counts as one statement (`licensing::count_usage`).
const COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM users WHERE slice_id = $1 AND license_type = 'NAMED' AND active = $2) AS named, \
     (SELECT COUNT(DISTINCT s.user_id) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.slice_id = $3 \
       AND s.channel = 'WEB' AND s.ended_at IS NULL AND s.idle_expires_at > $4 AND s.absolute_expires_at > $5 \
       AND u.slice_id = $6 AND u.license_type = 'CONCURRENT' AND u.active = $7) AS concurrent, \
     (SELECT COUNT(*) FROM users WHERE slice_id = $8 AND license_type = 'SELF_SERVICE' AND active = $9) AS self_service, \
     (SELECT COUNT(*) FROM users WHERE slice_id = $10 AND license_type = 'WEB_SERVICES' AND active = $11) AS web_services";

/// Latencies and counts of one backend's run.
struct Run {
    /// The database, and the maintenance run before the stage.
    label: String,
    api: Summary,
    raw: Summary,
    /// NAMED, CONCURRENT, SELF_SERVICE, WEB_SERVICES in use, from the API and from SQL.
    api_counts: [u64; 4],
    raw_counts: [u64; 4],
    load_time: Duration,
}

pub async fn run(ctx: &Context, title: &str) -> Result<Section> {
    let requests = ctx.pick(200, 1_000);
    let mut section = Section::new(title);
    let mut runs = Vec::new();
    for backend in [Backend::Postgres, Backend::Sqlite] {
        if backend == Backend::Postgres && ctx.postgres_url.is_none() {
            section.findings.push(Finding {
                measure: "PostgreSQL p99".to_owned(),
                figure: "–".to_owned(),
                baseline: "–".to_owned(),
                ratio: "–".to_owned(),
                target: format!("< {} ms", TARGET.as_millis()),
                verdict: Verdict::NotMeasured("no PostgreSQL cluster (--postgres-url)".to_owned()),
            });
            continue;
        }
        runs.extend(measure(ctx, backend, requests).await.with_context(|| format!("compliance on {}", backend.label()))?);
    }
    let mut rows = Vec::new();
    for run in &runs {
        let counts_agree = run.api_counts == run.raw_counts;
        // The target applies to the data set as loaded and analyzed; the stage after VACUUM is context.
        let judged = !run.label.contains("VACUUM");
        section.findings.push(Finding {
            measure: format!("{}: `compliance` median / p99", run.label),
            figure: run.api.median_p99(),
            baseline: format!("raw SQL {}", run.raw.median_p99()),
            ratio: format!("{} (p99)", crate::stats::ratio(run.api.p99.as_secs_f64() / run.raw.p99.as_secs_f64())),
            target: format!("p99 < {} ms", TARGET.as_millis()),
            verdict: if !counts_agree {
                Verdict::NotMeasured(format!("counts differ: API {:?}, SQL {:?}", run.api_counts, run.raw_counts))
            } else if judged {
                Verdict::from_check(run.api.p99 < TARGET)
            } else {
                Verdict::Context
            },
        });
        for (what, summary) in [("`compliance` over HTTP", &run.api), ("raw SQL counts", &run.raw)] {
            rows.push(vec![
                run.label.clone(),
                what.to_owned(),
                summary.count.to_string(),
                ms(summary.median),
                ms(summary.p99),
                ms(summary.max),
            ]);
        }
    }
    section.details.push(format!(
        "One slice with 100,000 users (60,000 NAMED including the administrator, 30,000 CONCURRENT, 6,000 \
         SELF_SERVICE, 4,000 WEB_SERVICES; every 25th NAMED and CONCURRENT user inactive) and 55,000 sessions: \
         20,000 live (18,000 WEB sessions of 16,000 CONCURRENT users, 1,000 WEB and 1,000 MOBILE of NAMED \
         users), 30,000 ended and 5,000 whose idle deadline passed unrecorded. Loaded with SQL (users in \
         random order from a fixed seed), then ANALYZE on PostgreSQL. The server runs with its defaults; the \
         administrator logs in over HTTP and sends `{QUERY}` one request at a time: {WARMUP} untimed, then \
         {requests} timed. The baseline sends the service's count statement (four scalar subqueries, the \
         same conditions as `licensing::count_usage`) from the load process as raw SQL the same number of \
         times, one at a time, after the same warm-up; it skips HTTP, the token check, the slice lookup and \
         the snapshot transaction. On PostgreSQL both are timed again after `VACUUM ANALYZE`, which a bulk \
         load leaves to autovacuum; those rows are context, and the target applies to the first."
    ));
    section.details.push(table(&["database", "what", "requests", "median ms", "p99 ms", "max ms"], &rows));
    let counts: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            vec![
                run.label.clone(),
                format!("{:?}", run.api_counts),
                format!("{:?}", run.raw_counts),
                format!("{:.1} s", run.load_time.as_secs_f64()),
            ]
        })
        .collect();
    section.details.push(format!(
        "In use (NAMED, CONCURRENT, SELF_SERVICE, WEB_SERVICES) as the API and the SQL counted them, and the \
         time to load the data set:\n\n{}",
        table(&["database", "API", "SQL", "load time"], &counts)
    ));
    Ok(section)
}

async fn measure(ctx: &Context, backend: Backend, requests: usize) -> Result<Vec<Run>> {
    let name = format!("compliance-{}", backend.label().to_lowercase());
    let loading = Instant::now();
    let db = seed::fresh_database(ctx, backend, &name).await?;
    let slice_id = load(&db).await?;
    let load_time = loading.elapsed();

    let server = Server::start(ctx, &name, &db.url, &[]).await?;
    let http = http_client(2)?;
    let url = server.graphql_url();
    let token = client::login_token(&http, &url, "bench-compliance", &seed::username("admin", 0), seed::PASSWORD).await?;
    let target = Target { http: &http, url: &url, token: &token, conn: &db.conn, slice_id, requests };
    let mut runs = vec![stage(&target, backend.label(), load_time).await?];
    if backend == Backend::Postgres {
        // VACUUM sets the visibility map, which lets the counts read only indexes.
        db.conn.execute_unprepared("VACUUM ANALYZE").await?;
        runs.push(stage(&target, "PostgreSQL after VACUUM", load_time).await?);
    }
    server.stop().await?;
    db.conn.close().await?;
    Ok(runs)
}

/// The server and the database that one stage times.
struct Target<'a> {
    http: &'a reqwest::Client,
    url: &'a str,
    token: &'a str,
    conn: &'a DatabaseConnection,
    slice_id: Uuid,
    requests: usize,
}

/// Times `compliance` over HTTP, then the raw count statement, each after a warm-up.
async fn stage(target: &Target<'_>, label: &str, load_time: Duration) -> Result<Run> {
    let variables = json!({ "s": target.slice_id });
    let mut latencies = Vec::with_capacity(target.requests);
    let mut last = serde_json::Value::Null;
    for index in 0..WARMUP + target.requests {
        let sent = Instant::now();
        last = client::graphql(target.http, target.url, Some(target.token), QUERY, variables.clone()).await?;
        if index >= WARMUP {
            latencies.push(sent.elapsed());
        }
    }
    let report = &last["compliance"];
    let in_use = |field: &str| report[field]["inUse"].as_u64().unwrap_or(u64::MAX);
    let api_counts = [in_use("named"), in_use("concurrent"), in_use("selfService"), in_use("webServices")];

    let mut raw_latencies = Vec::with_capacity(target.requests);
    let mut raw_counts = [0; 4];
    for index in 0..WARMUP + target.requests {
        let sent = Instant::now();
        raw_counts = count_usage(target.conn, target.slice_id).await?;
        if index >= WARMUP {
            raw_latencies.push(sent.elapsed());
        }
    }
    Ok(Run {
        label: label.to_owned(),
        api: Summary::of(&latencies).context("no request was timed")?,
        raw: Summary::of(&raw_latencies).context("no statement was timed")?,
        api_counts,
        raw_counts,
        load_time,
    })
}

/// Loads the 100,000 users and 55,000 sessions and returns the slice's id.
async fn load(db: &seed::Database) -> Result<Uuid> {
    let mut rng = seed::rng(5);
    let hash = seed::password_hash(19_456, 2)?;
    let slice_id = seed::insert_slice(db, &mut rng, "bench-compliance", 60_000, 20_000).await?;
    let group = |prefix, count, license_type, role, inactive_every| Users { prefix, count, license_type, role, inactive_every };
    seed::insert_users(db, &mut rng, slice_id, group("admin", 1, LicenseType::Named, Role::Admin, 0), &hash).await?;
    let mut named = seed::insert_users(db, &mut rng, slice_id, group("n", 59_999, LicenseType::Named, Role::Member, 25), &hash).await?;
    let mut concurrent =
        seed::insert_users(db, &mut rng, slice_id, group("c", 30_000, LicenseType::Concurrent, Role::Member, 25), &hash).await?;
    seed::insert_users(db, &mut rng, slice_id, group("s", 6_000, LicenseType::SelfService, Role::Member, 0), &hash).await?;
    seed::insert_users(db, &mut rng, slice_id, group("w", 4_000, LicenseType::WebServices, Role::Member, 0), &hash).await?;
    named.shuffle(&mut rng);
    concurrent.shuffle(&mut rng);

    let session = |user_id: &Uuid, channel, state| SeedSession { user_id: *user_id, channel, state };
    let mut sessions = Vec::with_capacity(55_000);
    sessions.extend(concurrent[..16_000].iter().map(|id| session(id, Channel::Web, SessionState::Live)));
    sessions.extend(concurrent[..2_000].iter().map(|id| session(id, Channel::Web, SessionState::Live)));
    sessions.extend(named[..1_000].iter().map(|id| session(id, Channel::Web, SessionState::Live)));
    sessions.extend(named[1_000..2_000].iter().map(|id| session(id, Channel::Mobile, SessionState::Live)));
    sessions.extend(concurrent.iter().cycle().take(30_000).map(|id| session(id, Channel::Web, SessionState::Ended)));
    sessions.extend(concurrent[16_000..21_000].iter().map(|id| session(id, Channel::Web, SessionState::Expired)));
    sessions.shuffle(&mut rng);
    seed::insert_sessions(db, &mut rng, slice_id, &sessions).await?;
    seed::analyze(db).await?;
    Ok(slice_id)
}

/// Runs the count statement and returns NAMED, CONCURRENT, SELF_SERVICE and WEB_SERVICES in use.
async fn count_usage(conn: &DatabaseConnection, slice_id: Uuid) -> Result<[u64; 4]> {
    let backend = conn.get_database_backend();
    let now = Utc::now();
    let id = || Value::from(slice_id);
    let yes = || Value::from(true);
    let values = [id(), yes(), id(), now.into(), now.into(), id(), yes(), id(), yes(), id(), yes()];
    let statement = Statement::from_sql_and_values(backend, seed::placeholders(backend, COUNTS), values);
    let row = conn.query_one_raw(statement).await?.context("the count statement returned no row")?;
    let mut counts = [0; 4];
    for (count, column) in counts.iter_mut().zip(["named", "concurrent", "self_service", "web_services"]) {
        let value: i64 = row.try_get("", column)?;
        if value < 0 {
            bail!("{column} is negative");
        }
        *count = value as u64;
    }
    Ok(counts)
}
