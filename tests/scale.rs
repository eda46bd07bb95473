//! Two instances of the service on one PostgreSQL database, as behind a load
//! balancer: one set of rules, and every event on every instance.

use std::collections::HashMap;

use entity::{ComplianceEventKind, compliance_event, outbox_email};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use seatwarden::{config::Config, db};
use serde_json::{Value, json};

use crate::{
    harness::{self, Backend, PASSWORD, TestApp, test_config, test_start},
    ws_client::{self, next},
};

/// Starts two instances on one fresh PostgreSQL database; `None` when PostgreSQL is not available outside CI.
async fn two_instances(adjust: impl Fn(&mut Config)) -> Option<(TestApp, TestApp)> {
    let (url, _) = harness::fresh_database(Backend::Postgres).await?;
    let mut config = test_config(url);
    adjust(&mut config);
    let first = TestApp::start_on(config.clone(), None, test_start()).await;
    let second = TestApp::start_on(config, None, test_start()).await;
    Some((first, second))
}

fn advance(instances: [&TestApp; 2], by: chrono::Duration) {
    for app in instances {
        app.clock.advance(by);
    }
}

async fn login(app: &TestApp, slice: &str, username: &str) -> Value {
    let input = json!({ "slice": slice, "username": username, "password": PASSWORD, "channel": "WEB" });
    app.ok(None, "mutation($i: LoginInput!) { login(input: $i) { __typename ... on LoginSuccess { token } } }", json!({ "i": input }))
        .await["login"]
        .clone()
}

async fn enforced_slice(app: &TestApp, operator: &str, name: &str, concurrent: i64) -> String {
    let input = json!({
        "name": name, "displayName": name, "kind": "PRODUCTION", "edition": "SERVICE_MANAGEMENT",
        "ownedNamedLicenses": 5, "ownedConcurrentLicenses": concurrent
    });
    let slice = app.create_slice(operator, input).await;
    app.ok(Some(operator), "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: ENFORCE}) { id } }", json!({ "id": slice }))
        .await;
    slice
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_logins_over_two_instances_for_ten_seats() {
    let Some((first, second)) = two_instances(|_| {}).await else {
        return;
    };
    first.operator("root").await;
    let operator = first.login_on(None, "root", PASSWORD, "API").await;
    let slice = enforced_slice(&first, &operator, "crowd", 10).await;
    for index in 0..60 {
        first.create_user(&operator, &slice, &format!("u{index}"), "CONCURRENT", "MEMBER").await;
    }
    for round in 1..=20 {
        let logins = (0..60).map(|index| {
            let app = if index % 2 == 0 { &first } else { &second };
            let input = json!({ "slice": "crowd", "username": format!("u{index}"), "password": PASSWORD, "channel": "WEB" });
            app.gql(None, "mutation($i: LoginInput!) { login(input: $i) { __typename } }", json!({ "i": input }))
        });
        let mut outcomes: HashMap<String, usize> = HashMap::new();
        for body in join_all(logins).await {
            let outcome = body["data"]["login"]["__typename"].as_str().map_or_else(|| format!("error {body}"), str::to_owned);
            *outcomes.entry(outcome).or_default() += 1;
        }
        assert_eq!(outcomes.get("LoginSuccess"), Some(&10), "round {round}: {outcomes:?}");
        assert_eq!(outcomes.get("LicenseUnavailable"), Some(&50), "round {round}: {outcomes:?}");
        // Every web session idles out, which frees all seats for the next round.
        advance([&first, &second], chrono::Duration::minutes(31));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_changes_made_on_the_other_instance() {
    let Some((first, second)) = two_instances(|_| {}).await else {
        return;
    };
    let operator = first.operator("root").await;
    let slice = first.create_slice(&operator, harness::slice_input("acme")).await;
    first.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    first.create_user(&operator, &slice, "carl", "CONCURRENT", "MEMBER").await;
    let admin = first.login(Some("acme"), "ada", PASSWORD).await;

    let mut sessions = ws_client::subscribe(
        &first,
        &admin,
        "subscription($s: ID!) { sessionEvents(sliceId: $s) { kind session { user { username } } usage { version } } }",
        json!({ "s": slice }),
    )
    .await
    .unwrap();
    let mut usage = ws_client::subscribe(
        &first,
        &admin,
        "subscription($s: ID!) { licenseUsage(sliceId: $s) { version concurrent { inUse } } }",
        json!({ "s": slice }),
    )
    .await
    .unwrap();

    let initial = next(&mut usage).await.expect("the usage when the subscription starts");
    assert_eq!(initial["data"]["licenseUsage"]["concurrent"]["inUse"], 0, "{initial}");

    // carl logs in and out through the second instance.
    let carl = login(&second, "acme", "carl").await["token"].as_str().unwrap().to_owned();
    let started = next(&mut sessions).await.expect("STARTED from the other instance");
    assert_eq!(started["data"]["sessionEvents"]["kind"], "STARTED", "{started}");
    assert_eq!(started["data"]["sessionEvents"]["session"]["user"]["username"], "carl");
    let in_use = next(&mut usage).await.expect("the usage change from the other instance");
    assert_eq!(in_use["data"]["licenseUsage"]["concurrent"]["inUse"], 1, "{in_use}");

    second.ok(Some(&carl), "mutation { logout }", json!({})).await;
    let ended = next(&mut sessions).await.expect("ENDED from the other instance");
    assert_eq!(ended["data"]["sessionEvents"]["kind"], "ENDED", "{ended}");
    let freed = next(&mut usage).await.expect("the second usage change");
    assert_eq!(freed["data"]["licenseUsage"]["concurrent"]["inUse"], 0, "{freed}");
    let versions = [&in_use, &freed].map(|event| event["data"]["licenseUsage"]["version"].as_i64().unwrap());
    assert!(versions[1] > versions[0], "versions grow: {versions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_step_and_alert_happen_once_with_two_instances() {
    let Some((first, second)) = two_instances(|_| {}).await else {
        return;
    };
    first.operator("root").await;
    let operator = first.login_on(None, "root", PASSWORD, "API").await;
    let mut input = harness::slice_input("acme");
    input["ownedConcurrentLicenses"] = json!(2);
    let slice = first.create_slice(&operator, input).await;
    first.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    for user in ["c1", "c2"] {
        first.create_user(&operator, &slice, user, "CONCURRENT", "MEMBER").await;
    }
    let now = first.now();
    first
        .ok(Some(&operator), "mutation($v: DateTime!, $w: DateTime!, $e: DateTime!) { setRolloutSchedule(visibleAt: $v, warnAt: $w, enforceAt: $e) { phase } }",
            json!({
                "v": now.to_rfc3339(),
                "w": (now + chrono::Duration::minutes(1)).to_rfc3339(),
                "e": (now + chrono::Duration::minutes(2)).to_rfc3339(),
            }))
        .await;

    // Both instances' rollout jobs run at once after both steps fell due.
    advance([&first, &second], chrono::Duration::minutes(3));
    let (a, b) = tokio::join!(
        seatwarden::rollout::apply(&first.state.db, first.state.clock.as_ref(), &first.state.events, &first.state.config),
        seatwarden::rollout::apply(&second.state.db, second.state.clock.as_ref(), &second.state.events, &second.state.config),
    );
    a.unwrap();
    b.unwrap();
    let slice_id = uuid::Uuid::parse_str(&slice).unwrap();
    let db = &first.state.db;
    let events_of = |kind| {
        compliance_event::Entity::find()
            .filter(compliance_event::Column::SliceId.eq(slice_id))
            .filter(compliance_event::Column::Kind.eq(kind))
            .all(db)
    };
    let mode_changes = events_of(ComplianceEventKind::ModeChanged).await.unwrap();
    assert_eq!(mode_changes.len(), 1, "one MODE_CHANGED from OFF to ENFORCE: {mode_changes:?}");

    // Both seats taken at once through the two instances: LIMIT_REACHED once.
    let (c1, c2) = tokio::join!(login(&first, "acme", "c1"), login(&second, "acme", "c2"));
    assert_eq!(c1["__typename"], "LoginSuccess");
    assert_eq!(c2["__typename"], "LoginSuccess");
    let limit = events_of(ComplianceEventKind::LimitReached).await.unwrap();
    assert_eq!(limit.len(), 1, "{limit:?}");

    // Both dispatchers run at once; every email is written once.
    let (a, b) = tokio::join!(
        seatwarden::mail::dispatch_pending(&first.state.db, first.state.clock.as_ref(), &first.state.mail),
        seatwarden::mail::dispatch_pending(&second.state.db, second.state.clock.as_ref(), &second.state.mail),
    );
    a.unwrap();
    b.unwrap();
    let emails = outbox_email::Entity::find().all(db).await.unwrap();
    for event in [&mode_changes[0], &limit[0]] {
        let queued: Vec<_> = emails.iter().filter(|email| email.compliance_event_id == Some(event.id)).collect();
        assert_eq!(queued.len(), 1, "one email for {:?}", event.kind);
        let file = first.state.config.mail_dir.join(format!("{}.eml", queued[0].id));
        assert!(file.is_file(), "the email for {:?} was delivered", event.kind);
    }
    let sent = outbox_email::Entity::find().filter(outbox_email::Column::SentAt.is_not_null()).count(db).await.unwrap();
    assert_eq!(sent as usize, emails.len(), "every email was delivered by one of the two dispatchers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_migrate_an_empty_database_once() {
    let Some(server) = harness::postgres_server() else {
        return;
    };
    let url = harness::unmigrated_postgres_database(&server).await;
    let config = test_config(url);
    let (first, second) = tokio::join!(
        TestApp::start_on(config.clone(), None, test_start()),
        TestApp::start_on(config.clone(), None, test_start()),
    );
    let operator = first.operator("root").await;
    second.ok(Some(&operator), "{ me { username } }", json!({})).await;

    use migration::MigratorTrait;
    let expected = migration::Migrator::migrations().len() as i64;
    let db = db::connect(&config).await.unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT COUNT(*) AS applied, COUNT(DISTINCT version) AS distinct_versions FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "applied").unwrap(), expected);
    assert_eq!(row.try_get::<i64>("", "distinct_versions").unwrap(), expected);
}
