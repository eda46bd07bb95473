//! Scenario 1: password logins on the WEB channel, against Argon2id
//! verification alone with the same parameters (the floor).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordVerifier},
};
use entity::{LicenseType, Role};

use crate::{
    Context,
    client::{self, closed_loop, http_client},
    report::{Finding, Section, Verdict, table},
    seed::{self, Backend, Users},
    server::Server,
    stats::{Summary, per_second, ratio},
};

/// The service's default Argon2id cost: 19,456 KiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
/// Login throughput must reach this share of the verification floor.
const TARGET: f64 = 0.8;

pub async fn run(ctx: &Context, title: &str) -> Result<Section> {
    let cores = std::thread::available_parallelism()?.get();
    let hash = seed::password_hash(MEMORY_KIB, ITERATIONS)?;
    let window = ctx.seconds(10, 30);
    let warmup = Duration::from_secs(2);

    let floor = {
        let hash = hash.clone();
        tokio::task::spawn_blocking(move || argon2_floor(&hash, cores, window)).await??
    };

    let db = seed::fresh_database(ctx, Backend::Sqlite, "login").await?;
    let mut rng = seed::rng(1);
    let slice_id = seed::insert_slice(&db, &mut rng, "bench-login", 100_000, 100_000).await?;
    // At about 120 logins per second the full window needs about 4,000 users
    // for one login each. When the numbers wrap, each user logs in a second
    // time, which the limit of two WEB sessions still allows.
    let user_count = ctx.pick(4_000, 8_000);
    let group = Users { prefix: "c", count: user_count, license_type: LicenseType::Concurrent, role: Role::Member, inactive_every: 0 };
    seed::insert_users(&db, &mut rng, slice_id, group, &hash).await?;
    db.conn.close().await?;

    let server = Server::start(ctx, "login", &db.url, &[]).await?;
    let http = http_client(64)?;
    let url = server.graphql_url();
    let concurrency = 2 * cores;
    let result = closed_loop(concurrency, warmup, window, move |number| {
        let (http, url) = (http.clone(), url.clone());
        let username = seed::username("c", number % user_count);
        async move {
            let outcome = client::login(&http, &url, "bench-login", &username, seed::PASSWORD).await?;
            if outcome.typename != "LoginSuccess" {
                bail!("the login of {username} returned {}", outcome.typename);
            }
            Ok(())
        }
    })
    .await;
    let rss = server.process.vm_rss_kib().ok();
    server.stop().await?;

    let logins = result.throughput();
    let floor_rate = crate::stats::rate(floor.verifications, floor.window);
    let login_latency = Summary::of(&result.latencies);
    let floor_latency = Summary::of(&floor.latencies);
    let met = result.failed == 0 && logins >= TARGET * floor_rate;

    let mut section = Section::new(title);
    section.findings.push(Finding {
        measure: "throughput".to_owned(),
        figure: format!("{} logins", per_second(logins)),
        baseline: format!("{} Argon2id verifications ({cores} threads)", per_second(floor_rate)),
        ratio: ratio(logins / floor_rate),
        target: format!("≥ {TARGET:.2}× the floor"),
        verdict: if result.failed > 0 {
            Verdict::NotMeasured(format!("{} logins failed: {}", result.failed, result.first_error.clone().unwrap_or_default()))
        } else {
            Verdict::from_check(met)
        },
    });
    if let (Some(login), Some(verify)) = (login_latency, floor_latency) {
        section.findings.push(Finding {
            measure: "latency median / p99".to_owned(),
            figure: login.median_p99(),
            baseline: format!("{} per verification", verify.median_p99()),
            ratio: format!("{} (median)", ratio(login.median.as_secs_f64() / verify.median.as_secs_f64())),
            target: "–".to_owned(),
            verdict: Verdict::Context,
        });
    }
    if let Some(rss) = rss {
        section.findings.push(Finding {
            measure: "server memory after the logins".to_owned(),
            figure: crate::stats::mib(rss),
            baseline: "–".to_owned(),
            ratio: "–".to_owned(),
            target: "–".to_owned(),
            verdict: Verdict::Context,
        });
    }
    section.details.push(format!(
        "Each login is `login(input: {{slice, username, password, channel: WEB}})` over HTTP by a distinct \
         CONCURRENT user of a slice in ENFORCE that owns 100,000 seats, so every login runs the throttle \
         checks, the Argon2id verification, the web-session check and the seat count in the slice-locking \
         transaction. {user_count} users were loaded with SQL into SQLite (the default database), sharing \
         one hash made with the service's default cost ({MEMORY_KIB} KiB, {ITERATIONS} iterations, 1 lane); \
         the server runs with its defaults. {concurrency} clients send logins back to back; logins finishing \
         in the first {}s are not counted, then the window is {}s.",
        warmup.as_secs(),
        window.as_secs()
    ));
    section.details.push(format!(
        "The floor is Argon2id verification alone, with the `argon2` crate and the same hash, on {cores} \
         threads (one per core) in the load process for {}s while no server runs.",
        floor.window.as_secs()
    ));
    let row = |name: &str, count: usize, rate: f64, latency: Option<Summary>| {
        let (median, p99) = latency.map_or(("–".to_owned(), "–".to_owned()), |s| (crate::stats::ms(s.median), crate::stats::ms(s.p99)));
        vec![name.to_owned(), count.to_string(), per_second(rate), median, p99]
    };
    section.details.push(table(
        &["measured", "operations", "throughput", "median ms", "p99 ms"],
        &[
            row("login over HTTP", result.completed, logins, login_latency),
            row("Argon2id verification alone", floor.verifications, floor_rate, floor_latency),
        ],
    ));
    let thirds: Vec<String> = result.throughput_by_part(3).into_iter().map(per_second).collect();
    section.details.push(format!(
        "Login throughput in the first, second and last third of the window: {}. Thirds that differ \
         much show that the rate drifted during the window, from other work on the machine or from the \
         growing number of live sessions that each seat count reads.",
        thirds.join(", ")
    ));
    section.details.push(format!(
        "That is {:.1} logins per second per core. For scale, Keycloak's guide \"Concepts for sizing CPU and \
         memory resources\" (keycloak.org/high-availability) allocates 1 vCPU for each 15 password-based \
         logins per second.",
        logins / cores as f64
    ));
    section.details.push(format!(
        "Failed logins: {}. Server resident memory after the run: {}.",
        result.failed,
        rss.map_or_else(|| "not read".to_owned(), crate::stats::mib)
    ));
    Ok(section)
}

/// Verifications counted on all threads, and the time of each.
struct Floor {
    verifications: usize,
    window: Duration,
    latencies: Vec<Duration>,
}

/// Verifies the password against `hash` on `threads` threads for `window`.
fn argon2_floor(hash: &str, threads: usize, window: Duration) -> Result<Floor> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, 1, None).map_err(|error| anyhow::anyhow!("{error}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let start = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut latencies = Vec::new();
                    while start.elapsed() < window {
                        let begun = Instant::now();
                        let parsed = PasswordHash::new(hash).expect("the seeded hash parses");
                        let verified = argon2.verify_password(seed::PASSWORD.as_bytes(), &parsed).is_ok();
                        assert!(verified, "the seeded hash verifies the seeded password");
                        latencies.push(begun.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("a verification thread panicked")).collect()
    });
    Ok(Floor { verifications: latencies.len(), window: start.elapsed(), latencies })
}
