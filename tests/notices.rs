//! Renewal reminders and the unused-license digest.
//!
//! The tests call the notice functions directly with a moved clock and read
//! the emails they wrote to the outbox. Each test has its own database, so
//! every outbox row a test reads was queued by that test.

use chrono::{Duration, NaiveDate};
use entity::{notice_sent, outbox_email, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use seatwarden::notices::{self, NoticeReport, RENEWAL_REMINDER, UNUSED_DIGEST};
use serde_json::json;
use uuid::Uuid;

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, slice_input},
    mail::unique_recipient,
};

/// Words in the subject of every renewal reminder.
const RENEWAL_SUBJECT: &str = "Licenses renew on";
/// Words in the subject of every unused-license digest.
const DIGEST_SUBJECT: &str = "not logged in for";

struct Setup {
    operator: String,
    slice: String,
    /// The administrator's address.
    admin_email: String,
}

/// Returns the UTC date `days` days after the test clock's date.
fn day(app: &TestApp, days: i64) -> NaiveDate {
    app.now().date_naive() + Duration::days(days)
}

/// Creates a production slice named `name` with the given renewal date, and
/// an active administrator holding a SELF_SERVICE license when `with_admin`.
async fn setup(app: &TestApp, name: &str, renewal_date: Option<NaiveDate>, with_admin: bool) -> Setup {
    app.operator("root").await;
    let operator = app.login_on(None, "root", PASSWORD, "API").await;
    let mut input = slice_input(name);
    input["renewalDate"] = json!(renewal_date.map(|date| date.to_string()));
    let slice = app.create_slice(&operator, input).await;
    let admin_email = unique_recipient("admin");
    if with_admin {
        create_admin(app, &operator, &slice, "ada", &admin_email).await;
    }
    Setup { operator, slice, admin_email }
}

async fn create_admin(app: &TestApp, operator: &str, slice: &str, username: &str, email: &str) -> String {
    let data = app
        .ok(
            Some(operator),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({ "input": {
                "sliceId": slice, "username": username, "email": email, "displayName": "Ada Admin",
                "password": PASSWORD, "licenseType": "SELF_SERVICE", "role": "ADMIN"
            } }),
        )
        .await;
    data["createUser"]["id"].as_str().unwrap().to_owned()
}

async fn set_renewal_date(app: &TestApp, setup: &Setup, date: NaiveDate) {
    app.ok(
        Some(&setup.operator),
        "mutation($id: ID!, $date: Date) { updateSlice(id: $id, input: {renewalDate: $date}) { id } }",
        json!({ "id": setup.slice, "date": date.to_string() }),
    )
    .await;
}

async fn set_active(app: &TestApp, setup: &Setup, user_id: &str, active: bool) {
    app.ok(
        Some(&setup.operator),
        "mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { id } }",
        json!({ "id": user_id, "active": active }),
    )
    .await;
}

async fn remind(app: &TestApp) -> NoticeReport {
    notices::send_renewal_reminders(&app.state.db, app.clock.as_ref(), &app.state.config).await.unwrap()
}

async fn digest(app: &TestApp) -> NoticeReport {
    notices::send_unused_digests(&app.state.db, app.clock.as_ref(), &app.state.config).await.unwrap()
}

/// Returns the outbox emails whose subject contains `words`, oldest first.
async fn emails(app: &TestApp, words: &str) -> Vec<outbox_email::Model> {
    outbox_email::Entity::find()
        .order_by_asc(outbox_email::Column::CreatedAt)
        .order_by_asc(outbox_email::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|email| email.subject.contains(words))
        .collect()
}

async fn subjects(app: &TestApp, words: &str) -> Vec<String> {
    emails(app, words).await.into_iter().map(|email| email.subject).collect()
}

/// Returns the keys recorded in `notices_sent` for `kind`, sorted.
async fn notice_keys(app: &TestApp, kind: &str) -> Vec<String> {
    let mut keys: Vec<String> = notice_sent::Entity::find()
        .filter(notice_sent::Column::Kind.eq(kind))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.key)
        .collect();
    keys.sort();
    keys
}

/// Moves the clock until `days_left` days remain until `renewal`, and runs the job twice.
async fn remind_twice_at(app: &TestApp, renewal: NaiveDate, days_left: i64) -> (NoticeReport, NoticeReport) {
    let target = renewal - Duration::days(days_left);
    app.clock.advance(Duration::days((target - app.now().date_naive()).num_days()));
    (remind(app).await, remind(app).await)
}

db_test! {
    async fn renewal_each_threshold_once(app) {
        let renewal = day(&app, 90);
        let setup = setup(&app, "acme", Some(renewal), true).await;

        let (first, second) = remind_twice_at(&app, renewal, 61).await;
        assert_eq!(first.emails_queued, 0, "{first:?}");
        assert_eq!(second.emails_queued, 0, "{second:?}");

        let mut expected = Vec::new();
        for (days_left, silent_after) in [(60, 31), (30, 8), (7, 0)] {
            let (first, second) = remind_twice_at(&app, renewal, days_left).await;
            assert_eq!(first.emails_queued, 1, "first run at {days_left} days left: {first:?}");
            assert_eq!(second.emails_queued, 0, "second run at {days_left} days left: {second:?}");
            expected.push(format!("[acme] Licenses renew on {renewal}, in {days_left} days"));
            assert_eq!(subjects(&app, RENEWAL_SUBJECT).await, expected);

            let (first, second) = remind_twice_at(&app, renewal, silent_after).await;
            assert_eq!(first.emails_queued + second.emails_queued, 0, "at {silent_after} days left: {first:?} {second:?}");
            assert_eq!(subjects(&app, RENEWAL_SUBJECT).await, expected);
        }
        assert_eq!(
            notice_keys(&app, RENEWAL_REMINDER).await,
            [format!("{renewal}/30"), format!("{renewal}/60"), format!("{renewal}/7")]
        );

        let sent = emails(&app, RENEWAL_SUBJECT).await;
        let recipients: Vec<String> = serde_json::from_str(&sent[0].to_addresses).unwrap();
        assert_eq!(recipients, std::slice::from_ref(&setup.admin_email));
        let text = &sent[2].text_body;
        assert!(text.contains("The licenses of acme display (acme) renew on"), "{text}");
        assert!(text.contains(&format!("{renewal} (UTC), in 7 days")), "{text}");
        assert!(text.contains("NAMED licenses: 10 owned, 0 in use."), "{text}");
        assert!(text.contains("CONCURRENT licenses: 5 owned, 0 in use now."), "{text}");
        assert!(text.contains("/graphiql"), "{text}");
    }
}

db_test! {
    async fn renewal_counts_usage(app) {
        let renewal = day(&app, 30);
        let setup = setup(&app, "acme", Some(renewal), true).await;
        app.create_user(&setup.operator, &setup.slice, "nina", "NAMED", "MEMBER").await;
        app.create_user(&setup.operator, &setup.slice, "carl", "CONCURRENT", "MEMBER").await;
        app.login(Some("acme"), "carl", PASSWORD).await;

        assert_eq!(remind(&app).await.emails_queued, 1);
        let text = &emails(&app, RENEWAL_SUBJECT).await[0].text_body;
        assert!(text.contains("NAMED licenses: 10 owned, 1 in use."), "{text}");
        assert!(text.contains("CONCURRENT licenses: 5 owned, 1 in use now."), "{text}");
    }
}

db_test! {
    async fn renewal_late_run_sends_most_urgent(app) {
        let renewal = day(&app, 5);
        setup(&app, "acme", Some(renewal), true).await;

        let report = remind(&app).await;
        assert_eq!(report.emails_queued, 1, "{report:?}");
        assert_eq!(report.notices_passed, 2, "{report:?}");
        assert_eq!(subjects(&app, RENEWAL_SUBJECT).await, [format!("[acme] Licenses renew on {renewal}, in 5 days")]);
        assert_eq!(
            notice_keys(&app, RENEWAL_REMINDER).await,
            [format!("{renewal}/30"), format!("{renewal}/60"), format!("{renewal}/7")]
        );

        app.clock.advance(Duration::days(3));
        assert_eq!(remind(&app).await.emails_queued, 0);
        app.clock.advance(Duration::days(2));
        assert_eq!(remind(&app).await.emails_queued, 0, "nothing on the renewal date once the 7-day reminder is sent");
        assert_eq!(emails(&app, RENEWAL_SUBJECT).await.len(), 1);
    }
}

db_test! {
    async fn renewal_late_run_between_thresholds(app) {
        let renewal = day(&app, 20);
        setup(&app, "acme", Some(renewal), true).await;

        let report = remind(&app).await;
        assert_eq!(report.emails_queued, 1, "{report:?}");
        assert_eq!(report.notices_passed, 1, "{report:?}");
        assert_eq!(subjects(&app, RENEWAL_SUBJECT).await, [format!("[acme] Licenses renew on {renewal}, in 20 days")]);
        assert_eq!(notice_keys(&app, RENEWAL_REMINDER).await, [format!("{renewal}/30"), format!("{renewal}/60")]);
    }
}

db_test! {
    async fn renewal_changed_date_reminds_again(app) {
        let first_date = day(&app, 7);
        let setup = setup(&app, "acme", Some(first_date), true).await;
        assert_eq!(remind(&app).await.emails_queued, 1);

        let second_date = day(&app, 60);
        set_renewal_date(&app, &setup, second_date).await;
        assert_eq!(remind(&app).await.emails_queued, 1);
        assert_eq!(remind(&app).await.emails_queued, 0);
        app.clock.advance(Duration::days(30));
        assert_eq!(remind(&app).await.emails_queued, 1);

        assert_eq!(
            subjects(&app, RENEWAL_SUBJECT).await,
            [
                format!("[acme] Licenses renew on {first_date}, in 7 days"),
                format!("[acme] Licenses renew on {second_date}, in 60 days"),
                format!("[acme] Licenses renew on {second_date}, in 30 days"),
            ]
        );
    }
}

db_test! {
    async fn renewal_without_admin(app) {
        let renewal = day(&app, 7);
        let setup = setup(&app, "acme", Some(renewal), false).await;
        app.create_user(&setup.operator, &setup.slice, "nina", "NAMED", "MEMBER").await;
        let inactive = create_admin(&app, &setup.operator, &setup.slice, "old-admin", &unique_recipient("old")).await;
        set_active(&app, &setup, &inactive, false).await;

        let report = remind(&app).await;
        assert_eq!(report.emails_queued, 0, "{report:?}");
        assert_eq!(report.slices_without_admins, 1, "{report:?}");
        assert!(emails(&app, RENEWAL_SUBJECT).await.is_empty());
        assert!(notice_keys(&app, RENEWAL_REMINDER).await.is_empty(), "nothing is recorded without an administrator");

        // Nothing was recorded, so an administrator added later still gets the reminder.
        create_admin(&app, &setup.operator, &setup.slice, "ada", &setup.admin_email).await;
        assert_eq!(remind(&app).await.emails_queued, 1);
    }
}

db_test! {
    async fn renewal_outside_window(app) {
        let past = setup(&app, "past", Some(day(&app, -1)), true).await;
        let far = app.create_slice(&past.operator, json!({ "name": "far", "displayName": "Far", "kind": "PRODUCTION",
            "edition": "SERVICE_MANAGEMENT", "renewalDate": day(&app, 61).to_string() })).await;
        create_admin(&app, &past.operator, &far, "ada", &unique_recipient("far")).await;
        let none = app.create_slice(&past.operator, json!({ "name": "none", "displayName": "None", "kind": "PRODUCTION",
            "edition": "SERVICE_MANAGEMENT" })).await;
        create_admin(&app, &past.operator, &none, "ada", &unique_recipient("none")).await;

        let report = remind(&app).await;
        assert_eq!(report.slices_checked, 0, "{report:?}");
        assert_eq!(report.emails_queued, 0, "{report:?}");
        assert!(emails(&app, RENEWAL_SUBJECT).await.is_empty());
        assert!(notice_keys(&app, RENEWAL_REMINDER).await.is_empty());
    }
}

db_test! {
    async fn concurrent_runs_send_once(app) {
        let renewal = day(&app, 7);
        let setup = setup(&app, "acme", Some(renewal), true).await;
        app.create_user(&setup.operator, &setup.slice, "nina", "NAMED", "MEMBER").await;

        let (first, second) = tokio::join!(remind(&app), remind(&app));
        assert_eq!(first.emails_queued + second.emails_queued, 1, "{first:?} {second:?}");
        assert_eq!(first.errors + second.errors, 0, "{first:?} {second:?}");
        assert_eq!(emails(&app, RENEWAL_SUBJECT).await.len(), 1);

        let (first, second) = tokio::join!(digest(&app), digest(&app));
        assert_eq!(first.emails_queued + second.emails_queued, 1, "{first:?} {second:?}");
        assert_eq!(first.errors + second.errors, 0, "{first:?} {second:?}");
        assert_eq!(emails(&app, DIGEST_SUBJECT).await.len(), 1);
    }
}

/// Returns the usernames that the API's `users` query lists for the digest's
/// filter at the clock's instant, in the digest's order.
async fn unused_by_api(app: &TestApp, setup: &Setup) -> Vec<String> {
    let before = app.now() - Duration::from_std(app.state.config.unused_license_after).unwrap();
    let data = app
        .ok(
            Some(&setup.operator),
            "query($slice: ID!, $before: DateTime!) {
                users(sliceId: $slice, filter: {licenseTypes: [NAMED], active: true, lastLoginBefore: $before},
                      orderBy: {field: LAST_LOGIN_AT, direction: ASC}, first: 100) {
                    totalCount edges { node { username } }
                }
            }",
            json!({ "slice": setup.slice, "before": before.to_rfc3339() }),
        )
        .await;
    let users = &data["users"];
    let usernames: Vec<String> =
        users["edges"].as_array().unwrap().iter().map(|edge| edge["node"]["username"].as_str().unwrap().to_owned()).collect();
    assert_eq!(users["totalCount"], json!(usernames.len()));
    usernames
}

/// Returns the usernames of the user lines of a digest's text part, in order.
fn listed_usernames(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.ends_with("never logged in") || line.contains("): last login "))
        .filter_map(|line| line.split_once(" (").and_then(|(_, rest)| rest.split_once(", ")).map(|(name, _)| name.to_owned()))
        .collect()
}

db_test! {
    async fn digest_matches_users_query(app) {
        let setup = setup(&app, "acme", None, true).await;
        for username in ["never", "old", "recent"] {
            app.create_user(&setup.operator, &setup.slice, username, "NAMED", "MEMBER").await;
        }
        let inactive = app.create_user(&setup.operator, &setup.slice, "inactive", "NAMED", "MEMBER").await;
        app.create_user(&setup.operator, &setup.slice, "carl", "CONCURRENT", "MEMBER").await;
        app.create_user(&setup.operator, &setup.slice, "sam", "SELF_SERVICE", "MEMBER").await;
        let inactive_admin = create_admin(&app, &setup.operator, &setup.slice, "gone", &unique_recipient("gone")).await;
        set_active(&app, &setup, &inactive, false).await;
        set_active(&app, &setup, &inactive_admin, false).await;

        let old_login_day = app.now().date_naive();
        app.login(Some("acme"), "old", PASSWORD).await;
        app.clock.advance(Duration::days(38));
        app.login(Some("acme"), "recent", PASSWORD).await;
        app.clock.advance(Duration::days(2));

        let expected = unused_by_api(&app, &setup).await;
        assert_eq!(expected, ["never", "old"], "the users query's answer for the digest's filter");

        let report = digest(&app).await;
        assert_eq!(report.emails_queued, 1, "{report:?}");
        let sent = emails(&app, DIGEST_SUBJECT).await;
        assert_eq!(sent.len(), 1);
        let email = &sent[0];
        assert_eq!(email.subject, "[acme] 2 NAMED users have not logged in for 30 days");
        let recipients: Vec<String> = serde_json::from_str(&email.to_addresses).unwrap();
        assert_eq!(recipients, std::slice::from_ref(&setup.admin_email));

        let text = &email.text_body;
        assert_eq!(listed_usernames(text), expected);
        assert!(text.contains("never (never, never@customer.example): never logged in"), "{text}");
        assert!(text.contains(&format!("old (old, old@customer.example): last login {old_login_day}")), "{text}");
        for absent in ["recent", "inactive", "carl", "sam", "gone", "ada"] {
            assert!(!text.contains(&format!("({absent}, ")), "{absent} is listed: {text}");
        }
        let cutoff = (app.now() - Duration::days(30)).format("%Y-%m-%d %H:%M");
        let summary = format!("In acme display (acme), 2 active NAMED users have not logged in since {cutoff} UTC (30 days ago)");
        assert!(text.contains(&summary), "{text}");
        assert!(text.contains("/graphiql"), "{text}");
        assert!(!text.contains("more users are not listed"), "{text}");
        assert_eq!(notice_keys(&app, UNUSED_DIGEST).await, [app.now().format("%Y-%m-%d").to_string()]);
    }
}

db_test! {
    async fn digest_nothing_when_none_qualify(app) {
        let setup = setup(&app, "acme", None, true).await;
        app.create_user(&setup.operator, &setup.slice, "nina", "NAMED", "MEMBER").await;
        app.create_user(&setup.operator, &setup.slice, "carl", "CONCURRENT", "MEMBER").await;
        app.clock.advance(Duration::days(40));
        app.login(Some("acme"), "nina", PASSWORD).await;

        assert!(unused_by_api(&app, &setup).await.is_empty());
        let report = digest(&app).await;
        assert_eq!(report.emails_queued, 0, "{report:?}");
        assert_eq!(report.errors, 0, "{report:?}");
        assert!(emails(&app, DIGEST_SUBJECT).await.is_empty());
        assert!(notice_keys(&app, UNUSED_DIGEST).await.is_empty());
    }
}

db_test! {
    async fn digest_once_per_day(app) {
        let setup = setup(&app, "acme", None, true).await;
        app.create_user(&setup.operator, &setup.slice, "nina", "NAMED", "MEMBER").await;

        assert_eq!(digest(&app).await.emails_queued, 1);
        app.clock.advance(Duration::hours(2));
        assert_eq!(digest(&app).await.emails_queued, 0, "a second run on the same UTC day");
        app.clock.advance(Duration::days(7));
        assert_eq!(digest(&app).await.emails_queued, 1, "a run a week later");
        assert_eq!(emails(&app, DIGEST_SUBJECT).await.len(), 2);
        assert_eq!(notice_keys(&app, UNUSED_DIGEST).await.len(), 2);
    }
}

db_test! {
    async fn digest_without_admin(app) {
        let setup = setup(&app, "acme", None, false).await;
        app.create_user(&setup.operator, &setup.slice, "nina", "NAMED", "MEMBER").await;

        let report = digest(&app).await;
        assert_eq!(report.emails_queued, 0, "{report:?}");
        assert_eq!(report.slices_without_admins, 1, "{report:?}");
        assert!(notice_keys(&app, UNUSED_DIGEST).await.is_empty());
    }
}

db_test! {
    async fn digest_caps_listed_users(app) {
        let setup = setup(&app, "acme", None, true).await;
        let slice_id = Uuid::parse_str(&setup.slice).unwrap();
        let now = app.now();
        // Inserted directly: creating 205 users through the API only repeats its NAMED check.
        for index in 0..205 {
            let username = format!("user{index:03}");
            user::ActiveModel {
                id: Set(Uuid::now_v7()),
                slice_id: Set(Some(slice_id)),
                username_key: Set(username.clone()),
                email: Set(format!("{username}@customer.example")),
                display_name: Set(username.clone()),
                username: Set(username),
                license_type: Set(Some(entity::LicenseType::Named)),
                role: Set(entity::Role::Member),
                active: Set(true),
                password_hash: Set("not a usable hash".to_owned()),
                last_login_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&app.state.db)
            .await
            .unwrap();
        }

        assert_eq!(digest(&app).await.emails_queued, 1);
        let email = &emails(&app, DIGEST_SUBJECT).await[0];
        assert_eq!(email.subject, "[acme] 205 NAMED users have not logged in for 30 days");
        let listed = listed_usernames(&email.text_body);
        assert_eq!(listed.len(), notices::MAX_LISTED_USERS as usize);
        assert!(email.text_body.contains("5 more users are not listed here"), "{}", email.text_body);
    }
}
