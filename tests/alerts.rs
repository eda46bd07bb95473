//! Alert emails for level events and mode changes, delivered to a real SMTP server.

use chrono::Duration;
use entity::{ComplianceEventKind, EmailStatus, compliance_event};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::{
    db_test,
    harness::{PASSWORD, TestApp},
    mail::{maildir_messages, smtp_mailer, smtp_server, unique_recipient},
};

struct Setup {
    operator: String,
    slice: String,
    /// The administrator's address, unique to the test, which tags its emails.
    admin_email: String,
}

/// A production slice with `owned` CONCURRENT seats, an administrator with a
/// unique address, `users` CONCURRENT members, in `mode`.
async fn setup(app: &TestApp, name: &str, owned: i64, users: usize, mode: &str) -> Setup {
    app.operator("root").await;
    let operator = app.login_on(None, "root", PASSWORD, "API").await;
    let input = json!({ "name": name, "displayName": name, "kind": "PRODUCTION", "edition": "SERVICE_MANAGEMENT", "ownedConcurrentLicenses": owned });
    let slice = app.create_slice(&operator, input).await;
    let admin_email = unique_recipient("admin");
    app.ok(
        Some(&operator),
        "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
        json!({ "input": { "sliceId": slice, "username": "ada", "email": admin_email, "displayName": "Ada", "password": PASSWORD, "licenseType": "SELF_SERVICE", "role": "ADMIN" } }),
    )
    .await;
    for index in 0..users {
        app.create_user(&operator, &slice, &format!("c{index}"), "CONCURRENT", "MEMBER").await;
    }
    app.ok(
        Some(&operator),
        "mutation($id: ID!, $mode: EnforcementMode!) { updateSlice(id: $id, input: {enforcementMode: $mode}) { id } }",
        json!({ "id": slice, "mode": mode }),
    )
    .await;
    Setup { operator, slice, admin_email }
}

async fn login(app: &TestApp, slice: &str, username: &str) -> String {
    let input = json!({ "slice": slice, "username": username, "password": PASSWORD, "channel": "WEB" });
    let data = app.ok(None, "mutation($i: LoginInput!) { login(input: $i) { ... on LoginSuccess { token } } }", json!({ "i": input })).await;
    data["login"]["token"].as_str().unwrap_or_default().to_owned()
}

/// Delivers the outbox and returns the subjects the administrator received so far.
async fn delivered_subjects(app: &TestApp, setup: &Setup, url: &str, maildir: &std::path::Path) -> Vec<String> {
    let mailer = smtp_mailer(app, url);
    seatwarden::mail::dispatch_pending(&app.state.db, app.clock.as_ref(), &mailer).await.unwrap();
    let mut subjects: Vec<String> =
        maildir_messages(maildir, &setup.admin_email).iter().map(|email| email.header("Subject").to_owned()).collect();
    subjects.sort();
    subjects
}

fn count(subjects: &[String], words: &str) -> usize {
    subjects.iter().filter(|subject| subject.contains(words)).count()
}

db_test! {
    async fn enforce_alerts_approaching_and_limit(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let setup = setup(&app, "alerts", 5, 5, "ENFORCE").await;
        for index in 0..4 {
            login(&app, "alerts", &format!("c{index}")).await;
        }
        let subjects = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&subjects, "mode changed from OFF to ENFORCE"), 1, "{subjects:?}");
        assert_eq!(count(&subjects, "CONCURRENT licenses approaching the limit: 4 in use of 5 owned"), 1, "{subjects:?}");

        let last = login(&app, "alerts", "c4").await;
        let subjects = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&subjects, "CONCURRENT licenses at the limit: 5 in use of 5 owned"), 1, "{subjects:?}");

        // Hovering at the limit sends nothing more the same UTC day.
        let mut token = last;
        for _ in 0..20 {
            app.ok(Some(&token), "mutation { logout }", json!({})).await;
            token = login(&app, "alerts", "c4").await;
        }
        let subjects_after = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(subjects_after.len(), subjects.len(), "{subjects_after:?}");

        // Every emailed event is SENT, with the counts its email shows.
        let events = compliance_event::Entity::find()
            .filter(compliance_event::Column::SliceId.eq(uuid::Uuid::parse_str(&setup.slice).unwrap()))
            .filter(compliance_event::Column::Kind.is_in([ComplianceEventKind::ApproachingLimit, ComplianceEventKind::LimitReached]))
            .order_by_asc(compliance_event::Column::OccurredAt)
            .all(&app.state.db)
            .await
            .unwrap();
        assert_eq!(events.len(), 2);
        for event in &events {
            assert_eq!(event.email_status, EmailStatus::Sent, "{event:?}");
            let words = format!("{} in use of {} owned", event.in_use.unwrap(), event.owned.unwrap());
            assert_eq!(count(&subjects_after, &words), 1, "the email carries the event's counts: {words}");
        }

        // The next UTC day, a rise after a fall below the level is emailed again.
        app.clock.advance(Duration::days(1));
        for index in 0..5 {
            login(&app, "alerts", &format!("c{index}")).await;
        }
        let next_day = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&next_day, "at the limit: 5 in use of 5 owned"), 2, "{next_day:?}");
    }
}

db_test! {
    async fn warn_alerts_only_over(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let setup = setup(&app, "warned", 1, 2, "WARN").await;
        login(&app, "warned", "c0").await;
        let subjects = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&subjects, "at the limit"), 0, "WARN does not email reaching the limit: {subjects:?}");
        login(&app, "warned", "c1").await;
        let subjects = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&subjects, "CONCURRENT licenses over the limit: 2 in use of 1 owned"), 1, "{subjects:?}");
    }
}

db_test! {
    async fn rollout_mode_change_is_emailed_once(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        let setup = setup(&app, "rolled", 5, 0, "WARN").await;
        app.ok(Some(&setup.operator), "mutation($id: ID!) { updateSlice(id: $id, input: {unpinMode: true}) { enforcementMode } }", json!({ "id": setup.slice }))
            .await;
        let now = app.now();
        app.ok(
            Some(&setup.operator),
            "mutation($v: DateTime, $w: DateTime!, $e: DateTime!) { setRolloutSchedule(visibleAt: $v, warnAt: $w, enforceAt: $e) { phase } }",
            json!({ "v": (now - Duration::hours(2)).to_rfc3339(), "w": (now - Duration::hours(1)).to_rfc3339(), "e": now.to_rfc3339() }),
        )
        .await;
        let state = &app.state;
        for _ in 0..2 {
            seatwarden::rollout::apply(&state.db, state.clock.as_ref(), &state.events, &state.config).await.unwrap();
        }
        let subjects = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&subjects, "mode changed from WARN to OFF"), 1, "unpinning before the schedule exists: {subjects:?}");
        assert_eq!(count(&subjects, "mode changed from OFF to ENFORCE"), 1, "the rollout's change, once: {subjects:?}");
    }
}

db_test! {
    async fn visible_step_emails_staging_admins(app) {
        let Some((url, maildir)) = smtp_server() else { return };
        app.operator("root").await;
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        let input = json!({ "name": "review", "displayName": "Review", "kind": "STAGING", "edition": "SERVICE_MANAGEMENT", "ownedNamedLicenses": 7 });
        let slice = app.create_slice(&operator, input).await;
        let admin_email = unique_recipient("staging-admin");
        app.ok(
            Some(&operator),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({ "input": { "sliceId": slice, "username": "ada", "email": admin_email, "displayName": "Ada", "password": PASSWORD, "licenseType": "NAMED", "role": "ADMIN" } }),
        )
        .await;
        let now = app.now();
        let schedule = "mutation($v: DateTime, $w: DateTime!, $e: DateTime!) { setRolloutSchedule(visibleAt: $v, warnAt: $w, enforceAt: $e) { phase } }";
        app.ok(Some(&operator), schedule, json!({ "v": now.to_rfc3339(), "w": (now + Duration::days(7)).to_rfc3339(), "e": (now + Duration::days(14)).to_rfc3339() }))
            .await;
        let state = &app.state;
        seatwarden::rollout::apply(&state.db, state.clock.as_ref(), &state.events, &state.config).await.unwrap();
        let setup = Setup { operator, slice, admin_email };
        let subjects = delivered_subjects(&app, &setup, &url, &maildir).await;
        assert_eq!(count(&subjects, "[review] Review your owned licenses"), 1, "one review email, however often the job runs: {subjects:?}");
    }
}
