//! A PostgreSQL server stopped and started again under load, on a cluster of
//! the test's own that `tests/run` provides.

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    harness::{self, PASSWORD, TestApp, code, test_config, test_start},
    ws_client::{self, next, next_within},
};

fn control(ctl: &str, action: &str) {
    let output = Command::new(ctl).arg(action).output().unwrap();
    assert!(output.status.success(), "outage-ctl {action} failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Sends `query` until it succeeds, for at most `limit`.
async fn wait_until_served(app: &TestApp, token: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        let body = app.gql(Some(token), "{ me { username } }", json!({})).await;
        if body.get("errors").is_none() {
            return;
        }
        assert!(started.elapsed() < limit, "the service did not recover within {limit:?}: {body}");
        // The database restarts in its own process; this only paces the retries.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_fails_fast_and_recovers() {
    let Some((server, ctl)) = harness::outage_cluster() else {
        return;
    };
    let url = harness::unmigrated_postgres_database(&server).await;
    let mut config = test_config(url);
    config.database_acquire_timeout = Duration::from_secs(1);
    config.database_connect_timeout = Duration::from_secs(1);
    let app = TestApp::start_on(config, None, test_start()).await;
    app.operator("root").await;
    let operator = app.login_on(None, "root", PASSWORD, "API").await;
    let slice = app.create_slice(&operator, harness::slice_input("acme")).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    app.create_user(&operator, &slice, "carl", "CONCURRENT", "MEMBER").await;
    let admin = app.login_on(Some("acme"), "ada", PASSWORD, "API").await;
    let mut usage = ws_client::subscribe(
        &app,
        &admin,
        "subscription($s: ID!) { licenseUsage(sliceId: $s) { version concurrent { inUse } } }",
        json!({ "s": slice }),
    )
    .await
    .unwrap();
    let initial = next(&mut usage).await.expect("the usage when the subscription starts");
    let version_before = initial["data"]["licenseUsage"]["version"].as_i64().unwrap();

    // Load: queries keep coming during the outage; each either succeeds or fails with SERVICE_UNAVAILABLE.
    let stop = Arc::new(AtomicBool::new(false));
    let app = Arc::new(app);
    let load = {
        let (app, stop, admin, slice) = (app.clone(), stop.clone(), admin.clone(), slice.clone());
        tokio::spawn(async move {
            let mut codes: Vec<String> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let body: Value =
                    app.gql(Some(&admin), "query($s: ID!) { compliance(sliceId: $s) { version } }", json!({ "s": slice })).await;
                if let Some(error) = body["errors"].get(0) {
                    codes.push(code(error).to_owned());
                }
                tokio::task::yield_now().await;
            }
            codes
        })
    };

    control(&ctl, "stop");
    let started = Instant::now();
    let error = app.error(Some(&admin), "{ me { username } }", json!({})).await;
    assert_eq!(code(&error), "SERVICE_UNAVAILABLE", "{error}");
    assert!(started.elapsed() < Duration::from_secs(5), "the request failed fast: {:?}", started.elapsed());
    let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
    assert_eq!(ready.status(), 503);

    control(&ctl, "start");
    wait_until_served(&app, &admin, Duration::from_secs(30)).await;
    let ready = app.client.get(format!("{}/ready", app.base_url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    stop.store(true, Ordering::Relaxed);
    let codes = load.await.unwrap();
    assert!(codes.iter().all(|code| code == "SERVICE_UNAVAILABLE"), "only SERVICE_UNAVAILABLE while down: {codes:?}");

    // The subscriber is resynchronised and sees changes made after the outage.
    app.login(Some("acme"), "carl", PASSWORD).await;
    // The listener reconnects with a growing wait of at most five seconds.
    loop {
        let event = next_within(&mut usage, Duration::from_secs(15)).await.expect("the subscription is still open");
        let report = &event["data"]["licenseUsage"];
        assert!(report["version"].as_i64().unwrap() > version_before, "{event}");
        if report["concurrent"]["inUse"] == 1 {
            break;
        }
    }
}
