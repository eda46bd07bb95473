//! Usage history, the seat-change log, the Subscription Center and the usage export.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const CENTER: &str = "query($id: ID!, $from: Date!, $to: Date!) { subscriptionCenter(sliceId: $id) { \
    renewalDate daysUntilRenewal licenses { licenseType owned inUse level } \
    usage(from: $from, to: $to) { date namedAssigned concurrentPeak sessionsStarted loginsBlocked loginsWouldBeBlocked } } }";

const CURVE: &str = "query($id: ID!, $date: Date!) { subscriptionCenter(sliceId: $id) { seatCurve(date: $date) { at seatsInUse } } }";

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap()
}

fn date(day: u32) -> String {
    format!("2026-03-{day:02}")
}

/// Web sessions that neither idle out nor reach their lifetime while a test moves the clock by hours.
fn long_sessions(config: &mut seatwarden::config::Config) {
    config.web_idle_timeout = std::time::Duration::from_secs(7 * 24 * 3600);
    config.web_max_lifetime = std::time::Duration::from_secs(14 * 24 * 3600);
}

async fn web_login(app: &TestApp, slice: &str, username: &str) -> Value {
    let input = json!({ "slice": slice, "username": username, "password": PASSWORD, "channel": "WEB" });
    app.ok(None, "mutation($i: LoginInput!) { login(input: $i) { __typename ... on LoginSuccess { token } } }", json!({ "i": input }))
        .await["login"]
        .clone()
}

async fn logout(app: &TestApp, token: &str) {
    app.ok(Some(token), "mutation { logout }", json!({})).await;
}

async fn usage(app: &TestApp, token: &str, slice: &str, from: &str, to: &str) -> Vec<Value> {
    let data = app.ok(Some(token), CENTER, json!({ "id": slice, "from": from, "to": to })).await;
    data["subscriptionCenter"]["usage"].as_array().unwrap().clone()
}

async fn curve(app: &TestApp, token: &str, slice: &str, day: &str) -> Vec<i64> {
    let data = app.ok(Some(token), CURVE, json!({ "id": slice, "date": day })).await;
    data["subscriptionCenter"]["seatCurve"].as_array().unwrap().iter().map(|point| point["seatsInUse"].as_i64().unwrap()).collect()
}

/// Recomputes each day's peak from the seat-change log alone: the highest of
/// the seats in use at the day's start (the last logged count before it) and
/// after each change during it.
async fn brute_force_peaks(app: &TestApp, token: &str, slice: &str, days: std::ops::RangeInclusive<u32>) -> Vec<i64> {
    let mut carried = 0;
    let mut peaks = Vec::new();
    for day in days {
        let changes = curve(app, token, slice, &date(day)).await;
        peaks.push(changes.iter().copied().fold(carried, i64::max));
        carried = changes.last().copied().unwrap_or(carried);
    }
    peaks
}

/// A slice with four CONCURRENT members and one NAMED administrator; returns the operator's token and the slice's id.
async fn concurrent_slice(app: &TestApp, name: &str) -> (String, String) {
    app.operator("root").await;
    // An API session outlives the clock moves of these tests.
    let operator = app.login_on(None, "root", PASSWORD, "API").await;
    let slice = app.create_slice(&operator, slice_input(name)).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    for user in ["c1", "c2", "c3", "c4"] {
        app.create_user(&operator, &slice, user, "CONCURRENT", "MEMBER").await;
    }
    (operator, slice)
}

db_test! {
    config = long_sessions;
    async fn peak_is_exact_within_days_and_across_midnight(app) {
        let (operator, slice) = concurrent_slice(&app, "history").await;
        let mut tokens = std::collections::HashMap::new();
        // (instant, user, log in or out); seats in use after each step in the comments.
        let steps = [
            (at(2, 22, 0), "c1", true),   // 1
            (at(2, 22, 10), "c2", true),  // 2
            (at(2, 22, 20), "c3", true),  // 3
            (at(2, 22, 30), "c1", false), // 2
            (at(2, 23, 50), "c4", true),  // 3, carried over midnight
            (at(3, 0, 10), "c2", false),  // 2
            (at(3, 0, 20), "c3", false),  // 1
            (at(3, 1, 0), "c1", true),    // 2
            (at(3, 1, 5), "c1", true),    // 2: a second web session takes no second seat
            (at(3, 2, 0), "c4", false),   // 1
            (at(5, 10, 0), "c2", true),   // 2
            (at(5, 10, 5), "c3", true),   // 3
            (at(5, 10, 10), "c4", true),  // 4
            (at(5, 11, 0), "c2", false),  // 3
        ];
        for (instant, user, log_in) in steps {
            app.clock.set(instant);
            if log_in {
                let login = web_login(&app, "history", user).await;
                assert_eq!(login["__typename"], "LoginSuccess", "{user} at {instant}: {login}");
                tokens.insert(user, login["token"].as_str().unwrap().to_owned());
            } else {
                logout(&app, &tokens[user]).await;
            }
        }
        app.clock.set(at(6, 8, 0));

        assert_eq!(curve(&app, &operator, &slice, &date(2)).await, [1, 2, 3, 2, 3]);
        assert_eq!(curve(&app, &operator, &slice, &date(3)).await, [2, 1, 2, 1]);
        assert!(curve(&app, &operator, &slice, &date(4)).await.is_empty());
        assert_eq!(curve(&app, &operator, &slice, &date(5)).await, [2, 3, 4, 3]);

        let points = usage(&app, &operator, &slice, &date(1), &date(6)).await;
        let dates: Vec<&str> = points.iter().map(|p| p["date"].as_str().unwrap()).collect();
        assert_eq!(dates, ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]);
        let peaks: Vec<i64> = points.iter().map(|p| p["concurrentPeak"].as_i64().unwrap()).collect();
        assert_eq!(peaks, [0, 3, 3, 1, 4, 3]);
        assert_eq!(peaks, brute_force_peaks(&app, &operator, &slice, 1..=6).await);
        let started: Vec<i64> = points.iter().map(|p| p["sessionsStarted"].as_i64().unwrap()).collect();
        assert_eq!(started, [0, 4, 2, 0, 3, 0]);
        let named: Vec<i64> = points.iter().map(|p| p["namedAssigned"].as_i64().unwrap()).collect();
        assert_eq!(named, [0, 1, 1, 1, 1, 1], "the slice was created on March 2 with one NAMED administrator");
    }
}

db_test! {
    config = long_sessions;
    async fn named_high_water_mark_and_blocked_logins_are_counted(app) {
        app.operator("root").await;
        let operator_api = app.login_on(None, "root", PASSWORD, "API").await;
        let mut input = slice_input("tight");
        input["ownedConcurrentLicenses"] = json!(1);
        input["ownedNamedLicenses"] = json!(3);
        let slice = app.create_slice(&operator_api, input).await;
        for user in ["c1", "c2", "c3"] {
            app.create_user(&operator_api, &slice, user, "CONCURRENT", "MEMBER").await;
        }
        let set_mode = |mode: &'static str| {
            app.ok(Some(&operator_api), "mutation($id: ID!, $m: EnforcementMode!) { updateSlice(id: $id, input: {enforcementMode: $m}) { id } }",
                json!({ "id": slice, "m": mode }))
        };
        set_mode("WARN").await;
        assert_eq!(web_login(&app, "tight", "c1").await["__typename"], "LoginSuccess");
        assert_eq!(web_login(&app, "tight", "c2").await["__typename"], "LoginSuccess", "WARN admits past the limit");
        set_mode("ENFORCE").await;
        assert_eq!(web_login(&app, "tight", "c3").await["__typename"], "LicenseUnavailable");
        assert_eq!(web_login(&app, "tight", "c3").await["__typename"], "LicenseUnavailable");

        // Three NAMED users, one of them moved away later the same day: the day keeps the high-water mark.
        let n1 = app.create_user(&operator_api, &slice, "n1", "NAMED", "MEMBER").await;
        app.create_user(&operator_api, &slice, "n2", "NAMED", "MEMBER").await;
        app.create_user(&operator_api, &slice, "n3", "NAMED", "MEMBER").await;
        app.ok(Some(&operator_api), "mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }", json!({ "id": n1 })).await;

        let today = app.now().date_naive().to_string();
        let points = usage(&app, &operator_api, &slice, &today, &today).await;
        assert_eq!(points.len(), 1);
        let point = &points[0];
        assert_eq!(point["namedAssigned"], 3, "{point}");
        assert_eq!(point["concurrentPeak"], 2, "{point}");
        assert_eq!(point["sessionsStarted"], 2, "{point}");
        assert_eq!(point["loginsWouldBeBlocked"], 1, "{point}");
        assert_eq!(point["loginsBlocked"], 2, "{point}");

        // The next day is quiet: it carries the counts at the end of today.
        app.clock.advance(chrono::Duration::days(1));
        let tomorrow = app.now().date_naive().to_string();
        let points = usage(&app, &operator_api, &slice, &today, &tomorrow).await;
        let quiet = &points[1];
        assert_eq!(quiet["namedAssigned"], 2, "{quiet}");
        assert_eq!(quiet["concurrentPeak"], 2, "{quiet}");
        for counter in ["sessionsStarted", "loginsBlocked", "loginsWouldBeBlocked"] {
            assert_eq!(quiet[counter], 0, "{counter}: {quiet}");
        }
    }
}

db_test! {
    async fn subscription_center_shows_licenses_renewal_and_warnings(app) {
        app.operator("root").await;
        let operator = app.login_on(None, "root", PASSWORD, "API").await;
        let mut input = slice_input("center");
        input["renewalDate"] = json!("2026-05-01");
        input["ownedNamedLicenses"] = json!(1);
        let slice = app.create_slice(&operator, input).await;
        // Level events are recorded from WARN on.
        app.ok(Some(&operator), "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: WARN}) { id } }", json!({ "id": slice }))
            .await;
        app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
        app.create_user(&operator, &slice, "sam", "SELF_SERVICE", "MEMBER").await;

        let today = app.now().date_naive().to_string();
        let data = app.ok(Some(&operator), CENTER, json!({ "id": slice, "from": today, "to": today })).await;
        let center = &data["subscriptionCenter"];
        assert_eq!(center["renewalDate"], "2026-05-01");
        // From 2026-03-02 to 2026-05-01: 30 days to April 1, 30 more to May 1.
        assert_eq!(center["daysUntilRenewal"], 60);
        let licenses = center["licenses"].as_array().unwrap();
        let types: Vec<&str> = licenses.iter().map(|l| l["licenseType"].as_str().unwrap()).collect();
        assert_eq!(types, ["NAMED", "CONCURRENT", "SELF_SERVICE", "WEB_SERVICES"]);
        assert_eq!(licenses[0]["inUse"], 1);
        assert_eq!(licenses[0]["level"], "AT_LIMIT");
        assert_eq!(licenses[2]["owned"], Value::Null);
        assert_eq!(licenses[2]["inUse"], 1);

        let warnings = app
            .ok(Some(&operator), "query($id: ID!) { subscriptionCenter(sliceId: $id) { warnings(first: 5) { kind occurredAt } } }",
                json!({ "id": slice }))
            .await;
        let kinds: Vec<&str> =
            warnings["subscriptionCenter"]["warnings"].as_array().unwrap().iter().map(|w| w["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"LIMIT_REACHED"), "{kinds:?}");
        let bad = app
            .error(Some(&operator), "query($id: ID!) { subscriptionCenter(sliceId: $id) { warnings(first: 1000) { kind } } }",
                json!({ "id": slice }))
            .await;
        assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");

        app.clock.set(Utc.with_ymd_and_hms(2026, 5, 2, 0, 0, 0).unwrap());
        let data = app.ok(Some(&operator), CENTER, json!({ "id": slice, "from": today, "to": today })).await;
        assert_eq!(data["subscriptionCenter"]["daysUntilRenewal"], -1, "one day after the renewal date");
    }
}

db_test! {
    async fn bad_ranges_name_the_argument(app) {
        let operator = app.operator("root").await;
        let slice = app.create_slice(&operator, slice_input("ranges")).await;
        let cases = [
            ("2026-03-02", "2026-03-01", "from"),
            ("2026-03-01", "2026-03-03", "to"),
            ("2025-01-01", "2026-03-02", "to"),
        ];
        for (from, to, field) in cases {
            let error = app.error(Some(&operator), CENTER, json!({ "id": slice, "from": from, "to": to })).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{from}..{to}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{from}..{to}: {error}");
        }
        let error = app.error(Some(&operator), CENTER, json!({ "id": slice, "from": "March 1", "to": "2026-03-02" })).await;
        assert!(error["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{error}");
        let year = usage(&app, &operator, &slice, "2025-03-03", "2026-03-02").await;
        assert_eq!(year.len(), 365);
    }
}

db_test! {
    config = long_sessions;
    async fn usage_export_equals_the_api(app) {
        let (operator, slice) = concurrent_slice(&app, "export").await;
        app.clock.set(at(2, 10, 0));
        web_login(&app, "export", "c1").await;
        app.clock.set(at(4, 10, 0));
        web_login(&app, "export", "c2").await;
        let admin = web_login(&app, "export", "ada").await["token"].as_str().unwrap().to_owned();

        let points = usage(&app, &operator, &slice, &date(1), &date(4)).await;
        let mut expected = String::from("date,named_assigned,concurrent_peak,sessions_started,logins_blocked,logins_would_be_blocked\n");
        for p in &points {
            expected.push_str(&format!(
                "{},{},{},{},{},{}\n",
                p["date"].as_str().unwrap(), p["namedAssigned"], p["concurrentPeak"], p["sessionsStarted"], p["loginsBlocked"], p["loginsWouldBeBlocked"]
            ));
        }
        let url = format!("{}/export/usage.csv", app.base_url);
        let get = |token: Option<&str>, query: Vec<(&str, String)>| {
            let mut request = app.client.get(&url).query(&query);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let range = |slice: &str| vec![("sliceId", slice.to_owned()), ("from", date(1)), ("to", date(4))];

        for token in [&operator, &admin] {
            let response = get(Some(token), range(&slice)).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
            assert!(response.headers()["content-disposition"].to_str().unwrap().contains("usage-export-2026-03-01-2026-03-04.csv"));
            assert_eq!(response.text().await.unwrap(), expected);
        }

        let member = web_login(&app, "export", "c3").await["token"].as_str().unwrap().to_owned();
        let other_slice = app.create_slice(&operator, slice_input("elsewhere")).await;
        app.create_user(&operator, &other_slice, "bob", "NAMED", "ADMIN").await;
        let foreign_admin = web_login(&app, "elsewhere", "bob").await["token"].as_str().unwrap().to_owned();
        let missing = uuid::Uuid::new_v4().to_string();
        // (token, query parameters, expected status, field named by the error)
        type Case<'a> = (Option<&'a str>, Vec<(&'a str, String)>, u16, Option<&'a str>);
        let cases: Vec<Case> = vec![
            (None, range(&slice), 401, None),
            (Some("not-a-token"), range(&slice), 401, None),
            (Some(&admin), range(&missing), 404, None),
            (Some(&admin), range("not-an-id"), 404, None),
            (Some(&foreign_admin), range(&slice), 404, None),
            (Some(&member), range(&slice), 403, None),
            (Some(&admin), vec![("sliceId", slice.clone()), ("from", date(4)), ("to", date(1))], 400, Some("from")),
            (Some(&admin), vec![("sliceId", slice.clone()), ("from", date(1)), ("to", "2026-04-01".into())], 400, Some("to")),
            (Some(&admin), vec![("sliceId", slice.clone()), ("from", "yesterday".into()), ("to", date(4))], 400, Some("from")),
            (Some(&admin), vec![("sliceId", slice.clone()), ("from", date(1))], 400, Some("to")),
            (Some(&admin), vec![("from", date(1)), ("to", date(4))], 400, Some("sliceId")),
        ];
        for (index, (token, query, status, field)) in cases.into_iter().enumerate() {
            let response = get(token, query).await.unwrap();
            assert_eq!(response.status().as_u16(), status, "case {index}");
            if status == 401 {
                assert_eq!(response.headers()["www-authenticate"], "Bearer", "case {index}");
            }
            let body: Value = response.json().await.unwrap();
            if let Some(field) = field {
                assert_eq!(body["errors"][0]["extensions"]["field"], field, "case {index}: {body}");
                assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "case {index}: {body}");
            }
        }
    }
}

db_test! {
    config = |config| {
        long_sessions(config);
        config.seat_log_retention = std::time::Duration::from_secs(2 * 24 * 3600);
    };
    async fn history_job_starts_days_and_trims_the_seat_log(app) {
        let (operator, slice) = concurrent_slice(&app, "job").await;
        app.clock.set(at(2, 10, 0));
        web_login(&app, "job", "c1").await;
        web_login(&app, "job", "c2").await;
        let slice_id = uuid::Uuid::parse_str(&slice).unwrap();

        app.clock.set(at(4, 0, 0));
        let state = &app.state;
        let report = seatwarden::history::start_days(&state.db, state.clock.as_ref(), &state.config).await.unwrap();
        assert_eq!(report.failed, 0);
        assert!(report.slices >= 1);
        assert_eq!(report.seat_changes_deleted, 0, "the changes of March 2 are less than two days old: {report:?}");
        let rows = entity::usage_day::Entity::find()
            .filter(entity::usage_day::Column::SliceId.eq(slice_id))
            .filter(entity::usage_day::Column::Day.eq(NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()))
            .all(&state.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "the job wrote the day's row");
        assert_eq!(rows[0].named_assigned, 1);
        assert_eq!(rows[0].seats_at_end, 2);

        // The sessions idle out on March 9 at 10:00 by the clock alone, with no
        // recorded change. The job's row takes the live count and logs the change.
        app.clock.set(at(9, 12, 0));
        let report = seatwarden::history::start_days(&state.db, state.clock.as_ref(), &state.config).await.unwrap();
        assert_eq!(report.seat_changes_deleted, 2, "{report:?}");
        assert!(curve(&app, &operator, &slice, &date(2)).await.is_empty(), "the log keeps two days");
        let points = usage(&app, &operator, &slice, &date(2), &date(9)).await;
        assert_eq!(points[0]["concurrentPeak"], 2, "the day's history outlives the log");
        assert_eq!(points[7]["concurrentPeak"], 2, "March 9 starts with the seats at the end of March 8");
        assert_eq!(curve(&app, &operator, &slice, &date(9)).await, [0]);
    }
}

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
