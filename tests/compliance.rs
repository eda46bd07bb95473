//! The compliance report: counts per license type, seat expiry driven by the
//! clock, levels at their boundaries, who may read it, and a measurement of
//! its cost on a large slice.

use chrono::{DateTime, Duration, Utc};
use entity::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const REPORT_FRAGMENTS: &str = "fragment report on ComplianceReport { sliceId mode compliant evaluatedAt version \
    named { ...usage } concurrent { ...usage } selfService { ...usage } webServices { ...usage } } \
    fragment usage on LicenseUsage { licenseType owned inUse available overBy percentUsed level }";

const UPDATE_SLICE: &str = "mutation($id: ID!, $input: UpdateSliceInput!) { updateSlice(id: $id, input: $input) { id } }";

/// Reads `compliance(sliceId)` as `token`; the call must succeed.
async fn compliance(app: &TestApp, token: &str, slice_id: &str) -> Value {
    let query = format!("query($id: ID!) {{ compliance(sliceId: $id) {{ ...report }} }} {REPORT_FRAGMENTS}");
    app.ok(Some(token), &query, json!({ "id": slice_id })).await["compliance"].clone()
}

/// Returns the CONCURRENT seats in use, as the report gives them.
async fn seats(app: &TestApp, token: &str, slice_id: &str) -> i64 {
    compliance(app, token, slice_id).await["concurrent"]["inUse"].as_i64().unwrap()
}

async fn update_slice(app: &TestApp, operator: &str, slice_id: &str, input: Value) {
    app.ok(Some(operator), UPDATE_SLICE, json!({ "id": slice_id, "input": input })).await;
}

async fn logout(app: &TestApp, token: &str) {
    let data = app.ok(Some(token), "mutation { logout }", json!({})).await;
    assert_eq!(data["logout"], true);
}

async fn set_active(app: &TestApp, token: &str, user_id: &str, active: bool) {
    app.ok(
        Some(token),
        "mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { id } }",
        json!({ "id": user_id, "active": active }),
    )
    .await;
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

/// Creates slice `alpha` with an administrator `ada` (NAMED) and returns the
/// operator's token, the slice id and ada's token.
async fn alpha_with_admin(app: &TestApp, input: Value) -> (String, String, String) {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, input).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    let admin = app.login(Some("alpha"), "ada", PASSWORD).await;
    (operator, slice, admin)
}

db_test! {
    async fn counts_per_license_type(app) {
        let (operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        app.create_user(&admin, &slice, "nina", "NAMED", "MEMBER").await;
        app.create_user(&admin, &slice, "noah", "NAMED", "MEMBER").await;
        let gone_named = app.create_user(&admin, &slice, "nora", "NAMED", "MEMBER").await;
        app.create_user(&admin, &slice, "cara", "CONCURRENT", "MEMBER").await;
        app.create_user(&admin, &slice, "carl", "CONCURRENT", "MEMBER").await;
        let gone_concurrent = app.create_user(&admin, &slice, "cleo", "CONCURRENT", "MEMBER").await;
        app.create_user(&admin, &slice, "sam", "SELF_SERVICE", "MEMBER").await;
        app.create_user(&admin, &slice, "sue", "SELF_SERVICE", "MEMBER").await;
        let gone_self_service = app.create_user(&admin, &slice, "sid", "SELF_SERVICE", "MEMBER").await;
        app.create_user(&admin, &slice, "wes", "WEB_SERVICES", "MEMBER").await;
        for user_id in [&gone_named, &gone_concurrent, &gone_self_service] {
            set_active(&app, &admin, user_id, false).await;
        }
        // A CONCURRENT user of another slice, logged in, takes no seat in alpha.
        let beta = app.create_slice(&operator, slice_input("beta")).await;
        app.create_user(&operator, &beta, "cato", "CONCURRENT", "MEMBER").await;
        app.login(Some("beta"), "cato", PASSWORD).await;

        let report = compliance(&app, &admin, &slice).await;
        assert_eq!(report["named"]["inUse"], 3, "ada, nina and noah; nora is inactive: {report}");
        assert_eq!(report["concurrent"]["inUse"], 0, "no CONCURRENT user has a session: {report}");
        assert_eq!(report["selfService"]["inUse"], 2, "sid is inactive: {report}");
        assert_eq!(report["webServices"]["inUse"], 1, "{report}");
        assert_eq!(report["named"]["licenseType"], "NAMED");
        assert_eq!(report["concurrent"]["licenseType"], "CONCURRENT");
        assert_eq!(report["selfService"]["licenseType"], "SELF_SERVICE");
        assert_eq!(report["webServices"]["licenseType"], "WEB_SERVICES");

        // Two WEB sessions of one user take one seat.
        let cara_first = app.login(Some("alpha"), "cara", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1);
        app.login(Some("alpha"), "cara", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1, "a second WEB session takes no second seat");

        // MOBILE and API sessions take none.
        app.login_on(Some("alpha"), "carl", PASSWORD, "MOBILE").await;
        app.login_on(Some("alpha"), "carl", PASSWORD, "API").await;
        assert_eq!(seats(&app, &admin, &slice).await, 1, "MOBILE and API sessions take no seat");

        // Logging out frees the seat only when no other WEB session is left.
        let carl_web = app.login(Some("alpha"), "carl", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 2);
        logout(&app, &carl_web).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1, "carl's logout frees his seat");
        logout(&app, &cara_first).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1, "cara still has her second WEB session");

        // Users of other license types take no seat with a WEB session.
        app.login(Some("alpha"), "nina", PASSWORD).await;
        app.login(Some("alpha"), "sam", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1, "NAMED and SELF_SERVICE sessions take no seat");

        // Inactivating a user ends their sessions, which frees the seat.
        set_active(&app, &admin, &gone_concurrent, true).await;
        app.login(Some("alpha"), "cleo", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 2);
        set_active(&app, &admin, &gone_concurrent, false).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1, "cleo's inactivation frees her seat");
    }
}

db_test! {
    async fn inactive_user_with_live_session_takes_no_seat(app) {
        let (operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        let cara = app.create_user(&operator, &slice, "cara", "CONCURRENT", "MEMBER").await;
        app.login(Some("alpha"), "cara", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1);

        // Clears the flag without the service ending her sessions, so the
        // count itself has to leave inactive users out.
        user::Entity::update_many()
            .col_expr(user::Column::Active, Expr::value(false))
            .filter(user::Column::Id.eq(uuid::Uuid::parse_str(&cara).unwrap()))
            .exec(&app.state.db)
            .await
            .unwrap();
        assert_eq!(seats(&app, &admin, &slice).await, 0);
    }
}

db_test! {
    async fn idle_timeout_frees_seat(app) {
        let (operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        let cara = app.create_user(&operator, &slice, "cara", "CONCURRENT", "MEMBER").await;
        let start = app.now();
        app.login(Some("alpha"), "cara", PASSWORD).await;
        assert_eq!(seats(&app, &admin, &slice).await, 1);

        // The default WEB idle timeout is 30 minutes, and cara sends no request.
        app.clock.set(start + Duration::minutes(30) - Duration::seconds(1));
        assert_eq!(seats(&app, &admin, &slice).await, 1, "one second before the idle deadline");
        app.clock.set(start + Duration::minutes(30));
        assert_eq!(seats(&app, &admin, &slice).await, 0, "at the idle deadline");
        app.clock.set(start + Duration::minutes(30) + Duration::seconds(1));
        assert_eq!(seats(&app, &admin, &slice).await, 0, "one second after the idle deadline");

        // No sweep ran: the session has not been recorded as ended.
        let data = app
            .ok(
                Some(&admin),
                "query($id: ID!) { user(id: $id) { sessions(liveOnly: false) { endedAt live } } }",
                json!({ "id": cara }),
            )
            .await;
        let sessions = data["user"]["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["endedAt"], Value::Null);
        assert_eq!(sessions[0]["live"], false);
    }
}

db_test! {
    async fn absolute_deadline_frees_seat(app) {
        let operator = app.operator("root").await;
        let slice = app.create_slice(&operator, slice_input("alpha")).await;
        app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
        app.create_user(&operator, &slice, "cara", "CONCURRENT", "MEMBER").await;
        let start = app.now();
        let cara = app.login(Some("alpha"), "cara", PASSWORD).await;

        // Cara sends a request every 20 minutes, so only the 12-hour lifetime
        // can end her session. Ada logs in later, so her session outlives cara's.
        let mut admin = None;
        for _ in 0..35 {
            app.clock.advance(Duration::minutes(20));
            app.ok(Some(&cara), "{ me { id } }", json!({})).await;
            if admin.is_none() {
                admin = Some(app.login(Some("alpha"), "ada", PASSWORD).await);
            }
            let admin = admin.as_deref().unwrap();
            assert_eq!(seats(&app, admin, &slice).await, 1, "at {}", app.now());
        }
        let admin = admin.unwrap();

        app.clock.set(start + Duration::hours(12) - Duration::seconds(1));
        assert_eq!(seats(&app, &admin, &slice).await, 1, "one second before the absolute deadline");
        app.clock.set(start + Duration::hours(12) + Duration::seconds(1));
        assert_eq!(seats(&app, &admin, &slice).await, 0, "one second after the absolute deadline");
    }
}

db_test! {
    async fn named_levels_at_boundaries(app) {
        let (operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        for name in ["nia", "nik", "nils", "nina", "noah", "nora", "nova"] {
            app.create_user(&admin, &slice, name, "NAMED", "MEMBER").await;
        }

        // Eight NAMED users in every case.
        // (owned, threshold, level, available, overBy, percentUsed, compliant)
        let cases = [
            (10, 80, "APPROACHING", 2, 0, Some(80.0), true),
            (10, 81, "WITHIN", 2, 0, Some(80.0), true),
            // 72 % of 11 is 7.92, 73 % is 8.03.
            (11, 72, "APPROACHING", 3, 0, Some(800.0 / 11.0), true),
            (11, 73, "WITHIN", 3, 0, Some(800.0 / 11.0), true),
            (9, 100, "WITHIN", 1, 0, Some(800.0 / 9.0), true),
            (8, 80, "AT_LIMIT", 0, 0, Some(100.0), true),
            (8, 100, "AT_LIMIT", 0, 0, Some(100.0), true),
            (7, 80, "OVER", 0, 1, Some(800.0 / 7.0), false),
            (0, 80, "OVER", 0, 8, None, false),
        ];
        for (owned, threshold, level, available, over_by, percent_used, compliant) in cases {
            update_slice(&app, &operator, &slice, json!({ "ownedNamedLicenses": owned, "alertThresholdPercent": threshold })).await;
            let report = compliance(&app, &admin, &slice).await;
            let named = &report["named"];
            let case = format!("owned {owned}, threshold {threshold}%: {named}");
            assert_eq!(named["inUse"], 8, "{case}");
            assert_eq!(named["owned"], owned, "{case}");
            assert_eq!(named["level"], level, "{case}");
            assert_eq!(named["available"], available, "{case}");
            assert_eq!(named["overBy"], over_by, "{case}");
            // JSON parsing may move a float by its last digit, so compare with a tolerance.
            match percent_used {
                Some(expected) => {
                    let actual = named["percentUsed"].as_f64().unwrap_or(f64::NAN);
                    assert!((actual - expected).abs() < 1e-9, "{case}: expected percentUsed {expected}");
                }
                None => assert_eq!(named["percentUsed"], Value::Null, "{case}"),
            }
            assert_eq!(report["compliant"], compliant, "{case}");
        }
    }
}

db_test! {
    async fn concurrent_levels_at_boundaries(app) {
        let (operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        for name in ["cara", "carl", "cleo"] {
            app.create_user(&admin, &slice, name, "CONCURRENT", "MEMBER").await;
            app.login(Some("alpha"), name, PASSWORD).await;
        }

        // Three seats in use in every case.
        // (owned, threshold, level, available, overBy, compliant)
        let cases = [
            (5, 60, "APPROACHING", 2, 0, true),
            (5, 61, "WITHIN", 2, 0, true),
            // 75 % of 4 is exactly 3.
            (4, 75, "APPROACHING", 1, 0, true),
            (4, 76, "WITHIN", 1, 0, true),
            (3, 80, "AT_LIMIT", 0, 0, true),
            (2, 80, "OVER", 0, 1, false),
            (0, 80, "OVER", 0, 3, false),
        ];
        for (owned, threshold, level, available, over_by, compliant) in cases {
            update_slice(&app, &operator, &slice, json!({ "ownedConcurrentLicenses": owned, "alertThresholdPercent": threshold })).await;
            let report = compliance(&app, &admin, &slice).await;
            let concurrent = &report["concurrent"];
            let case = format!("owned {owned}, threshold {threshold}%: {concurrent}");
            assert_eq!(concurrent["inUse"], 3, "{case}");
            assert_eq!(concurrent["owned"], owned, "{case}");
            assert_eq!(concurrent["level"], level, "{case}");
            assert_eq!(concurrent["available"], available, "{case}");
            assert_eq!(concurrent["overBy"], over_by, "{case}");
            assert_eq!(report["compliant"], compliant, "{case}");
            assert_eq!(report["named"]["level"], "WITHIN", "{case}: one NAMED user of 10 owned");
        }
    }
}

db_test! {
    async fn nothing_owned(app) {
        let operator = app.operator("root").await;
        let input = json!({ "name": "alpha", "displayName": "Alpha", "kind": "STAGING", "edition": "SERVICE_MANAGEMENT",
            "ownedNamedLicenses": 0, "ownedConcurrentLicenses": 0 });
        let slice = app.create_slice(&operator, input).await;

        let report = compliance(&app, &operator, &slice).await;
        for key in ["named", "concurrent"] {
            let usage = &report[key];
            assert_eq!(usage["owned"], 0, "{key}: {usage}");
            assert_eq!(usage["inUse"], 0, "{key}: {usage}");
            assert_eq!(usage["available"], 0, "{key}: {usage}");
            assert_eq!(usage["overBy"], 0, "{key}: {usage}");
            assert_eq!(usage["percentUsed"], Value::Null, "{key}: {usage}");
            assert_eq!(usage["level"], "WITHIN", "{key}: {usage}");
        }
        assert_eq!(report["compliant"], true);

        // A CONCURRENT user without a session uses nothing; one NAMED user is over.
        app.create_user(&operator, &slice, "cara", "CONCURRENT", "MEMBER").await;
        app.create_user(&operator, &slice, "nina", "NAMED", "MEMBER").await;
        let report = compliance(&app, &operator, &slice).await;
        assert_eq!(report["concurrent"]["level"], "WITHIN", "{report}");
        assert_eq!(report["named"]["level"], "OVER", "{report}");
        assert_eq!(report["named"]["overBy"], 1, "{report}");
        assert_eq!(report["named"]["percentUsed"], Value::Null, "{report}");
        assert_eq!(report["compliant"], false);

        app.login(Some("alpha"), "cara", PASSWORD).await;
        let report = compliance(&app, &operator, &slice).await;
        assert_eq!(report["concurrent"]["level"], "OVER", "{report}");
        assert_eq!(report["concurrent"]["overBy"], 1, "{report}");
    }
}

db_test! {
    async fn unlimited_types_are_reported_only(app) {
        let (_operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        for index in 0..3 {
            app.create_user(&admin, &slice, &format!("self{index}"), "SELF_SERVICE", "MEMBER").await;
        }
        app.create_user(&admin, &slice, "api1", "WEB_SERVICES", "MEMBER").await;
        app.login_on(Some("alpha"), "api1", PASSWORD, "API").await;

        let report = compliance(&app, &admin, &slice).await;
        for (key, in_use) in [("selfService", 3), ("webServices", 1)] {
            let usage = &report[key];
            assert_eq!(usage["inUse"], in_use, "{key}: {usage}");
            assert_eq!(usage["owned"], Value::Null, "{key}: {usage}");
            assert_eq!(usage["available"], Value::Null, "{key}: {usage}");
            assert_eq!(usage["overBy"], 0, "{key}: {usage}");
            assert_eq!(usage["percentUsed"], Value::Null, "{key}: {usage}");
            assert_eq!(usage["level"], "WITHIN", "{key}: {usage}");
        }
        assert_eq!(report["compliant"], true);
    }
}

db_test! {
    async fn report_carries_slice_state(app) {
        let (operator, slice, admin) = alpha_with_admin(&app, slice_input("alpha")).await;
        app.create_user(&admin, &slice, "cara", "CONCURRENT", "MEMBER").await;
        app.login(Some("alpha"), "cara", PASSWORD).await;
        update_slice(&app, &operator, &slice, json!({ "enforcementMode": "WARN", "ownedNamedLicenses": 4 })).await;
        app.clock.advance(Duration::seconds(90));

        let query = format!("query($id: ID!) {{ slice(id: $id) {{ version compliance {{ ...report }} }} }} {REPORT_FRAGMENTS}");
        let data = app.ok(Some(&admin), &query, json!({ "id": slice })).await;
        let version = &data["slice"]["version"];
        let report = &data["slice"]["compliance"];
        assert!(version.as_i64().unwrap() > 0, "logins and the update bump the version: {version}");
        assert_eq!(&report["version"], version);
        assert_eq!(report["sliceId"], slice.as_str());
        assert_eq!(report["mode"], "WARN");
        assert_eq!(instant(&report["evaluatedAt"]), app.now());
        assert_eq!(report["named"]["owned"], 4);

        let direct = compliance(&app, &admin, &slice).await;
        assert_eq!(&direct["version"], version);
    }
}

db_test! {
    async fn who_may_read_compliance(app) {
        let operator = app.operator("root").await;
        let alpha = app.create_slice(&operator, slice_input("alpha")).await;
        let beta = app.create_slice(&operator, slice_input("beta")).await;
        app.create_user(&operator, &alpha, "ada", "NAMED", "ADMIN").await;
        app.create_user(&operator, &beta, "bob", "NAMED", "ADMIN").await;
        app.create_user(&operator, &alpha, "mia", "NAMED", "MEMBER").await;
        let callers = [
            ("operator", Some(operator.clone()), "OK"),
            ("admin of the slice", Some(app.login(Some("alpha"), "ada", PASSWORD).await), "OK"),
            ("admin of another slice", Some(app.login(Some("beta"), "bob", PASSWORD).await), "NOT_FOUND"),
            ("member", Some(app.login(Some("alpha"), "mia", PASSWORD).await), "FORBIDDEN"),
            ("anonymous", None, "UNAUTHENTICATED"),
        ];

        let operations = [
            ("compliance", "query($id: ID!) { compliance(sliceId: $id) { sliceId } }"),
            ("Slice.compliance", "query($id: ID!) { slice(id: $id) { compliance { sliceId } } }"),
        ];
        for (operation, query) in operations {
            for (caller, token, expected) in &callers {
                let body = app.gql(token.as_deref(), query, json!({ "id": alpha })).await;
                let outcome = body["errors"].get(0).map_or("OK", code);
                assert_eq!(outcome, *expected, "{operation} as {caller}: {body}");
            }
        }

        // The member reaches their slice through `me` too, and still may not read the report.
        let member = callers[3].1.as_deref();
        let body = app.gql(member, "{ me { slice { name compliance { sliceId } } } }", json!({})).await;
        assert_eq!(body["errors"].get(0).map_or("OK", code), "FORBIDDEN", "{body}");
        assert_eq!(body["errors"][0]["path"], json!(["me", "slice", "compliance"]), "{body}");

        // A missing id and a malformed id get the same NOT_FOUND as another slice's id.
        let admin = callers[1].1.as_deref();
        for id in [uuid::Uuid::new_v4().to_string(), "not-an-id".to_owned(), beta.clone()] {
            let error = app.error(admin, "query($id: ID!) { compliance(sliceId: $id) { sliceId } }", json!({ "id": id })).await;
            assert_eq!(code(&error), "NOT_FOUND", "id {id}: {error}");
        }
    }
}

/// Loads a slice with 100,000 users and 20,000 live sessions and prints the
/// median time of `licensing::report` on it. Run it in release mode:
///
/// ```sh
/// tests/run --release --test integration -- --ignored --nocapture compliance::report_timing
/// ```
mod report_timing {
    use crate::harness::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement, not a check; run it in release mode"]
    async fn sqlite() {
        super::timing::measure(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a measurement, not a check; run it in release mode"]
    async fn postgres() {
        super::timing::measure(Backend::Postgres).await;
    }
}

mod timing {
    use std::time::{Duration as StdDuration, Instant};

    use chrono::{DateTime, Duration, Utc};
    use entity::{Channel, EnforcementMode, Edition, LicenseType, Role, SessionEndReason, SliceKind, session, slice, user};
    use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement, TransactionTrait};
    use seatwarden::licensing;
    use uuid::Uuid;

    use crate::harness::{Backend, PASSWORD, TestApp};

    const USERS: usize = 100_000;
    const RUNS: usize = 15;

    /// The loaded slice and the counts its report must show.
    struct Loaded {
        slice: slice::Model,
        named: u64,
        concurrent: u64,
        self_service: u64,
        web_services: u64,
        live_sessions: usize,
    }

    pub async fn measure(backend: Backend) {
        let Some(app) = TestApp::start(backend).await else {
            return;
        };
        let db = &app.state.db;
        let now = app.now();
        let started = Instant::now();
        let loaded = load(&app, now).await;
        println!("{backend:?}: loaded {USERS} users and {} live sessions in {:.1?}", loaded.live_sessions, started.elapsed());

        match db.get_database_backend() {
            DbBackend::Postgres => {
                // PostgreSQL plans from table statistics, and those of the freshly
                // migrated database describe empty tables. With them it picked a
                // nested loop that took over two minutes for the first report here,
                // so the report is measured after VACUUM ANALYZE, as autovacuum
                // would run it on a live database.
                db.execute_unprepared("VACUUM ANALYZE").await.unwrap();
                let rounds = vacuum_until_all_visible(db).await;
                println!("{backend:?}: {rounds} more VACUUM round(s) marked every page all-visible");
            }
            _ => {
                // SQLite plans without statistics unless ANALYZE ran, which it
                // never does by itself, so both states are measured.
                let median = time_report(db, &loaded, now).await;
                println!("{backend:?}: median of {RUNS} reports without statistics: {median:.2?}");
                db.execute_unprepared("ANALYZE").await.unwrap();
            }
        }
        let median = time_report(db, &loaded, now).await;
        println!("{backend:?}: median of {RUNS} reports after ANALYZE: {median:.2?}");
    }

    /// Repeats VACUUM until the visibility map marks every page of `users` and
    /// `sessions` all-visible, which PostgreSQL's index-only scans need to skip
    /// the table, and returns the number of rounds.
    ///
    /// The VACUUM right after the load often leaves the map unset here, and one
    /// half a second later sets it; the cause was not found.
    async fn vacuum_until_all_visible(db: &DatabaseConnection) -> usize {
        let visibility = "SELECT COALESCE(SUM(relpages - relallvisible), 0)::bigint FROM pg_class \
                          WHERE relname IN ('users', 'sessions')";
        for round in 0..10 {
            let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, visibility)).await.unwrap().unwrap();
            let pages_not_visible: i64 = row.try_get_by_index(0).unwrap();
            if pages_not_visible == 0 {
                return round;
            }
            tokio::time::sleep(StdDuration::from_millis(500)).await;
            db.execute_unprepared("VACUUM users, sessions").await.unwrap();
        }
        panic!("users and sessions still have pages that are not all-visible after 10 VACUUM rounds");
    }

    /// Runs the report `RUNS` times after one warm-up run, checks its counts,
    /// and returns the median time.
    async fn time_report(db: &DatabaseConnection, loaded: &Loaded, now: DateTime<Utc>) -> StdDuration {
        let report = licensing::report(db, &loaded.slice, now).await.unwrap();
        assert_eq!(report.named.in_use, loaded.named);
        assert_eq!(report.concurrent.in_use, loaded.concurrent);
        assert_eq!(report.self_service.in_use, loaded.self_service);
        assert_eq!(report.web_services.in_use, loaded.web_services);

        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            licensing::report(db, &loaded.slice, now).await.unwrap();
            times.push(started.elapsed());
        }
        times.sort();
        times[RUNS / 2]
    }

    /// Inserts the measured slice and a second, smaller slice whose rows the
    /// counts must skip.
    ///
    /// The measured slice has 100,000 users: 50,000 NAMED, 40,000 CONCURRENT
    /// (1,000 of each inactive), 8,000 SELF_SERVICE and 2,000 WEB_SERVICES.
    /// Its 20,000 live sessions are 8,000 WEB sessions of NAMED users, 10,000
    /// WEB sessions of 9,000 CONCURRENT users (1,000 with two), 1,000 MOBILE
    /// and 1,000 API. It also has 100,000 ended sessions and 5,000 WEB sessions
    /// past their idle deadline that no sweep has ended.
    async fn load(app: &TestApp, now: DateTime<Utc>) -> Loaded {
        let password_hash = app.state.hasher.hash(PASSWORD).await.unwrap();
        let txn = app.state.db.begin().await.unwrap();
        let measured = insert_slice(&txn, "measured", now).await;
        let other = insert_slice(&txn, "other", now).await;

        let license_of = |index: usize| match index % 100 {
            0..50 => LicenseType::Named,
            50..90 => LicenseType::Concurrent,
            90..98 => LicenseType::SelfService,
            _ => LicenseType::WebServices,
        };
        let active_of = |index: usize| index % 50 != 7;
        let users = insert_users(&txn, measured.id, USERS, &password_hash, now, license_of, active_of).await;
        let other_users = insert_users(&txn, other.id, 10_000, &password_hash, now, license_of, |_| true).await;

        let of_type = |license_type: LicenseType| {
            users.iter().enumerate().filter(move |(index, _)| license_of(*index) == license_type && active_of(*index)).map(|(_, id)| *id)
        };
        let named: Vec<Uuid> = of_type(LicenseType::Named).collect();
        let concurrent: Vec<Uuid> = of_type(LicenseType::Concurrent).collect();
        let self_service: Vec<Uuid> = of_type(LicenseType::SelfService).collect();
        let web_services: Vec<Uuid> = of_type(LicenseType::WebServices).collect();

        let live = Deadlines { idle: now + Duration::minutes(20), absolute: now + Duration::hours(8), ended: None };
        let idle_passed = Deadlines { idle: now - Duration::minutes(5), absolute: now + Duration::hours(8), ended: None };
        let ended = Deadlines { idle: now - Duration::days(2), absolute: now - Duration::days(1), ended: Some(now - Duration::days(2)) };
        let mut sessions = Vec::new();
        sessions.extend(named[..8_000].iter().map(|id| (*id, measured.id, Channel::Web, live)));
        sessions.extend(concurrent[..9_000].iter().map(|id| (*id, measured.id, Channel::Web, live)));
        sessions.extend(concurrent[..1_000].iter().map(|id| (*id, measured.id, Channel::Web, live)));
        sessions.extend(self_service[..1_000].iter().map(|id| (*id, measured.id, Channel::Mobile, live)));
        sessions.extend(web_services[..1_000].iter().map(|id| (*id, measured.id, Channel::Api, live)));
        let live_sessions = sessions.len();
        sessions.extend(concurrent[9_000..14_000].iter().map(|id| (*id, measured.id, Channel::Web, idle_passed)));
        sessions.extend(users.iter().map(|id| (*id, measured.id, Channel::Web, ended)));
        sessions.extend(other_users[..2_000].iter().map(|id| (*id, other.id, Channel::Web, live)));
        insert_sessions(&txn, &sessions, now).await;
        txn.commit().await.unwrap();

        Loaded {
            slice: measured,
            named: named.len() as u64,
            concurrent: 9_000,
            self_service: self_service.len() as u64,
            web_services: web_services.len() as u64,
            live_sessions,
        }
    }

    async fn insert_slice(db: &impl ConnectionTrait, name: &str, now: DateTime<Utc>) -> slice::Model {
        let model = slice::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.to_owned()),
            name_key: Set(name.to_owned()),
            display_name: Set(name.to_owned()),
            customer: Set(None),
            kind: Set(SliceKind::Production),
            edition: Set(Edition::ServiceManagement),
            owned_named_licenses: Set(50_000),
            owned_concurrent_licenses: Set(10_000),
            renewal_date: Set(None),
            enforcement_mode: Set(EnforcementMode::Off),
            mode_pinned: Set(false),
            alert_threshold_percent: Set(80),
            version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        };
        slice::Entity::insert(model).exec_with_returning(db).await.unwrap()
    }

    async fn insert_users(
        db: &impl ConnectionTrait,
        slice_id: Uuid,
        count: usize,
        password_hash: &str,
        now: DateTime<Utc>,
        license_of: impl Fn(usize) -> LicenseType,
        active_of: impl Fn(usize) -> bool,
    ) -> Vec<Uuid> {
        let ids: Vec<Uuid> = (0..count).map(|_| Uuid::now_v7()).collect();
        for chunk_start in (0..count).step_by(1_000) {
            let models = (chunk_start..(chunk_start + 1_000).min(count)).map(|index| {
                let username = format!("user{index}");
                user::ActiveModel {
                    id: Set(ids[index]),
                    slice_id: Set(Some(slice_id)),
                    username_key: Set(username.clone()),
                    email: Set(format!("{username}@customer.example")),
                    display_name: Set(username.clone()),
                    username: Set(username),
                    license_type: Set(Some(license_of(index))),
                    role: Set(Role::Member),
                    active: Set(active_of(index)),
                    password_hash: Set(password_hash.to_owned()),
                    last_login_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            });
            user::Entity::insert_many(models).exec(db).await.unwrap();
        }
        ids
    }

    #[derive(Clone, Copy)]
    struct Deadlines {
        idle: DateTime<Utc>,
        absolute: DateTime<Utc>,
        ended: Option<DateTime<Utc>>,
    }

    async fn insert_sessions(db: &impl ConnectionTrait, sessions: &[(Uuid, Uuid, Channel, Deadlines)], now: DateTime<Utc>) {
        for (chunk_index, chunk) in sessions.chunks(1_000).enumerate() {
            let models = chunk.iter().enumerate().map(|(index, (user_id, slice_id, channel, deadlines))| session::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(*user_id),
                slice_id: Set(Some(*slice_id)),
                channel: Set(*channel),
                token_hash: Set(format!("{:064x}", chunk_index * 1_000 + index)),
                started_at: Set(now - Duration::hours(1)),
                last_seen_at: Set(now - Duration::minutes(10)),
                idle_expires_at: Set(deadlines.idle),
                absolute_expires_at: Set(deadlines.absolute),
                ended_at: Set(deadlines.ended),
                end_reason: Set(deadlines.ended.map(|_| SessionEndReason::Logout)),
                client_address: Set(None),
                user_agent: Set(None),
            });
            session::Entity::insert_many(models).exec(db).await.unwrap();
        }
    }
}
