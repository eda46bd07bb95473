//! The rollout schedule and the modes it gives production slices.

use chrono::{DateTime, Duration, Utc};
use entity::{ComplianceEventKind, compliance_event};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, test_start},
};

const SET: &str = "mutation($v: DateTime, $w: DateTime!, $e: DateTime!) { setRolloutSchedule(visibleAt: $v, warnAt: $w, enforceAt: $e) { phase effectiveAt appliedAt } }";

async fn operator(app: &TestApp) -> String {
    app.operator("root").await;
    app.login_on(None, "root", PASSWORD, "API").await
}

fn hours(n: i64) -> DateTime<Utc> {
    test_start() + Duration::hours(n)
}

async fn set_schedule(app: &TestApp, operator: &str, visible: i64, warn: i64, enforce: i64) -> Value {
    let variables = json!({ "v": hours(visible).to_rfc3339(), "w": hours(warn).to_rfc3339(), "e": hours(enforce).to_rfc3339() });
    app.ok(Some(operator), SET, variables).await["setRolloutSchedule"].clone()
}

async fn create(app: &TestApp, operator: &str, name: &str, kind: &str) -> String {
    let input = json!({ "name": name, "displayName": name, "kind": kind, "edition": "SERVICE_MANAGEMENT" });
    app.create_slice(operator, input).await
}

async fn mode_of(app: &TestApp, operator: &str, slice: &str) -> String {
    let data = app.ok(Some(operator), "query($id: ID!) { slice(id: $id) { enforcementMode } }", json!({ "id": slice })).await;
    data["slice"]["enforcementMode"].as_str().unwrap().to_owned()
}

async fn apply(app: &TestApp) -> seatwarden::rollout::RolloutReport {
    let state = &app.state;
    seatwarden::rollout::apply(&state.db, state.clock.as_ref(), &state.events, &state.config).await.unwrap()
}

async fn mode_changes(app: &TestApp, slice: &str) -> u64 {
    compliance_event::Entity::find()
        .filter(compliance_event::Column::SliceId.eq(uuid::Uuid::parse_str(slice).unwrap()))
        .filter(compliance_event::Column::Kind.eq(ComplianceEventKind::ModeChanged))
        .count(&app.state.db)
        .await
        .unwrap()
}

db_test! {
    async fn production_follows_the_steps(app) {
        let operator = operator(&app).await;
        let production = create(&app, &operator, "prod", "PRODUCTION").await;
        let staging = create(&app, &operator, "stage", "STAGING").await;
        let pinned = create(&app, &operator, "pinned", "PRODUCTION").await;
        app.ok(Some(&operator), "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: OFF}) { id } }", json!({ "id": pinned })).await;
        let steps = set_schedule(&app, &operator, 1, 2, 3).await;
        assert_eq!(steps[0]["phase"], "VISIBLE");
        assert!(steps[0]["appliedAt"].is_null(), "a future step is not applied");
        assert_eq!(mode_of(&app, &operator, &production).await, "OFF");

        app.clock.advance(Duration::hours(2));
        let report = apply(&app).await;
        assert_eq!(report.changed_slices, 1);
        assert_eq!(mode_of(&app, &operator, &production).await, "WARN");
        assert_eq!(mode_of(&app, &operator, &staging).await, "OFF", "staging slices stay");
        assert_eq!(mode_of(&app, &operator, &pinned).await, "OFF", "pinned slices stay");

        app.clock.advance(Duration::hours(1));
        apply(&app).await;
        assert_eq!(mode_of(&app, &operator, &production).await, "ENFORCE");
        let again = apply(&app).await;
        assert_eq!(again.changed_slices, 0, "a second run changes nothing");
        assert_eq!(mode_changes(&app, &production).await, 2, "each change is recorded once");

        let schedule = app.ok(Some(&operator), "{ rolloutSchedule { phase effectiveAt appliedAt } }", json!({})).await;
        for step in schedule["rolloutSchedule"].as_array().unwrap() {
            assert!(step["appliedAt"].is_string(), "{step}");
        }
        let events = app
            .ok(Some(&operator), "query($s: ID!) { complianceEvents(sliceId: $s, filter: {kinds: [MODE_CHANGED]}) { edges { node { fromMode toMode actor { id } } } } }", json!({ "s": production }))
            .await;
        let latest = &events["complianceEvents"]["edges"][0]["node"];
        assert_eq!(latest["fromMode"], "WARN");
        assert_eq!(latest["toMode"], "ENFORCE");
        assert!(latest["actor"].is_null(), "the rollout acts for itself");
    }
}

db_test! {
    async fn new_and_unpinned_slices_get_the_phase(app) {
        let operator = operator(&app).await;
        set_schedule(&app, &operator, -3, -2, 5).await;
        let created = create(&app, &operator, "fresh", "PRODUCTION").await;
        assert_eq!(mode_of(&app, &operator, &created).await, "WARN", "a new slice gets the phase's mode at once");
        let staging = create(&app, &operator, "fresh-stage", "STAGING").await;
        assert_eq!(mode_of(&app, &operator, &staging).await, "OFF");

        app.ok(Some(&operator), "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: ENFORCE}) { modePinned } }", json!({ "id": created })).await;
        let unpinned = app
            .ok(Some(&operator), "mutation($id: ID!) { updateSlice(id: $id, input: {unpinMode: true}) { enforcementMode modePinned } }", json!({ "id": created }))
            .await;
        assert_eq!(unpinned["updateSlice"]["enforcementMode"], "WARN", "unpinning applies the phase at once");
        assert_eq!(unpinned["updateSlice"]["modePinned"], false);
    }
}

db_test! {
    async fn moving_the_schedule_back_returns_to_warn(app) {
        let operator = operator(&app).await;
        set_schedule(&app, &operator, -3, -2, -1).await;
        let slice = create(&app, &operator, "prod", "PRODUCTION").await;
        assert_eq!(mode_of(&app, &operator, &slice).await, "ENFORCE");
        set_schedule(&app, &operator, -3, -2, 10).await;
        assert_eq!(mode_of(&app, &operator, &slice).await, "WARN", "setRolloutSchedule applies at once");
        let schedule = app.ok(Some(&operator), "{ rolloutSchedule { phase appliedAt } }", json!({})).await;
        let enforce = &schedule["rolloutSchedule"][2];
        assert_eq!(enforce["phase"], "ENFORCE");
        assert!(enforce["appliedAt"].is_null(), "the moved step is not applied yet");
    }
}

db_test! {
    async fn schedule_needs_order_and_operator(app) {
        let operator = operator(&app).await;
        let variables = json!({ "v": hours(1).to_rfc3339(), "w": hours(5).to_rfc3339(), "e": hours(4).to_rfc3339() });
        let error = app.error(Some(&operator), SET, variables).await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
        assert_eq!(error["extensions"]["field"], "warnAt", "{error}");
        let variables = json!({ "v": hours(6).to_rfc3339(), "w": hours(5).to_rfc3339(), "e": hours(7).to_rfc3339() });
        let error = app.error(Some(&operator), SET, variables).await;
        assert_eq!(error["extensions"]["field"], "visibleAt");

        let slice = create(&app, &operator, "prod", "PRODUCTION").await;
        app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
        let admin = app.login(Some("prod"), "ada", PASSWORD).await;
        let variables = json!({ "w": hours(1).to_rfc3339(), "e": hours(2).to_rfc3339() });
        let error = app.error(Some(&admin), SET, variables).await;
        assert_eq!(code(&error), "FORBIDDEN");
        let schedule = app.ok(Some(&admin), "{ rolloutSchedule { phase } }", json!({})).await;
        assert_eq!(schedule["rolloutSchedule"].as_array().unwrap().len(), 3, "administrators may read the schedule");
        let error = app.error(None, "{ rolloutSchedule { phase } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");
    }
}

db_test! {
    async fn steps_due_while_stopped_apply_at_start(app) {
        let operator = operator(&app).await;
        let slice = create(&app, &operator, "prod", "PRODUCTION").await;
        set_schedule(&app, &operator, 1, 2, 30).await;
        assert_eq!(mode_of(&app, &operator, &slice).await, "OFF");

        let config = app.state.config.as_ref().clone();
        let dir = app.stop();
        let restarted = TestApp::start_on(config, dir, hours(3)).await;
        let operator = restarted.login_on(None, "root", PASSWORD, "API").await;
        assert_eq!(mode_of(&restarted, &operator, &slice).await, "WARN", "the WARN step that fell due while stopped applied at start");
    }
}
