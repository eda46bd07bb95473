//! Scenario 2: two authenticated reads over GraphQL, against the bare axum
//! handlers of `/bench/…` in the same binary and against PostGraphile 4.14.1
//! serving the same PostgreSQL tables.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use entity::{Channel, LicenseType, Role};
use serde_json::{Value, json};

use crate::{
    Context,
    client::{self, LoadResult, closed_loop, http_client},
    report::{Finding, Section, Verdict, table},
    seed::{self, Backend, SeedSession, SessionState, Users},
    server::{Process, Server, free_port},
    stats::{Summary, ms, per_second, ratio},
};

const GQL_SESSIONS: &str = "{ me { sessions { id } } }";
const GQL_USERS: &str =
    "query($s: ID!) { users(sliceId: $s, first: 50, filter: {licenseTypes: [NAMED]}) { totalCount edges { node { id username } } } }";
/// PostGraphile cannot compare the idle and absolute deadlines with the
/// current time without a filter plugin. `endedAt: null` selects the same
/// rows here, because no seeded session of the administrator has expired.
const PGL_SESSIONS: &str =
    "query($u: UUID!) { allSessions(condition: {userId: $u, endedAt: null}, orderBy: [STARTED_AT_DESC, ID_DESC], first: 50) { nodes { id } } }";
const PGL_USERS: &str = "query($s: UUID!) { allUsers(first: 50, condition: {sliceId: $s, licenseType: \"NAMED\"}, orderBy: [USERNAME_KEY_ASC, ID_ASC]) { totalCount nodes { id username } } }";

/// Concurrent clients of every run.
const CONCURRENCY: usize = 16;
/// GraphQL must reach this share of the bare handler's throughput …
const TARGET_BARE: f64 = 0.5;
/// … and this multiple of PostGraphile's.
const TARGET_POSTGRAPHILE: f64 = 3.0;

/// The request that sends one read to one target.
#[derive(Clone)]
enum Request {
    Graphql { url: String, token: Option<String>, query: &'static str, variables: Value },
    Get { url: String, token: String },
}

impl Request {
    async fn send(&self, http: &reqwest::Client) -> Result<Value> {
        match self {
            Request::Graphql { url, token, query, variables } => {
                client::graphql(http, url, token.as_deref(), query, variables.clone()).await
            }
            Request::Get { url, token } => client::get_json(http, url, token).await,
        }
    }
}

pub async fn run(ctx: &Context, title: &str) -> Result<Section> {
    let db = seed::fresh_database(ctx, Backend::Postgres, "reads").await?;
    let mut rng = seed::rng(2);
    let slice_id = seed::insert_slice(&db, &mut rng, "bench-reads", 5_000, 5_000).await?;
    let hash = seed::password_hash(19_456, 2)?;
    let admin = seed::insert_users(&db, &mut rng, slice_id, users("admin", 1, LicenseType::Named, Role::Admin), &hash).await?[0];
    seed::insert_users(&db, &mut rng, slice_id, users("n", 1_499, LicenseType::Named, Role::Member), &hash).await?;
    let concurrent = seed::insert_users(&db, &mut rng, slice_id, users("c", 1_000, LicenseType::Concurrent, Role::Member), &hash).await?;
    seed::insert_users(&db, &mut rng, slice_id, users("s", 300, LicenseType::SelfService, Role::Member), &hash).await?;
    let mut sessions: Vec<SeedSession> = Vec::new();
    sessions.extend((0..2).map(|_| SeedSession { user_id: admin, channel: Channel::Api, state: SessionState::Live }));
    sessions.extend((0..40).map(|_| SeedSession { user_id: admin, channel: Channel::Web, state: SessionState::Ended }));
    for (index, user_id) in concurrent.iter().enumerate() {
        let state = if index < 800 { SessionState::Live } else { SessionState::Ended };
        sessions.push(SeedSession { user_id: *user_id, channel: Channel::Web, state });
        sessions.push(SeedSession { user_id: *user_id, channel: Channel::Web, state: SessionState::Ended });
    }
    seed::insert_sessions(&db, &mut rng, slice_id, &sessions).await?;
    seed::analyze(&db).await?;
    db.conn.close().await?;

    let server = Server::start(ctx, "reads", &db.url, &[("SEATWARDEN_BENCH_ROUTES", "true")]).await?;
    let http = http_client(CONCURRENCY * 2)?;
    let token = client::login_token(&http, &server.graphql_url(), "bench-reads", &seed::username("admin", 0), seed::PASSWORD).await?;
    let slice = slice_id.to_string();
    let graphql = |query, variables| Request::Graphql { url: server.graphql_url(), token: Some(token.clone()), query, variables };
    let mut targets = vec![
        ("GraphQL", "sessions", graphql(GQL_SESSIONS, json!({}))),
        ("bare handler", "sessions", Request::Get { url: format!("{}/bench/me/sessions", server.base_url), token: token.clone() }),
        ("GraphQL", "users", graphql(GQL_USERS, json!({ "s": slice }))),
        ("bare handler", "users", Request::Get { url: format!("{}/bench/users?sliceId={slice}", server.base_url), token: token.clone() }),
    ];
    let postgraphile = match &ctx.postgraphile {
        Some(program) => Some(start_postgraphile(ctx, program, &db.url).await?),
        None => None,
    };
    if let Some((_, url)) = &postgraphile {
        let pgl = |query, variables| Request::Graphql { url: url.clone(), token: None, query, variables };
        targets.push(("PostGraphile", "sessions", pgl(PGL_SESSIONS, json!({ "u": admin }))));
        targets.push(("PostGraphile", "users", pgl(PGL_USERS, json!({ "s": slice }))));
    }

    // Every target must return the same rows before anything is timed.
    let mut checks = Vec::new();
    for (target, read, request) in &targets {
        let body = request.send(&http).await.with_context(|| format!("the {read} read of {target} failed"))?;
        checks.push(vec![(*target).to_owned(), (*read).to_owned(), rows_of(read, &body)]);
    }
    for read in ["sessions", "users"] {
        let counts: Vec<&String> = checks.iter().filter(|row| row[1] == read).map(|row| &row[2]).collect();
        if counts.windows(2).any(|pair| pair[0] != pair[1]) {
            bail!("the targets return different {read}: {counts:?}");
        }
    }

    let warmup = ctx.seconds(1, 2);
    let window = ctx.seconds(5, 15);
    let mut results: Vec<(&str, &str, LoadResult)> = Vec::new();
    for (target, read, request) in &targets {
        let (http, request) = (http.clone(), request.clone());
        let result = closed_loop(CONCURRENCY, warmup, window, move |_| {
            let (http, request) = (http.clone(), request.clone());
            async move { request.send(&http).await.map(|_| ()) }
        })
        .await;
        println!("   {target} {read}: {} ({} failed)", per_second(result.throughput()), result.failed);
        results.push((target, read, result));
    }
    let rss = server.process.vm_rss_kib().ok();
    server.stop().await?;
    if let Some((process, _)) = postgraphile {
        process.stop().await?;
    }
    Ok(section(ctx, title, &results, checks, rss, window, warmup))
}

fn users(prefix: &str, count: usize, license_type: LicenseType, role: Role) -> Users<'_> {
    Users { prefix, count, license_type, role, inactive_every: 0 }
}

/// Describes the rows a read returned, to compare the targets.
fn rows_of(read: &str, body: &Value) -> String {
    let find = |pointer: &str| body.pointer(pointer).and_then(Value::as_array).map_or(0, Vec::len);
    match read {
        "sessions" => format!("{} sessions", find("/me/sessions").max(find("/sessions")).max(find("/allSessions/nodes"))),
        _ => {
            let total = ["/users/totalCount", "/totalCount", "/allUsers/totalCount"]
                .iter()
                .find_map(|pointer| body.pointer(pointer).and_then(Value::as_u64))
                .unwrap_or(0);
            let page = find("/users/edges").max(find("/nodes")).max(find("/allUsers/nodes"));
            format!("{page} of {total} users")
        }
    }
}

/// Starts PostGraphile on the database and waits until a query succeeds.
async fn start_postgraphile(ctx: &Context, program: &std::path::Path, database_url: &str) -> Result<(Process, String)> {
    let port = free_port()?.to_string();
    // One worker per core, as seatwarden's runtime has one thread per core.
    let workers = std::thread::available_parallelism()?.get().to_string();
    let args = [
        "--connection", database_url, "--schema", "public", "--host", "127.0.0.1", "--port", &port,
        "--cluster-workers", &workers, "--disable-query-log", "--disable-graphiql",
    ];
    let mut process = Process::spawn(ctx, "postgraphile", program, &args, &[])?;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let http = http_client(1)?;
    for _ in 0..600 {
        process.check_running()?;
        if client::graphql(&http, &url, None, "{ __typename }", json!({})).await.is_ok() {
            return Ok((process, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("PostGraphile did not respond to a query within 60 s; the end of its log:\n{}", process.log_tail())
}

fn section(
    ctx: &Context,
    title: &str,
    results: &[(&str, &str, LoadResult)],
    checks: Vec<Vec<String>>,
    rss: Option<u64>,
    window: Duration,
    warmup: Duration,
) -> Section {
    let mut section = Section::new(title);
    let find = |target: &str, read: &str| results.iter().find(|(t, r, _)| *t == target && *r == read).map(|(_, _, result)| result);
    for read in ["sessions", "users"] {
        let Some(gql) = find("GraphQL", read) else { continue };
        let label = if read == "sessions" { "`me { sessions { id } }`" } else { "`users(first: 50, NAMED)`" };
        let errors = |result: &LoadResult| (result.failed > 0).then(|| format!("{} requests failed: {}", result.failed, result.first_error.clone().unwrap_or_default()));
        let compare = |baseline: Option<&LoadResult>, name: &str, target: f64, at_least: &str| match baseline {
            Some(base) => Finding {
                measure: format!("{label} throughput vs {name}"),
                figure: format!("{}, {}", per_second(gql.throughput()), latency(gql)),
                baseline: format!("{}, {}", per_second(base.throughput()), latency(base)),
                ratio: ratio(gql.throughput() / base.throughput()),
                target: format!("{at_least} {target:.1}×"),
                verdict: match errors(gql).or_else(|| errors(base)) {
                    Some(error) => Verdict::NotMeasured(error),
                    None => Verdict::from_check(gql.throughput() >= target * base.throughput()),
                },
            },
            None => Finding {
                measure: format!("{label} throughput vs {name}"),
                figure: per_second(gql.throughput()),
                baseline: "–".to_owned(),
                ratio: "–".to_owned(),
                target: format!("{at_least} {target:.1}×"),
                verdict: Verdict::NotMeasured(format!("{name} did not run (no --postgraphile)")),
            },
        };
        section.findings.push(compare(find("bare handler", read), "bare handler", TARGET_BARE, "≥"));
        section.findings.push(compare(find("PostGraphile", read), "PostGraphile", TARGET_POSTGRAPHILE, "≥"));
    }
    section.details.push(format!(
        "PostgreSQL data set, loaded with SQL and analyzed: one slice with 2,800 users (1,500 NAMED including \
         the administrator, 1,000 CONCURRENT, 300 SELF_SERVICE) and 2,042 sessions. 800 CONCURRENT users hold a \
         live WEB session. The administrator holds 2 live API sessions and 40 ended ones, plus the session of \
         its login over the API. Each target gets {CONCURRENCY} clients sending one read after the other for \
         {}s after a {}s warm-up ({} mode).",
        window.as_secs(),
        warmup.as_secs(),
        ctx.pick("quick", "full")
    ));
    section.details.push(
        "Targets: **GraphQL** is `POST /graphql` on seatwarden with the administrator's bearer token \
         (`{ me { sessions { id } } }` and `users(sliceId: …, first: 50, filter: {licenseTypes: [NAMED]}) \
         { totalCount edges { node { id username } } }`). **bare handler** is `GET /bench/me/sessions` and \
         `GET /bench/users?sliceId=…` in the same process (`bench_routes = true`): the same token lookup \
         (`sessions::authenticate`) and the same list functions (`sessions::list_for_user`, `users::list`), \
         serialized with serde_json. **PostGraphile** 4.14.1 (Node.js) serves the same tables with one \
         worker process per core (`--cluster-workers`) and otherwise its defaults. It runs \
         `allSessions(condition: {userId: …, endedAt: null}, orderBy: [STARTED_AT_DESC, ID_DESC], first: 50) \
         { nodes { id } }` and `allUsers(first: 50, condition: {sliceId: …, licenseType: \"NAMED\"}, orderBy: \
         [USERNAME_KEY_ASC, ID_ASC]) { totalCount nodes { id username } }`. It checks no token, so it does less \
         work per request than both seatwarden targets."
            .to_owned(),
    );
    section.details.push(format!("Rows each target returned before timing:\n\n{}", table(&["target", "read", "rows"], &checks)));
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|(target, read, result)| {
            let summary = Summary::of(&result.latencies);
            vec![
                (*target).to_owned(),
                (*read).to_owned(),
                result.completed.to_string(),
                result.failed.to_string(),
                per_second(result.throughput()),
                summary.map_or("–".to_owned(), |s| ms(s.median)),
                summary.map_or("–".to_owned(), |s| ms(s.p99)),
            ]
        })
        .collect();
    section.details.push(table(&["target", "read", "requests", "failed", "throughput", "median ms", "p99 ms"], &rows));
    section.details.push(format!(
        "seatwarden's resident memory after the runs: {}.",
        rss.map_or_else(|| "not read".to_owned(), crate::stats::mib)
    ));
    section
}

fn latency(result: &LoadResult) -> String {
    Summary::of(&result.latencies).map_or_else(|| "no latency".to_owned(), |summary| summary.median_p99())
}
