//! License enforcement: the boundary table, races, seat release and level events.

use entity::{ComplianceEventKind, compliance_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code},
};

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename \
    ... on LoginSuccess { token warnings { code } } ... on LicenseUnavailable { owned inUse licenseType } \
    ... on LoginRejected { reason } } }";

/// Creates a slice with the given owned counts (both types) and returns its id; the mode is set later.
async fn slice(app: &TestApp, operator: &str, name: &str, owned: i64) -> String {
    let input = json!({
        "name": name, "displayName": name, "kind": "PRODUCTION", "edition": "SERVICE_MANAGEMENT",
        "ownedNamedLicenses": owned, "ownedConcurrentLicenses": owned
    });
    app.create_slice(operator, input).await
}

async fn set_mode(app: &TestApp, operator: &str, slice: &str, mode: &str) {
    app.ok(
        Some(operator),
        "mutation($id: ID!, $mode: EnforcementMode!) { updateSlice(id: $id, input: {enforcementMode: $mode}) { id } }",
        json!({ "id": slice, "mode": mode }),
    )
    .await;
}

async fn web_login(app: &TestApp, slice: &str, username: &str) -> Value {
    let input = json!({ "slice": slice, "username": username, "password": PASSWORD, "channel": "WEB" });
    app.ok(None, LOGIN, json!({ "input": input })).await["login"].clone()
}

async fn count_events(app: &TestApp, slice: &str, kind: ComplianceEventKind) -> u64 {
    compliance_event::Entity::find()
        .filter(compliance_event::Column::SliceId.eq(uuid::Uuid::parse_str(slice).unwrap()))
        .filter(compliance_event::Column::Kind.eq(kind))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn concurrent_usage(app: &TestApp, operator: &str, slice: &str) -> (i64, i64) {
    let data = app
        .ok(Some(operator), "query($s: ID!) { compliance(sliceId: $s) { concurrent { inUse owned } } }", json!({ "s": slice }))
        .await;
    let usage = &data["compliance"]["concurrent"];
    (usage["inUse"].as_i64().unwrap(), usage["owned"].as_i64().unwrap())
}

/// What each operation should do at the limit in each mode.
fn expected(mode: &str) -> (&'static str, Option<ComplianceEventKind>, Option<ComplianceEventKind>) {
    match mode {
        "OFF" => ("OK", None, None),
        "WARN" => ("OK", Some(ComplianceEventKind::AssignmentWouldBeBlocked), Some(ComplianceEventKind::LoginWouldBeBlocked)),
        _ => ("REFUSED", Some(ComplianceEventKind::AssignmentBlocked), Some(ComplianceEventKind::LoginBlocked)),
    }
}

db_test! {
    async fn boundary_table(app) {
        app.operator("root").await;
        // An API session, so that the operator's token outlives the clock moves of the test.
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        for owned in [0i64, 1, 2, 10] {
            for mode in ["OFF", "WARN", "ENFORCE"] {
                let name = format!("s{owned}-{}", mode.to_lowercase());
                let id = slice(&app, &operator, &name, owned).await;
                // Fill both limits exactly while the mode is OFF.
                for index in 0..owned {
                    app.create_user(&operator, &id, &format!("n{index}"), "NAMED", "MEMBER").await;
                    app.create_user(&operator, &id, &format!("c{index}"), "CONCURRENT", "MEMBER").await;
                    assert_eq!(web_login(&app, &name, &format!("c{index}")).await["__typename"], "LoginSuccess");
                }
                let inactive = app.create_user(&operator, &id, "sleeper", "NAMED", "MEMBER").await;
                app.ok(Some(&operator), "mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }", json!({ "id": inactive })).await;
                let helper = app.create_user(&operator, &id, "helper", "SELF_SERVICE", "MEMBER").await;
                app.create_user(&operator, &id, "latecomer", "CONCURRENT", "MEMBER").await;
                set_mode(&app, &operator, &id, mode).await;
                let (outcome, assignment_event, login_event) = expected(mode);
                let case = format!("owned {owned}, mode {mode}");

                let cases = [
                    ("create NAMED", "mutation($s: ID!) { createUser(input: {sliceId: $s, username: \"extra\", email: \"extra@customer.example\", displayName: \"Extra\", password: \"correct horse battery\", licenseType: NAMED}) { id } }", json!({ "s": id })),
                    ("change to NAMED", "mutation($id: ID!) { updateUser(id: $id, input: {licenseType: NAMED}) { id } }", json!({ "id": helper })),
                    ("reactivate NAMED", "mutation($id: ID!) { setUserActive(id: $id, active: true) { id } }", json!({ "id": inactive })),
                ];
                for (number, (operation, query, variables)) in cases.into_iter().enumerate() {
                    let body = app.gql(Some(&operator), query, variables).await;
                    if outcome == "OK" {
                        assert!(body.get("errors").is_none(), "{case}, {operation}: {body}");
                    } else {
                        let error = &body["errors"][0];
                        assert_eq!(code(error), "LICENSE_LIMIT_REACHED", "{case}, {operation}: {body}");
                        assert_eq!(error["extensions"]["owned"], owned, "{case}, {operation}");
                        assert_eq!(error["extensions"]["inUse"], owned, "{case}, {operation}");
                    }
                    let recorded = match assignment_event {
                        Some(kind) => count_events(&app, &id, kind).await,
                        None => 0,
                    };
                    let expected_count = if assignment_event.is_some() { number as u64 + 1 } else { 0 };
                    assert_eq!(recorded, expected_count, "{case}, {operation}: assignment events");
                }

                let login = web_login(&app, &name, "latecomer").await;
                if outcome == "OK" {
                    assert_eq!(login["__typename"], "LoginSuccess", "{case}: {login}");
                    let warned = login["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "WOULD_BE_BLOCKED_WHEN_ENFORCED");
                    assert_eq!(warned, mode == "WARN", "{case}: {login}");
                } else {
                    assert_eq!(login["__typename"], "LicenseUnavailable", "{case}: {login}");
                    assert_eq!(login["owned"], owned);
                    assert_eq!(login["inUse"], owned);
                    assert_eq!(login["licenseType"], "CONCURRENT");
                    assert_eq!(concurrent_usage(&app, &operator, &id).await, (owned, owned), "{case}: the event's counts match compliance");
                }
                if let Some(kind) = login_event {
                    assert_eq!(count_events(&app, &id, kind).await, 1, "{case}: login event");
                }
                for kind in [ComplianceEventKind::LoginBlocked, ComplianceEventKind::AssignmentBlocked] {
                    if mode != "ENFORCE" {
                        assert_eq!(count_events(&app, &id, kind).await, 0, "{case}: no blocked events outside ENFORCE");
                    }
                }
            }
        }
    }
}

db_test! {
    async fn below_limit_records_nothing(app) {
        app.operator("root").await;
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        let id = slice(&app, &operator, "roomy", 2).await;
        set_mode(&app, &operator, &id, "ENFORCE").await;
        app.create_user(&operator, &id, "n0", "NAMED", "MEMBER").await;
        app.create_user(&operator, &id, "c0", "CONCURRENT", "MEMBER").await;
        let login = web_login(&app, "roomy", "c0").await;
        assert_eq!(login["__typename"], "LoginSuccess");
        assert_eq!(login["warnings"], json!([]));
        let second_session = web_login(&app, "roomy", "c0").await;
        assert_eq!(second_session["__typename"], "LoginSuccess", "a second web session takes no second seat");
        assert_eq!(concurrent_usage(&app, &operator, &id).await, (1, 2));
        for kind in [ComplianceEventKind::LoginBlocked, ComplianceEventKind::AssignmentBlocked] {
            assert_eq!(count_events(&app, &id, kind).await, 0);
        }
    }
}

db_test! {
    async fn freed_seat_is_usable_at_once(app) {
        app.operator("root").await;
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        let id = slice(&app, &operator, "tight", 1).await;
        set_mode(&app, &operator, &id, "ENFORCE").await;
        let holder = app.create_user(&operator, &id, "holder", "CONCURRENT", "MEMBER").await;
        app.create_user(&operator, &id, "waiter", "CONCURRENT", "MEMBER").await;
        let release: [(&str, &str); 5] = [
            ("logout", "mutation { logout }"),
            ("endSession", "mutation($s: ID!) { endSession(id: $s) { id } }"),
            ("expiry", ""),
            ("inactivation", "mutation($u: ID!) { setUserActive(id: $u, active: false) { id } }"),
            ("license change", "mutation($u: ID!) { updateUser(id: $u, input: {licenseType: SELF_SERVICE}) { id } }"),
        ];
        for (how, mutation) in release {
            let login = web_login(&app, "tight", "holder").await;
            assert_eq!(login["__typename"], "LoginSuccess", "{how}: holder logs in");
            let token = login["token"].as_str().unwrap().to_owned();
            assert_eq!(web_login(&app, "tight", "waiter").await["__typename"], "LicenseUnavailable", "{how}: seat taken");

            let session = app.ok(Some(&token), "{ currentSession { id } }", json!({})).await["currentSession"]["id"].clone();
            match how {
                "logout" => { app.ok(Some(&token), mutation, json!({})).await; }
                "endSession" => { app.ok(Some(&operator), mutation, json!({ "s": session })).await; }
                "expiry" => app.clock.advance(chrono::Duration::minutes(31)),
                _ => { app.ok(Some(&operator), mutation, json!({ "u": holder })).await; }
            }
            let waiter = web_login(&app, "tight", "waiter").await;
            assert_eq!(waiter["__typename"], "LoginSuccess", "{how}: the freed seat is usable at once: {waiter}");
            // Restore: the waiter leaves, and the holder gets back to CONCURRENT and active.
            app.ok(Some(waiter["token"].as_str().unwrap()), "mutation { logout }", json!({})).await;
            app.ok(Some(&operator), "mutation($u: ID!) { setUserActive(id: $u, active: true) { id } }", json!({ "u": holder })).await;
            app.ok(Some(&operator), "mutation($u: ID!) { updateUser(id: $u, input: {licenseType: CONCURRENT}) { id } }", json!({ "u": holder })).await;
        }
    }
}

db_test! {
    async fn hovering_records_one_approaching(app) {
        app.operator("root").await;
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        let id = slice(&app, &operator, "hover", 5).await;
        set_mode(&app, &operator, &id, "WARN").await;
        for index in 0..4 {
            app.create_user(&operator, &id, &format!("c{index}"), "CONCURRENT", "MEMBER").await;
        }
        for index in 0..3 {
            web_login(&app, "hover", &format!("c{index}")).await;
        }
        // 4 of 5 with an 80% threshold approaches the limit; 3 does not.
        for _ in 0..20 {
            let token = web_login(&app, "hover", "c3").await["token"].as_str().unwrap().to_owned();
            app.ok(Some(&token), "mutation { logout }", json!({})).await;
        }
        assert_eq!(count_events(&app, &id, ComplianceEventKind::ApproachingLimit).await, 1);

        // The next UTC day, a new rise is recorded again.
        app.clock.advance(chrono::Duration::days(1));
        for index in 0..3 {
            web_login(&app, "hover", &format!("c{index}")).await;
        }
        web_login(&app, "hover", "c3").await;
        assert_eq!(count_events(&app, &id, ComplianceEventKind::ApproachingLimit).await, 2);
    }
}

db_test! {
    async fn lowering_owned_below_usage(app) {
        app.operator("root").await;
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        let id = slice(&app, &operator, "shrink", 3).await;
        set_mode(&app, &operator, &id, "ENFORCE").await;
        for index in 0..3 {
            app.create_user(&operator, &id, &format!("n{index}"), "NAMED", "MEMBER").await;
        }
        let lowered = app
            .ok(Some(&operator), "mutation($id: ID!) { updateSlice(id: $id, input: {ownedNamedLicenses: 1}) { compliance { named { level overBy } compliant } } }", json!({ "id": id }))
            .await;
        let report = &lowered["updateSlice"]["compliance"];
        assert_eq!(report["named"]["level"], "OVER");
        assert_eq!(report["named"]["overBy"], 2);
        assert_eq!(report["compliant"], false);
        assert_eq!(count_events(&app, &id, ComplianceEventKind::OverLimit).await, 1);
        let token = web_login(&app, "shrink", "n0").await;
        assert_eq!(token["__typename"], "LoginSuccess", "nobody loses access");
        let error = app
            .error(Some(&operator), "mutation($s: ID!) { createUser(input: {sliceId: $s, username: \"n9\", email: \"n9@customer.example\", displayName: \"N\", password: \"correct horse battery\", licenseType: NAMED}) { id } }", json!({ "s": id }))
            .await;
        assert_eq!(code(&error), "LICENSE_LIMIT_REACHED");
    }
}
