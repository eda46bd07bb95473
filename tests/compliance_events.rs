//! Recorded compliance events: the `complianceEvents` list (order, paging,
//! filters, fields, who may read it), and the `licenseUsage` and
//! `complianceEvents` subscriptions through graphql-ws-client over a real WebSocket.
//!
//! Most events here are inserted straight into the table, which exercises the
//! read path on its own; MODE_CHANGED comes from `updateSlice`.

use chrono::{DateTime, Utc};
use entity::{ComplianceEventKind, EmailStatus, LicenseType, compliance_event, user};
use graphql_ws_client::Subscription;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use seatwarden::events::Event;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
    ws_client::{self, Operation, next},
};

const EVENTS: &str = "query($s: ID!, $f: ComplianceEventFilter, $first: Int, $after: String) { \
    complianceEvents(sliceId: $s, filter: $f, first: $first, after: $after) { totalCount \
    edges { cursor node { id kind } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

const EVENT_FIELDS: &str = "id slice { id name } kind licenseType level inUse owned user { username } actor { username } \
    fromMode toMode message occurredAt emailed emailStatus";

const REPORT_FIELDS: &str = "sliceId mode compliant evaluatedAt version \
    named { licenseType owned inUse available overBy percentUsed level } \
    concurrent { licenseType owned inUse available overBy percentUsed level } \
    selfService { licenseType owned inUse available overBy percentUsed level } \
    webServices { licenseType owned inUse available overBy percentUsed level }";

struct Setup {
    operator: String,
    /// acme's id.
    slice: Uuid,
    /// globex's id.
    other_slice: Uuid,
    /// A token of ada, acme's administrator.
    admin: String,
}

impl Setup {
    fn slice_id(&self) -> String {
        self.slice.to_string()
    }
}

/// Slices acme (administrator ada, NAMED; members carl and dan, CONCURRENT)
/// and globex (administrator gus).
async fn setup(app: &TestApp) -> Setup {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    app.create_user(&operator, &slice, "carl", "CONCURRENT", "MEMBER").await;
    app.create_user(&operator, &slice, "dan", "CONCURRENT", "MEMBER").await;
    let other_slice = app.create_slice(&operator, slice_input("globex")).await;
    app.create_user(&operator, &other_slice, "gus", "NAMED", "ADMIN").await;
    let admin = app.login(Some("acme"), "ada", PASSWORD).await;
    Setup { operator, slice: slice.parse().unwrap(), other_slice: other_slice.parse().unwrap(), admin }
}

/// Builds an event of `slice_id` with NAMED counts and no user, actor or email.
fn event(slice_id: Uuid, kind: ComplianceEventKind, occurred_at: DateTime<Utc>) -> compliance_event::Model {
    compliance_event::Model {
        id: Uuid::now_v7(),
        slice_id,
        kind,
        license_type: Some(LicenseType::Named),
        level: None,
        in_use: Some(9),
        owned: Some(10),
        user_id: None,
        actor_id: None,
        from_mode: None,
        to_mode: None,
        message: format!("{kind:?} recorded by the test"),
        occurred_at,
        email_status: EmailStatus::NotRequired,
    }
}

/// Writes an event row directly, as the recording engine would.
async fn insert(app: &TestApp, event: compliance_event::Model) -> compliance_event::Model {
    compliance_event::ActiveModel::from(event).reset_all().insert(&app.state.db).await.unwrap()
}

async fn user_id(app: &TestApp, token: &str) -> Uuid {
    let data = app.ok(Some(token), "{ me { id } }", json!({})).await;
    data["me"]["id"].as_str().unwrap().parse().unwrap()
}

fn minutes_ago(app: &TestApp, minutes: i64) -> DateTime<Utc> {
    app.now() - chrono::Duration::minutes(minutes)
}

/// Lists acme's events as `token` and returns the connection.
async fn list(app: &TestApp, token: &str, setup: &Setup, variables: Value) -> Value {
    let mut variables = variables;
    variables["s"] = json!(setup.slice_id());
    app.ok(Some(token), EVENTS, variables).await["complianceEvents"].clone()
}

fn ids(connection: &Value) -> Vec<String> {
    connection["edges"].as_array().unwrap().iter().map(|edge| edge["node"]["id"].as_str().unwrap().to_owned()).collect()
}

db_test! {
    async fn list_pages_newest_first(app) {
        let setup = setup(&app).await;
        let oldest = insert(&app, event(setup.slice, ComplianceEventKind::ApproachingLimit, minutes_ago(&app, 30))).await;
        let older = insert(&app, event(setup.slice, ComplianceEventKind::LimitReached, minutes_ago(&app, 20))).await;
        // Two events of one instant are ordered by id, descending.
        let tied_a = insert(&app, event(setup.slice, ComplianceEventKind::OverLimit, minutes_ago(&app, 10))).await;
        let tied_b = insert(&app, event(setup.slice, ComplianceEventKind::LoginBlocked, minutes_ago(&app, 10))).await;
        let (tied_high, tied_low) = if tied_a.id > tied_b.id { (tied_a, tied_b) } else { (tied_b, tied_a) };
        let newest = insert(&app, event(setup.slice, ComplianceEventKind::LoginWouldBeBlocked, app.now())).await;
        insert(&app, event(setup.other_slice, ComplianceEventKind::OverLimit, app.now())).await;

        let expected: Vec<String> = [&newest, &tied_high, &tied_low, &older, &oldest].iter().map(|e| e.id.to_string()).collect();
        let all = list(&app, &setup.admin, &setup, json!({})).await;
        assert_eq!(ids(&all), expected, "newest first, ties by id; globex's event is not listed");
        assert_eq!(all["totalCount"], 5);
        assert_eq!(all["pageInfo"]["hasNextPage"], false);

        // The first page ends between the two events of one instant.
        let first = list(&app, &setup.admin, &setup, json!({ "first": 2 })).await;
        assert_eq!(ids(&first), expected[0..2]);
        assert_eq!(first["totalCount"], 5, "totalCount counts every page");
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
        assert_eq!(first["pageInfo"]["startCursor"], first["edges"][0]["cursor"]);
        assert_eq!(first["pageInfo"]["endCursor"], first["edges"][1]["cursor"]);

        let second = list(&app, &setup.admin, &setup, json!({ "first": 2, "after": first["pageInfo"]["endCursor"] })).await;
        assert_eq!(ids(&second), expected[2..4]);
        assert_eq!(second["pageInfo"]["hasNextPage"], true);
        assert_eq!(second["pageInfo"]["hasPreviousPage"], true);

        let last = list(&app, &setup.admin, &setup, json!({ "first": 2, "after": second["pageInfo"]["endCursor"] })).await;
        assert_eq!(ids(&last), expected[4..5]);
        assert_eq!(last["pageInfo"]["hasNextPage"], false);

        let empty = list(&app, &setup.admin, &setup, json!({ "first": 0 })).await;
        assert_eq!(ids(&empty), Vec::<String>::new());
        assert_eq!(empty["totalCount"], 5);
        assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);
    }
}

db_test! {
    async fn list_filters_kind_type_since(app) {
        let setup = setup(&app).await;
        let approaching = insert(&app, event(setup.slice, ComplianceEventKind::ApproachingLimit, minutes_ago(&app, 30))).await;
        let over = insert(
            &app,
            compliance_event::Model {
                license_type: Some(LicenseType::Concurrent),
                ..event(setup.slice, ComplianceEventKind::OverLimit, minutes_ago(&app, 20))
            },
        )
        .await;
        let blocked = insert(
            &app,
            compliance_event::Model {
                license_type: Some(LicenseType::Concurrent),
                ..event(setup.slice, ComplianceEventKind::LoginBlocked, minutes_ago(&app, 10))
            },
        )
        .await;
        let mode = insert(
            &app,
            compliance_event::Model {
                license_type: None,
                in_use: None,
                owned: None,
                from_mode: Some(entity::EnforcementMode::Off),
                to_mode: Some(entity::EnforcementMode::Warn),
                ..event(setup.slice, ComplianceEventKind::ModeChanged, app.now())
            },
        )
        .await;

        let cases = [
            ("kinds", json!({ "kinds": ["OVER_LIMIT", "LOGIN_BLOCKED"] }), vec![&blocked, &over]),
            ("licenseTypes NAMED", json!({ "licenseTypes": ["NAMED"] }), vec![&approaching]),
            ("licenseTypes CONCURRENT", json!({ "licenseTypes": ["CONCURRENT"] }), vec![&blocked, &over]),
            ("kinds and licenseTypes", json!({ "kinds": ["LOGIN_BLOCKED"], "licenseTypes": ["CONCURRENT"] }), vec![&blocked]),
            ("since is inclusive", json!({ "since": over.occurred_at.to_rfc3339() }), vec![&mode, &blocked, &over]),
            ("since after every event", json!({ "since": (app.now() + chrono::Duration::seconds(1)).to_rfc3339() }), vec![]),
            ("kinds MODE_CHANGED", json!({ "kinds": ["MODE_CHANGED"] }), vec![&mode]),
            ("empty kinds", json!({ "kinds": [] }), vec![]),
        ];
        for (case, filter, expected) in cases {
            let connection = list(&app, &setup.admin, &setup, json!({ "f": filter })).await;
            let expected: Vec<String> = expected.iter().map(|e| e.id.to_string()).collect();
            assert_eq!(ids(&connection), expected, "{case}");
            assert_eq!(connection["totalCount"], expected.len(), "{case}: totalCount counts the filtered events");
        }

        // A cursor keeps working with the filter it came from.
        let filter = json!({ "licenseTypes": ["CONCURRENT"] });
        let first = list(&app, &setup.admin, &setup, json!({ "f": filter, "first": 1 })).await;
        assert_eq!(ids(&first), vec![blocked.id.to_string()]);
        let next = list(&app, &setup.admin, &setup, json!({ "f": filter, "first": 1, "after": first["pageInfo"]["endCursor"] })).await;
        assert_eq!(ids(&next), vec![over.id.to_string()]);
        assert_eq!(next["pageInfo"]["hasNextPage"], false);
    }
}

db_test! {
    async fn event_fields_resolve(app) {
        let setup = setup(&app).await;
        let operator_id = user_id(&app, &setup.operator).await;
        let admin_id = user_id(&app, &setup.admin).await;
        let carl = app.login(Some("acme"), "carl", PASSWORD).await;
        let carl_id = user_id(&app, &carl).await;
        app.ok(Some(&carl), "mutation { logout }", json!({})).await;

        let over = insert(
            &app,
            compliance_event::Model {
                license_type: Some(LicenseType::Concurrent),
                level: Some(entity::UsageLevel::Over),
                in_use: Some(6),
                owned: Some(5),
                user_id: Some(carl_id),
                actor_id: Some(operator_id),
                email_status: EmailStatus::Sent,
                message: "CONCURRENT usage is over the limit: 6 in use of 5 owned".to_owned(),
                ..event(setup.slice, ComplianceEventKind::OverLimit, minutes_ago(&app, 5))
            },
        )
        .await;
        let blocked = insert(
            &app,
            compliance_event::Model {
                actor_id: Some(admin_id),
                email_status: EmailStatus::Failed,
                ..event(setup.slice, ComplianceEventKind::AssignmentBlocked, app.now())
            },
        )
        .await;

        let query = format!("query($s: ID!) {{ complianceEvents(sliceId: $s) {{ edges {{ node {{ {EVENT_FIELDS} }} }} }} }}");
        let variables = json!({ "s": setup.slice_id() });
        let as_operator = app.ok(Some(&setup.operator), &query, variables.clone()).await;
        let node = &as_operator["complianceEvents"]["edges"][1]["node"];
        assert_eq!(node["id"], over.id.to_string());
        assert_eq!(node["slice"]["id"], setup.slice_id());
        assert_eq!(node["slice"]["name"], "acme");
        assert_eq!(node["kind"], "OVER_LIMIT");
        assert_eq!(node["licenseType"], "CONCURRENT");
        assert_eq!(node["level"], "OVER");
        assert_eq!(node["inUse"], 6);
        assert_eq!(node["owned"], 5);
        assert_eq!(node["user"]["username"], "carl");
        assert_eq!(node["actor"]["username"], "root", "operators see the operator who acted");
        assert_eq!(node["fromMode"], Value::Null);
        assert_eq!(node["toMode"], Value::Null);
        assert_eq!(node["message"], over.message);
        assert_eq!(node["occurredAt"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), over.occurred_at);
        assert_eq!(node["emailed"], true, "SENT counts as emailed");
        assert_eq!(node["emailStatus"], "SENT");

        let node = &as_operator["complianceEvents"]["edges"][0]["node"];
        assert_eq!(node["id"], blocked.id.to_string());
        assert_eq!(node["level"], Value::Null);
        assert_eq!(node["user"], Value::Null, "no user was recorded");
        assert_eq!(node["actor"]["username"], "ada");
        assert_eq!(node["emailed"], false, "FAILED is not emailed");
        assert_eq!(node["emailStatus"], "FAILED");

        let as_admin = app.ok(Some(&setup.admin), &query, variables.clone()).await;
        let node = &as_admin["complianceEvents"]["edges"][1]["node"];
        assert_eq!(node["user"]["username"], "carl");
        assert_eq!(node["actor"], Value::Null, "administrators cannot see operator accounts");
        assert_eq!(as_admin["complianceEvents"]["edges"][0]["node"]["actor"]["username"], "ada");

        // Deleting carl's account (after his session) leaves the event without a user.
        entity::session::Entity::delete_many()
            .filter(entity::session::Column::UserId.eq(carl_id))
            .exec(&app.state.db)
            .await
            .unwrap();
        user::Entity::delete_by_id(carl_id).exec(&app.state.db).await.unwrap();
        let after_delete = app.ok(Some(&setup.operator), &query, variables).await;
        let node = &after_delete["complianceEvents"]["edges"][1]["node"];
        assert_eq!(node["id"], over.id.to_string());
        assert_eq!(node["user"], Value::Null, "a deleted user resolves to null");
        assert_eq!(node["actor"]["username"], "root");
    }
}

db_test! {
    async fn list_rejects_bad_page_arguments(app) {
        let setup = setup(&app).await;
        insert(&app, event(setup.slice, ComplianceEventKind::OverLimit, app.now())).await;
        let sessions = app
            .ok(
                Some(&setup.admin),
                "query($s: ID!) { sessions(sliceId: $s) { pageInfo { endCursor } } }",
                json!({ "s": setup.slice_id() }),
            )
            .await;
        let session_cursor = sessions["sessions"]["pageInfo"]["endCursor"].clone();
        assert!(session_cursor.is_string(), "the admin's own session gives a cursor");

        let cases = [
            ("negative first", json!({ "first": -1 }), "first"),
            ("first above max_page_size", json!({ "first": 101 }), "first"),
            ("malformed cursor", json!({ "after": "not-a-cursor" }), "after"),
            ("cursor of the session list", json!({ "after": session_cursor }), "after"),
        ];
        for (case, arguments, field) in cases {
            let mut variables = arguments;
            variables["s"] = json!(setup.slice_id());
            let error = app.error(Some(&setup.admin), EVENTS, variables).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{case}");
        }

        let full_page = list(&app, &setup.admin, &setup, json!({ "first": 100 })).await;
        assert_eq!(ids(&full_page).len(), 1, "first = max_page_size is allowed");
    }
}

db_test! {
    async fn mode_change_is_listed(app) {
        let setup = setup(&app).await;
        app.ok(
            Some(&setup.operator),
            "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: WARN}) { id } }",
            json!({ "id": setup.slice_id() }),
        )
        .await;

        let query = format!(
            "query($s: ID!) {{ complianceEvents(sliceId: $s, filter: {{kinds: [MODE_CHANGED]}}) {{ totalCount edges {{ node {{ {EVENT_FIELDS} }} }} }} }}"
        );
        let data = app.ok(Some(&setup.operator), &query, json!({ "s": setup.slice_id() })).await;
        assert_eq!(data["complianceEvents"]["totalCount"], 1, "{data}");
        let node = &data["complianceEvents"]["edges"][0]["node"];
        assert_eq!(node["kind"], "MODE_CHANGED");
        assert_eq!(node["fromMode"], "OFF");
        assert_eq!(node["toMode"], "WARN");
        assert_eq!(node["licenseType"], Value::Null);
        assert_eq!(node["actor"]["username"], "root");
        assert_eq!(node["occurredAt"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), app.now());
    }
}

db_test! {
    async fn who_may_list_events(app) {
        let setup = setup(&app).await;
        insert(&app, event(setup.slice, ComplianceEventKind::OverLimit, app.now())).await;
        let member = app.login(Some("acme"), "carl", PASSWORD).await;
        let foreign_admin = app.login(Some("globex"), "gus", PASSWORD).await;
        let variables = json!({ "s": setup.slice_id() });

        for (who, token) in [("operator", &setup.operator), ("administrator", &setup.admin)] {
            let data = app.ok(Some(token), EVENTS, variables.clone()).await;
            assert_eq!(data["complianceEvents"]["totalCount"], 1, "{who}");
        }

        let cases = [
            ("member", Some(member.as_str()), variables.clone(), "FORBIDDEN"),
            ("other slice's administrator", Some(foreign_admin.as_str()), variables.clone(), "NOT_FOUND"),
            ("anonymous", None, variables.clone(), "UNAUTHENTICATED"),
            ("malformed slice id", Some(setup.admin.as_str()), json!({ "s": "not-an-id" }), "NOT_FOUND"),
            ("unknown slice id", Some(setup.operator.as_str()), json!({ "s": Uuid::new_v4().to_string() }), "NOT_FOUND"),
        ];
        for (who, token, variables, expected) in cases {
            let body = app.gql(token, EVENTS, variables).await;
            assert_eq!(body["data"], Value::Null, "{who}: no data");
            assert_eq!(code(&body["errors"][0]), expected, "{who}: {body}");
        }
    }
}

async fn subscribe(app: &TestApp, token: &str, query: String, variables: Value) -> Subscription<Operation> {
    ws_client::subscribe(app, token, query, variables).await.unwrap()
}

async fn subscribe_usage(app: &TestApp, token: &str, slice_id: &str) -> Subscription<Operation> {
    let query = format!("subscription($s: ID!) {{ licenseUsage(sliceId: $s) {{ {REPORT_FIELDS} }} }}");
    subscribe(app, token, query, json!({ "s": slice_id })).await
}

async fn subscribe_events(app: &TestApp, token: &str, slice_id: &str) -> Subscription<Operation> {
    let query = format!("subscription($s: ID!) {{ complianceEvents(sliceId: $s) {{ {EVENT_FIELDS} }} }}");
    subscribe(app, token, query, json!({ "s": slice_id })).await
}

async fn next_report(subscription: &mut Subscription<Operation>) -> Value {
    let message = next(subscription).await.expect("a licenseUsage message");
    assert!(message.get("errors").is_none(), "unexpected errors: {message}");
    message["data"]["licenseUsage"].clone()
}

fn version(report: &Value) -> i64 {
    report["version"].as_i64().unwrap()
}

/// Computes acme's report the way the domain does, to publish hand-made usage events.
async fn domain_report(app: &TestApp, slice_id: Uuid) -> seatwarden::licensing::ComplianceReport {
    let slice = entity::slice::Entity::find_by_id(slice_id).one(&app.state.db).await.unwrap().unwrap();
    seatwarden::licensing::report(&app.state.db, &slice, app.now()).await.unwrap()
}

db_test! {
    async fn license_usage_starts_with_report(app) {
        let setup = setup(&app).await;
        let mut usage = subscribe_usage(&app, &setup.admin, &setup.slice_id()).await;
        let initial = next_report(&mut usage).await;

        let query = format!("query($s: ID!) {{ compliance(sliceId: $s) {{ {REPORT_FIELDS} }} }}");
        let queried = app.ok(Some(&setup.admin), &query, json!({ "s": setup.slice_id() })).await;
        assert_eq!(initial, queried["compliance"], "the first message is the report compliance(sliceId) returns");
        assert_eq!(initial["named"]["inUse"], 1, "ada's NAMED license");
    }
}

db_test! {
    async fn license_usage_follows_logins(app) {
        let setup = setup(&app).await;
        let mut usage = subscribe_usage(&app, &setup.admin, &setup.slice_id()).await;
        let initial = next_report(&mut usage).await;
        assert_eq!(initial["concurrent"]["inUse"], 0);

        let carl = app.login(Some("acme"), "carl", PASSWORD).await;
        let after_carl = next_report(&mut usage).await;
        assert!(version(&after_carl) > version(&initial), "{after_carl}");
        assert_eq!(after_carl["concurrent"]["inUse"], 1);

        app.login(Some("acme"), "dan", PASSWORD).await;
        let after_dan = next_report(&mut usage).await;
        assert!(version(&after_dan) > version(&after_carl), "{after_dan}");
        assert_eq!(after_dan["concurrent"]["inUse"], 2);

        app.ok(Some(&carl), "mutation { logout }", json!({})).await;
        let after_logout = next_report(&mut usage).await;
        assert!(version(&after_logout) > version(&after_dan), "{after_logout}");
        assert_eq!(after_logout["concurrent"]["inUse"], 1);

        // globex's logins are not acme's usage.
        app.login(Some("globex"), "gus", PASSWORD).await;
        app.login(Some("acme"), "carl", PASSWORD).await;
        let after_relogin = next_report(&mut usage).await;
        assert_eq!(after_relogin["sliceId"], setup.slice_id(), "{after_relogin}");
        assert_eq!(after_relogin["concurrent"]["inUse"], 2);
    }
}

db_test! {
    async fn license_usage_drops_stale_versions(app) {
        let setup = setup(&app).await;
        let mut usage = subscribe_usage(&app, &setup.admin, &setup.slice_id()).await;
        let initial = next_report(&mut usage).await;

        let report = domain_report(&app, setup.slice).await;
        assert_eq!(report.version, version(&initial));
        let at = |version: i64| Event::Usage(seatwarden::licensing::ComplianceReport { version, ..report.clone() });
        let base = report.version;
        // Published in this order, only base + 1 and base + 3 are above the last version sent.
        app.state.events.publish(vec![at(base), at(base + 1), at(base + 1), at(base - 1), at(base + 3), at(base + 2)]);

        assert_eq!(version(&next_report(&mut usage).await), base + 1);
        assert_eq!(version(&next_report(&mut usage).await), base + 3);
        app.state.events.publish(vec![at(base + 4)]);
        assert_eq!(version(&next_report(&mut usage).await), base + 4, "base + 2 came after base + 3 and was dropped");
    }
}

db_test! {
    async fn license_usage_sends_replacing_login_once(app) {
        let setup = setup(&app).await;
        app.ok(
            Some(&setup.operator),
            "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: WARN}) { id } }",
            json!({ "id": setup.slice_id() }),
        )
        .await;
        // With setup's session, ada now has the two live WEB sessions a NAMED user may have in WARN mode.
        let second = app.login(Some("acme"), "ada", PASSWORD).await;
        let second_session = app.ok(Some(&second), "{ currentSession { id } }", json!({})).await["currentSession"]["id"].clone();

        let mut usage = subscribe_usage(&app, &setup.admin, &setup.slice_id()).await;
        let initial = next_report(&mut usage).await;

        // Ending one session and starting another in one transaction publishes
        // two session events with the same report.
        let replaced = app
            .ok(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { __typename } }",
                json!({ "input": { "slice": "acme", "username": "ada", "password": PASSWORD, "endSessionIds": [second_session] } }),
            )
            .await;
        assert_eq!(replaced["login"]["__typename"], "LoginSuccess", "{replaced}");
        let after_replace = next_report(&mut usage).await;
        assert!(version(&after_replace) > version(&initial), "{after_replace}");

        let carl = app.login(Some("acme"), "carl", PASSWORD).await;
        let after_carl = next_report(&mut usage).await;
        assert!(version(&after_carl) > version(&after_replace), "the replacing login was sent once: {after_carl}");
        assert_eq!(after_carl["concurrent"]["inUse"], 1);
        app.ok(Some(&carl), "mutation { logout }", json!({})).await;
    }
}

db_test! {
    async fn compliance_events_reach_subscriber(app) {
        let setup = setup(&app).await;
        let mut events = subscribe_events(&app, &setup.admin, &setup.slice_id()).await;

        // Session events and other slices' compliance events are not sent.
        app.login(Some("acme"), "carl", PASSWORD).await;
        let foreign = insert(&app, event(setup.other_slice, ComplianceEventKind::OverLimit, app.now())).await;
        app.state.events.publish(vec![Event::Compliance(foreign)]);

        let recorded = insert(
            &app,
            compliance_event::Model {
                level: Some(entity::UsageLevel::AtLimit),
                in_use: Some(10),
                ..event(setup.slice, ComplianceEventKind::LimitReached, app.now())
            },
        )
        .await;
        app.state.events.publish(vec![Event::Compliance(recorded.clone())]);

        let message = next(&mut events).await.expect("a complianceEvents message");
        let node = &message["data"]["complianceEvents"];
        assert_eq!(node["id"], recorded.id.to_string(), "{message}");
        assert_eq!(node["slice"]["name"], "acme");
        assert_eq!(node["kind"], "LIMIT_REACHED");
        assert_eq!(node["level"], "AT_LIMIT");
        assert_eq!(node["inUse"], 10);
        assert_eq!(node["message"], recorded.message);
        assert_eq!(node["emailStatus"], "NOT_REQUIRED");
    }
}

db_test! {
    async fn subscriptions_require_administration(app) {
        let setup = setup(&app).await;
        let member = app.login(Some("acme"), "carl", PASSWORD).await;
        let foreign_admin = app.login(Some("globex"), "gus", PASSWORD).await;

        for (who, token, expected) in [("member", &member, "FORBIDDEN"), ("other slice's administrator", &foreign_admin, "NOT_FOUND")] {
            let mut usage = subscribe_usage(&app, token, &setup.slice_id()).await;
            let answer = next(&mut usage).await.expect("an error payload");
            assert_eq!(answer["errors"][0]["extensions"]["code"], expected, "licenseUsage, {who}: {answer}");

            let mut events = subscribe_events(&app, token, &setup.slice_id()).await;
            let answer = next(&mut events).await.expect("an error payload");
            assert_eq!(answer["errors"][0]["extensions"]["code"], expected, "complianceEvents, {who}: {answer}");
        }

        let mut usage = subscribe_usage(&app, &setup.operator, &setup.slice_id()).await;
        assert_eq!(next_report(&mut usage).await["sliceId"], setup.slice_id(), "operators receive licenseUsage");

        let mut events = subscribe_events(&app, &setup.operator, &setup.slice_id()).await;
        let recorded = insert(&app, event(setup.slice, ComplianceEventKind::OverLimit, app.now())).await;
        app.state.events.publish(vec![Event::Compliance(recorded.clone())]);
        let message = next(&mut events).await.expect("a complianceEvents message");
        assert_eq!(message["data"]["complianceEvents"]["id"], recorded.id.to_string(), "operators receive complianceEvents");
    }
}

db_test! {
    async fn subscriptions_end_with_session(app) {
        let setup = setup(&app).await;
        let mut usage = subscribe_usage(&app, &setup.admin, &setup.slice_id()).await;
        next_report(&mut usage).await;
        let mut events = subscribe_events(&app, &setup.admin, &setup.slice_id()).await;

        app.ok(Some(&setup.admin), "mutation { logout }", json!({})).await;
        assert!(next(&mut usage).await.is_none(), "licenseUsage completes when the subscriber's session ends");
        assert!(next(&mut events).await.is_none(), "complianceEvents completes when the subscriber's session ends");
    }
}
