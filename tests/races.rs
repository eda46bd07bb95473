//! Seat and license decisions under simultaneous requests, each race repeated.

use std::collections::HashMap;

use entity::{ComplianceEventKind, compliance_event};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code},
};

const REPETITIONS: usize = 20;

async fn operator(app: &TestApp) -> String {
    app.operator("root").await;
    // An API session outlives the clock moves that free the seats between rounds.
    app.login_on(None, "root", PASSWORD, "API").await
}

async fn enforced_slice(app: &TestApp, operator: &str, name: &str, named: i64, concurrent: i64) -> String {
    let input = json!({
        "name": name, "displayName": name, "kind": "PRODUCTION", "edition": "SERVICE_MANAGEMENT",
        "ownedNamedLicenses": named, "ownedConcurrentLicenses": concurrent
    });
    let id = app.create_slice(operator, input).await;
    app.ok(Some(operator), "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: ENFORCE}) { id } }", json!({ "id": id }))
        .await;
    id
}

async fn blocked_logins(app: &TestApp, slice: &str) -> u64 {
    compliance_event::Entity::find()
        .filter(compliance_event::Column::SliceId.eq(uuid::Uuid::parse_str(slice).unwrap()))
        .filter(compliance_event::Column::Kind.eq(ComplianceEventKind::LoginBlocked))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// The slice's usage-history point of the clock's current day.
async fn today_usage(app: &TestApp, operator: &str, slice: &str) -> Value {
    let today = app.now().date_naive().to_string();
    let data = app
        .ok(Some(operator),
            "query($s: ID!, $d: Date!) { subscriptionCenter(sliceId: $s) { usage(from: $d, to: $d) { concurrentPeak sessionsStarted loginsBlocked } } }",
            json!({ "s": slice, "d": today }))
        .await;
    data["subscriptionCenter"]["usage"][0].clone()
}

db_test! {
    async fn sixty_logins_for_ten_seats(app) {
        let operator = operator(&app).await;
        let slice = enforced_slice(&app, &operator, "crowd", 0, 10).await;
        for index in 0..60 {
            app.create_user(&operator, &slice, &format!("u{index}"), "CONCURRENT", "MEMBER").await;
        }
        for round in 1..=REPETITIONS {
            let logins = (0..60).map(|index| {
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
            assert_eq!(blocked_logins(&app, &slice).await, 50 * round as u64, "round {round}: every refusal is committed");
            let usage = app
                .ok(Some(&operator), "query($s: ID!) { compliance(sliceId: $s) { concurrent { inUse } } }", json!({ "s": slice }))
                .await;
            assert_eq!(usage["compliance"]["concurrent"]["inUse"], 10, "round {round}");
            // Every web session idles out, which frees all seats for the next round.
            app.clock.advance(chrono::Duration::minutes(31));
        }
        let point = today_usage(&app, &operator, &slice).await;
        assert_eq!(point["concurrentPeak"], 10, "{point}");
        assert_eq!(point["sessionsStarted"], 10 * REPETITIONS, "{point}");
        assert_eq!(point["loginsBlocked"], 50 * REPETITIONS, "{point}");
    }
}

db_test! {
    async fn ten_assignments_for_one_license(app) {
        let operator = operator(&app).await;
        for round in 0..REPETITIONS {
            let name = format!("one-{round}");
            let slice = enforced_slice(&app, &operator, &name, 1, 0).await;
            let creates = (0..10).map(|index| {
                let input = json!({
                    "sliceId": slice, "username": format!("n{index}"), "email": format!("n{index}@customer.example"),
                    "displayName": "N", "password": PASSWORD, "licenseType": "NAMED"
                });
                app.gql(Some(&operator), "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", json!({ "i": input }))
            });
            let bodies: Vec<Value> = join_all(creates).await;
            let created = bodies.iter().filter(|b| b["data"]["createUser"]["id"].is_string()).count();
            let refused = bodies.iter().filter(|b| b["errors"].get(0).is_some_and(|e| code(e) == "LICENSE_LIMIT_REACHED")).count();
            assert_eq!(created, 1, "round {round}: {bodies:?}");
            assert_eq!(refused, 9, "round {round}: {bodies:?}");
        }
    }
}

db_test! {
    async fn churn_never_exceeds_owned(app) {
        let operator = operator(&app).await;
        let slice = enforced_slice(&app, &operator, "churn", 0, 5).await;
        for index in 0..12 {
            app.create_user(&operator, &slice, &format!("u{index}"), "CONCURRENT", "MEMBER").await;
        }
        let mut bus = app.state.events.subscribe();
        let app = &app;
        for round in 0..REPETITIONS {
            let tasks = (0..12).map(|index| async move {
                let input = json!({ "slice": "churn", "username": format!("u{index}"), "password": PASSWORD, "channel": "WEB" });
                let body = app
                    .gql(None, "mutation($i: LoginInput!) { login(input: $i) { ... on LoginSuccess { token } } }", json!({ "i": input }))
                    .await;
                if let Some(token) = body["data"]["login"]["token"].as_str()
                    && (index + round) % 2 == 0
                {
                    app.gql(Some(token), "mutation { logout }", json!({})).await;
                }
            });
            join_all(tasks).await;
            app.clock.advance(chrono::Duration::minutes(31));
        }
        let final_version = app
            .ok(Some(&operator), "query($s: ID!) { compliance(sliceId: $s) { version } }", json!({ "s": slice }))
            .await["compliance"]["version"]
            .as_i64()
            .unwrap();
        // On PostgreSQL events reach the bus through the database's listener, so
        // the last ones may arrive after the requests returned.
        let mut versions = Vec::new();
        while versions.last() != Some(&final_version) {
            let event = tokio::time::timeout(std::time::Duration::from_secs(10), bus.recv())
                .await
                .expect("the event of the last change arrives")
                .unwrap();
            if let Some(usage) = event.usage()
                && usage.slice_id.to_string() == slice
            {
                assert!(usage.concurrent.in_use <= 5, "in use {} above owned", usage.concurrent.in_use);
                versions.push(usage.version);
            }
        }
        assert!(!versions.is_empty());
        assert!(versions.windows(2).all(|pair| pair[0] <= pair[1]), "versions seen only grow: {versions:?}");
        let point = today_usage(app, &operator, &slice).await;
        let today = app.now().date_naive().to_string();
        let curve = app
            .ok(Some(&operator), "query($s: ID!, $d: Date!) { subscriptionCenter(sliceId: $s) { seatCurve(date: $d) { seatsInUse } } }",
                json!({ "s": slice, "d": today }))
            .await;
        let logged_max = curve["subscriptionCenter"]["seatCurve"].as_array().unwrap().iter().map(|p| p["seatsInUse"].as_i64().unwrap()).max();
        assert_eq!(point["concurrentPeak"].as_i64(), logged_max, "the peak is the highest logged count: {point}");
        assert!(point["concurrentPeak"].as_i64().unwrap() <= 5, "{point}");
    }
}
