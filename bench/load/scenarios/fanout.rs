//! Scenario 4: 1,000 WebSocket subscribers of one slice's `sessionEvents`.
//! It measures the time from a login to its STARTED event at every
//! subscriber, against the login's own response time.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, bail};
use entity::{LicenseType, Role};
use futures_util::{SinkExt, StreamExt, future::join_all};
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::JoinHandle};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    Context,
    client::{self, http_client},
    report::{Finding, Section, Verdict, table},
    seed::{self, Backend, Users},
    server::Server,
    stats::{Summary, mib, ms},
};

const SUBSCRIBERS: usize = 1_000;
/// Subscriptions opened at once while connecting.
const OPEN_BATCH: usize = 50;
const SUBSCRIPTION: &str = "subscription($s: ID!) { sessionEvents(sliceId: $s) { kind session { id } } }";
/// The p99 delivery latency must stay below this.
const TARGET: Duration = Duration::from_millis(100);

/// One STARTED event received by one subscriber.
struct Delivery {
    session_id: String,
    at: Instant,
}

/// Latencies and memory of one backend's run.
struct FanOut {
    backend: Backend,
    deliveries: Vec<Duration>,
    logins: Vec<Duration>,
    missing: usize,
    rss_before: u64,
    rss_open: u64,
}

pub async fn run(ctx: &Context, title: &str) -> Result<Section> {
    let backends: Vec<Backend> = if ctx.quick || ctx.postgres_url.is_none() {
        vec![Backend::Sqlite]
    } else {
        vec![Backend::Sqlite, Backend::Postgres]
    };
    let login_count = ctx.pick(5, 20);
    let mut runs = Vec::new();
    for backend in backends {
        runs.push(measure(ctx, backend, login_count).await.with_context(|| format!("the fan-out on {}", backend.label()))?);
    }

    let mut section = Section::new(title);
    let mut rows = Vec::new();
    for run in &runs {
        let delivery = Summary::of(&run.deliveries).context("no delivery was measured")?;
        let login = Summary::of(&run.logins).context("no login was measured")?;
        section.findings.push(Finding {
            measure: format!("{}: login → STARTED at each of {SUBSCRIBERS} subscribers, p50 / p99", run.backend.label()),
            figure: delivery.median_p99(),
            baseline: format!("login response {}", login.median_p99()),
            ratio: format!("{} (p99)", crate::stats::ratio(delivery.p99.as_secs_f64() / login.p99.as_secs_f64())),
            target: format!("p99 < {} ms", TARGET.as_millis()),
            verdict: if run.missing > 0 {
                Verdict::NotMeasured(format!("{} deliveries missing", run.missing))
            } else {
                Verdict::from_check(delivery.p99 < TARGET)
            },
        });
        section.findings.push(Finding {
            measure: format!("{}: server memory with {SUBSCRIBERS} subscriptions open", run.backend.label()),
            figure: mib(run.rss_open),
            baseline: format!("{} before opening", mib(run.rss_before)),
            ratio: crate::stats::ratio(run.rss_open as f64 / run.rss_before as f64),
            target: "–".to_owned(),
            verdict: Verdict::Context,
        });
        rows.push(vec![
            run.backend.label().to_owned(),
            run.logins.len().to_string(),
            delivery.count.to_string(),
            run.missing.to_string(),
            ms(delivery.median),
            ms(delivery.p99),
            ms(delivery.max),
            ms(login.median),
            ms(login.p99),
            mib(run.rss_before),
            mib(run.rss_open),
        ]);
    }
    section.details.push(format!(
        "A slice in ENFORCE with one NAMED administrator and 100 NAMED members, loaded with SQL; the server \
         runs with its defaults (Argon2id at 19,456 KiB, 2 iterations). The administrator logs in over HTTP, \
         then the load process opens {SUBSCRIBERS} WebSockets (graphql-transport-ws, {OPEN_BATCH} at a time), \
         each authenticated with the administrator's token in `connection_init`, and subscribes each to \
         `{SUBSCRIPTION}`. A first login must reach every subscriber before anything is timed; the memory is \
         read (VmRSS in /proc/PID/status) after it. Then {login_count} members log in one after the other on \
         WEB, 200 ms apart. A delivery's latency runs from sending the login to reading its STARTED message on \
         a subscriber's socket; the baseline is the same login's response time. The {SUBSCRIBERS} receiving \
         sockets run in the load process on the same cores as the server. PostgreSQL runs only in full mode, \
         where events go through LISTEN/NOTIFY."
    ));
    section.details.push(table(
        &["database", "logins", "deliveries", "missing", "median ms", "p99 ms", "max ms", "login median ms", "login p99 ms", "RSS before", "RSS open"],
        &rows,
    ));
    Ok(section)
}

async fn measure(ctx: &Context, backend: Backend, login_count: usize) -> Result<FanOut> {
    let name = format!("fanout-{}", backend.label().to_lowercase());
    let db = seed::fresh_database(ctx, backend, &name).await?;
    let mut rng = seed::rng(4);
    let hash = seed::password_hash(19_456, 2)?;
    let slice_id = seed::insert_slice(&db, &mut rng, "bench-fanout", 1_000, 10).await?;
    let admin = Users { prefix: "admin", count: 1, license_type: LicenseType::Named, role: Role::Admin, inactive_every: 0 };
    seed::insert_users(&db, &mut rng, slice_id, admin, &hash).await?;
    let members = Users { prefix: "m", count: 100, license_type: LicenseType::Named, role: Role::Member, inactive_every: 0 };
    seed::insert_users(&db, &mut rng, slice_id, members, &hash).await?;
    seed::analyze(&db).await?;
    db.conn.close().await?;

    let server = Server::start(ctx, &name, &db.url, &[]).await?;
    let http = http_client(4)?;
    let url = server.graphql_url();
    let token = client::login_token(&http, &url, "bench-fanout", &seed::username("admin", 0), seed::PASSWORD).await?;
    let rss_before = server.process.vm_rss_kib()?;

    let ws_url = format!("ws://{}/graphql", server.base_url.trim_start_matches("http://"));
    let (sender, mut receiver) = mpsc::unbounded_channel::<Delivery>();
    let mut subscribers: Vec<JoinHandle<()>> = Vec::with_capacity(SUBSCRIBERS);
    let slice = slice_id.to_string();
    for batch in (0..SUBSCRIBERS).collect::<Vec<_>>().chunks(OPEN_BATCH) {
        let opened = join_all(batch.iter().map(|_| subscribe(&ws_url, &token, &slice, sender.clone()))).await;
        for handle in opened {
            subscribers.push(handle?);
        }
    }
    let mut received: HashMap<String, Vec<Instant>> = HashMap::new();

    // The first login proves that every subscription is running.
    let first = client::login(&http, &url, "bench-fanout", &seed::username("m", 0), seed::PASSWORD).await?;
    let first_id = first.session_id.context("the first login returned no session")?;
    let got = collect(&mut receiver, &mut received, &first_id, Duration::from_secs(60)).await;
    if got < SUBSCRIBERS {
        bail!("only {got} of {SUBSCRIBERS} subscribers received the first login's STARTED event");
    }
    let rss_open = server.process.vm_rss_kib()?;

    let mut run = FanOut { backend, deliveries: Vec::new(), logins: Vec::new(), missing: 0, rss_before, rss_open };
    for index in 1..=login_count {
        let sent = Instant::now();
        let login = client::login(&http, &url, "bench-fanout", &seed::username("m", index), seed::PASSWORD).await?;
        run.logins.push(sent.elapsed());
        let session_id = login.session_id.with_context(|| format!("login {index} returned {}", login.typename))?;
        let got = collect(&mut receiver, &mut received, &session_id, Duration::from_secs(10)).await;
        run.missing += SUBSCRIBERS - got;
        run.deliveries.extend(received.get(&session_id).into_iter().flatten().map(|at| *at - sent));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for subscriber in &subscribers {
        subscriber.abort();
    }
    server.stop().await?;
    Ok(run)
}

/// Moves deliveries from the channel into `received` until `session_id` has
/// one per subscriber or `timeout` passes; returns how many it has.
async fn collect(
    receiver: &mut mpsc::UnboundedReceiver<Delivery>,
    received: &mut HashMap<String, Vec<Instant>>,
    session_id: &str,
    timeout: Duration,
) -> usize {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let count = received.get(session_id).map_or(0, Vec::len);
        if count >= SUBSCRIBERS {
            return count;
        }
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(delivery)) => received.entry(delivery.session_id).or_default().push(delivery.at),
            Ok(None) | Err(_) => return count,
        }
    }
}

/// Opens one graphql-transport-ws connection, subscribes, and returns the
/// task that sends each STARTED event to `sender` and replies to the server's pings.
async fn subscribe(url: &str, token: &str, slice_id: &str, sender: mpsc::UnboundedSender<Delivery>) -> Result<JoinHandle<()>> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = connect_async(request).await.context("opening a WebSocket failed")?;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await?;
    loop {
        let message = socket.next().await.context("the WebSocket closed before connection_ack")??;
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text)?;
            match value["type"].as_str() {
                Some("connection_ack") => break,
                Some("ping") => socket.send(Message::text(json!({ "type": "pong" }).to_string())).await?,
                _ => bail!("unexpected message before connection_ack: {text}"),
            }
        }
    }
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION, "variables": { "s": slice_id } } });
    socket.send(Message::text(subscribe.to_string())).await?;
    Ok(tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let at = Instant::now();
            let Message::Text(text) = message else { continue };
            let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
            match value["type"].as_str() {
                Some("next") => {
                    let event = &value["payload"]["data"]["sessionEvents"];
                    if event["kind"] == "STARTED"
                        && let Some(session_id) = event["session"]["id"].as_str()
                    {
                        let _ = sender.send(Delivery { session_id: session_id.to_owned(), at });
                    }
                }
                Some("ping") if socket.send(Message::text(json!({ "type": "pong" }).to_string())).await.is_err() => return,
                _ => {}
            }
        }
    }))
}
