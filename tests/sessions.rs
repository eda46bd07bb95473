//! The web-session limit, ending sessions, password changes and the session list.

use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename \
    ... on LoginSuccess { token session { id } } \
    ... on SessionLimitReached { message maxWebSessions activeSessions { id channel startedAt lastSeenAt clientAddress userAgent user { username } } } \
    ... on LoginRejected { reason } } }";

struct Setup {
    operator: String,
    slice: String,
    admin: String,
}

/// A slice `acme` in the given mode with an administrator and one user of each license type.
async fn setup(app: &TestApp, mode: &str) -> Setup {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    app.ok(
        Some(&operator),
        "mutation($id: ID!, $mode: EnforcementMode!) { updateSlice(id: $id, input: {enforcementMode: $mode}) { id } }",
        json!({ "id": slice, "mode": mode }),
    )
    .await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    for (username, license_type) in [("nina", "NAMED"), ("carl", "CONCURRENT"), ("sue", "SELF_SERVICE"), ("hook", "WEB_SERVICES")] {
        app.create_user(&operator, &slice, username, license_type, "MEMBER").await;
    }
    let admin = app.login(Some("acme"), "ada", PASSWORD).await;
    Setup { operator, slice, admin }
}

async fn login(app: &TestApp, username: &str, channel: &str, end_session_ids: Value) -> Value {
    let input = json!({
        "slice": "acme", "username": username, "password": PASSWORD, "channel": channel,
        "userAgent": "test-agent/1.0", "endSessionIds": end_session_ids
    });
    app.ok(None, LOGIN, json!({ "input": input })).await["login"].clone()
}

async fn live_web_count(app: &TestApp, setup: &Setup, username: &str) -> usize {
    let data = app
        .ok(
            Some(&setup.admin),
            "query($s: ID!) { sessions(sliceId: $s, filter: {channels: [WEB]}) { edges { node { user { username } } } } }",
            json!({ "s": setup.slice }),
        )
        .await;
    data["sessions"]["edges"].as_array().unwrap().iter().filter(|e| e["node"]["user"]["username"] == username).count()
}

db_test! {
    async fn third_web_login_lists_sessions(app) {
        let setup = setup(&app, "WARN").await;
        let first = login(&app, "nina", "WEB", json!([])).await;
        let second = login(&app, "nina", "WEB", json!([])).await;
        assert_eq!(first["__typename"], "LoginSuccess");
        assert_eq!(second["__typename"], "LoginSuccess");

        let third = login(&app, "nina", "WEB", json!([])).await;
        assert_eq!(third["__typename"], "SessionLimitReached", "{third}");
        assert_eq!(third["maxWebSessions"], 2);
        let listed = third["activeSessions"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["id"], first["session"]["id"], "oldest first");
        assert_eq!(listed[0]["user"]["username"], "nina", "the user resolves without a token");
        assert_eq!(listed[0]["userAgent"], "test-agent/1.0");
        assert_eq!(listed[0]["clientAddress"], "127.0.0.1");
        assert_eq!(live_web_count(&app, &setup, "nina").await, 2, "the refused login wrote nothing");

        let replaced = login(&app, "nina", "WEB", json!([first["session"]["id"]])).await;
        assert_eq!(replaced["__typename"], "LoginSuccess", "{replaced}");
        assert_eq!(live_web_count(&app, &setup, "nina").await, 2);
        let old_token = first["token"].as_str().unwrap();
        let error = app.error(Some(old_token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED", "a replaced session's token is dead");
        let history = app
            .ok(Some(second["token"].as_str().unwrap()), "{ me { sessions(liveOnly: false) { id endReason } } }", json!({}))
            .await;
        let ended: Vec<&Value> = history["me"]["sessions"].as_array().unwrap().iter().filter(|s| !s["endReason"].is_null()).collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["endReason"], "REPLACED");
    }
}

db_test! {
    async fn wrong_end_session_ids_change_nothing(app) {
        let setup = setup(&app, "ENFORCE").await;
        let first = login(&app, "nina", "WEB", json!([])).await;
        login(&app, "nina", "WEB", json!([])).await;
        let mobile = login(&app, "nina", "MOBILE", json!([])).await;
        let other_user = login(&app, "carl", "WEB", json!([])).await;
        for ids in [
            json!([uuid::Uuid::new_v4().to_string()]),
            json!(["not-an-id"]),
            json!([mobile["session"]["id"]]),
            json!([other_user["session"]["id"]]),
            json!([first["session"]["id"], uuid::Uuid::new_v4().to_string()]),
        ] {
            let error = app
                .error(None, LOGIN, json!({ "input": { "slice": "acme", "username": "nina", "password": PASSWORD, "endSessionIds": ids } }))
                .await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{ids}");
            assert_eq!(error["extensions"]["field"], "input.endSessionIds", "{ids}");
        }
        assert_eq!(live_web_count(&app, &setup, "nina").await, 2, "no session was ended");
        app.ok(Some(first["token"].as_str().unwrap()), "{ me { id } }", json!({})).await;
    }
}

db_test! {
    async fn limit_skips_unlimited_cases(app) {
        let setup = setup(&app, "ENFORCE").await;
        for _ in 0..3 {
            assert_eq!(login(&app, "nina", "MOBILE", json!([])).await["__typename"], "LoginSuccess");
            assert_eq!(login(&app, "nina", "API", json!([])).await["__typename"], "LoginSuccess");
            assert_eq!(login(&app, "sue", "WEB", json!([])).await["__typename"], "LoginSuccess");
            assert_eq!(login(&app, "hook", "API", json!([])).await["__typename"], "LoginSuccess");
        }
        assert_eq!(live_web_count(&app, &setup, "sue").await, 3);
        for _ in 0..3 {
            let operator_login = app.login(None, "root", PASSWORD).await;
            assert!(!operator_login.is_empty());
        }
    }
}

db_test! {
    async fn mode_off_has_no_limit(app) {
        let setup = setup(&app, "OFF").await;
        for _ in 0..3 {
            assert_eq!(login(&app, "nina", "WEB", json!([])).await["__typename"], "LoginSuccess");
            assert_eq!(login(&app, "carl", "WEB", json!([])).await["__typename"], "LoginSuccess");
        }
        assert_eq!(live_web_count(&app, &setup, "nina").await, 3);
    }
}

db_test! {
    async fn simultaneous_logins_respect_limit(app) {
        let setup = setup(&app, "WARN").await;
        let attempts = (0..20).map(|_| login(&app, "nina", "WEB", json!([])));
        let results = futures_util::future::join_all(attempts).await;
        let successes = results.iter().filter(|r| r["__typename"] == "LoginSuccess").count();
        let refusals = results.iter().filter(|r| r["__typename"] == "SessionLimitReached").count();
        assert_eq!(successes, 2, "{results:?}");
        assert_eq!(refusals, 18, "{results:?}");
        assert_eq!(live_web_count(&app, &setup, "nina").await, 2);
    }
}

db_test! {
    async fn limit_refusals_do_not_lock(app) {
        setup(&app, "WARN").await;
        login(&app, "nina", "WEB", json!([])).await;
        login(&app, "nina", "WEB", json!([])).await;
        for _ in 0..8 {
            assert_eq!(login(&app, "nina", "WEB", json!([])).await["__typename"], "SessionLimitReached");
        }
        assert_eq!(login(&app, "nina", "MOBILE", json!([])).await["__typename"], "LoginSuccess");
    }
}

db_test! {
    async fn end_session_by_owner_and_admin(app) {
        let setup = setup(&app, "WARN").await;
        let own = login(&app, "nina", "WEB", json!([])).await;
        let by_admin = login(&app, "nina", "MOBILE", json!([])).await;
        let own_token = own["token"].as_str().unwrap().to_owned();
        let query = "mutation($id: ID!) { endSession(id: $id) { id live endReason endedAt } }";

        let ended = app.ok(Some(&setup.admin), query, json!({ "id": by_admin["session"]["id"] })).await;
        assert_eq!(ended["endSession"]["endReason"], "ENDED_BY_ADMIN");
        assert_eq!(ended["endSession"]["live"], false);
        let error = app.error(Some(by_admin["token"].as_str().unwrap()), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");

        let carl = login(&app, "carl", "WEB", json!([])).await;
        let error = app.error(Some(&own_token), query, json!({ "id": carl["session"]["id"] })).await;
        assert_eq!(code(&error), "NOT_FOUND", "a member cannot end another user's session");

        let ended = app.ok(Some(&own_token), query, json!({ "id": own["session"]["id"] })).await;
        assert_eq!(ended["endSession"]["endReason"], "ENDED_BY_USER");
        let error = app.error(Some(&own_token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");

        let again = app.ok(Some(&setup.admin), query, json!({ "id": own["session"]["id"] })).await;
        assert_eq!(again["endSession"]["endReason"], "ENDED_BY_USER", "ending an ended session changes nothing");
    }
}

db_test! {
    async fn end_user_sessions_counts(app) {
        let setup = setup(&app, "WARN").await;
        let nina = app.ok(Some(&setup.admin), "query($s: ID!) { users(sliceId: $s, filter: {search: \"nina\"}) { edges { node { id } } } }",
            json!({ "s": setup.slice })).await["users"]["edges"][0]["node"]["id"].clone();
        login(&app, "nina", "WEB", json!([])).await;
        login(&app, "nina", "MOBILE", json!([])).await;
        let token = login(&app, "nina", "API", json!([])).await["token"].as_str().unwrap().to_owned();
        let query = "mutation($id: ID!) { endUserSessions(userId: $id) }";
        let error = app.error(Some(&token), query, json!({ "id": nina })).await;
        assert_eq!(code(&error), "FORBIDDEN", "members cannot end sessions of users");
        let data = app.ok(Some(&setup.admin), query, json!({ "id": nina })).await;
        assert_eq!(data["endUserSessions"], 3);
        let data = app.ok(Some(&setup.operator), query, json!({ "id": nina })).await;
        assert_eq!(data["endUserSessions"], 0);
    }
}

db_test! {
    async fn change_password_ends_other_sessions(app) {
        setup(&app, "WARN").await;
        let other = login(&app, "nina", "MOBILE", json!([])).await["token"].as_str().unwrap().to_owned();
        let current = login(&app, "nina", "WEB", json!([])).await["token"].as_str().unwrap().to_owned();
        let query = "mutation($old: String!, $new: String!) { changePassword(currentPassword: $old, newPassword: $new) }";

        let error = app.error(Some(&current), query, json!({ "old": "wrong password", "new": "a new password" })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT");
        assert_eq!(error["extensions"]["field"], "currentPassword");
        let error = app.error(Some(&current), query, json!({ "old": PASSWORD, "new": "short" })).await;
        assert_eq!(error["extensions"]["field"], "newPassword");
        app.ok(Some(&other), "{ me { id } }", json!({})).await;

        let data = app.ok(Some(&current), query, json!({ "old": PASSWORD, "new": "a new password" })).await;
        assert_eq!(data["changePassword"], true);
        app.ok(Some(&current), "{ me { id } }", json!({})).await;
        let error = app.error(Some(&other), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED", "other sessions end");
        let history = app.ok(Some(&current), "{ me { sessions(liveOnly: false) { endReason } } }", json!({})).await;
        assert!(history["me"]["sessions"].as_array().unwrap().iter().any(|s| s["endReason"] == "PASSWORD_CHANGED"));

        let old = app
            .ok(None, LOGIN, json!({ "input": { "slice": "acme", "username": "nina", "password": PASSWORD, "channel": "API" } }))
            .await;
        assert_eq!(old["login"]["reason"], "INVALID_CREDENTIALS");
        app.login_on(Some("acme"), "nina", "a new password", "API").await;
    }
}

db_test! {
    async fn session_list_filters(app) {
        let setup = setup(&app, "WARN").await;
        login(&app, "nina", "WEB", json!([])).await;
        login(&app, "nina", "MOBILE", json!([])).await;
        let carl = login(&app, "carl", "WEB", json!([])).await;
        login(&app, "hook", "API", json!([])).await;
        app.ok(Some(carl["token"].as_str().unwrap()), "mutation { logout }", json!({})).await;

        let query = "query($s: ID!, $f: SessionFilter, $first: Int, $after: String) { sessions(sliceId: $s, filter: $f, first: $first, after: $after) { \
            totalCount edges { cursor node { id channel live current user { username licenseType } } } pageInfo { hasNextPage endCursor } } }";
        let count = |filter: Value| {
            let app = &app;
            let setup = &setup;
            async move { app.ok(Some(&setup.admin), query, json!({ "s": setup.slice, "f": filter })).await["sessions"]["totalCount"].clone() }
        };
        // ada's own session, nina's two, hook's one are live; carl's ended.
        assert_eq!(count(json!(null)).await, 4);
        assert_eq!(count(json!({ "liveOnly": false })).await, 5);
        assert_eq!(count(json!({ "channels": ["WEB"] })).await, 2);
        assert_eq!(count(json!({ "licenseTypes": ["WEB_SERVICES"] })).await, 1);
        assert_eq!(count(json!({ "licenseTypes": ["CONCURRENT"], "liveOnly": false })).await, 1);
        assert_eq!(count(json!({ "userId": "not-an-id" })).await, 0);

        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = app.ok(Some(&setup.admin), query, json!({ "s": setup.slice, "f": { "liveOnly": false }, "first": 2, "after": after })).await;
            for edge in page["sessions"]["edges"].as_array().unwrap() {
                seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
            }
            if page["sessions"]["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["sessions"]["pageInfo"]["endCursor"].clone();
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(seen.len(), 5);
        assert_eq!(unique.len(), 5, "each session appears once");

        let mine = app.ok(Some(&setup.admin), query, json!({ "s": setup.slice, "f": { "channels": ["WEB"], "licenseTypes": ["NAMED"] } })).await;
        let current: Vec<&Value> = mine["sessions"]["edges"].as_array().unwrap().iter().filter(|e| e["node"]["current"] == true).collect();
        assert_eq!(current.len(), 1, "exactly the caller's session is current");
        assert_eq!(current[0]["node"]["user"]["username"], "ada");
    }
}

db_test! {
    config = |config| config.web_idle_timeout = std::time::Duration::from_secs(2);
    async fn two_second_idle_timeout_is_exact(app) {
        setup(&app, "WARN").await;
        let token = login(&app, "nina", "WEB", json!([])).await["token"].as_str().unwrap().to_owned();
        // Each request within the idle timeout moves the deadline even though
        // requests come less than the 60-second throttle apart.
        for _ in 0..5 {
            app.clock.advance(chrono::Duration::milliseconds(1900));
            app.ok(Some(&token), "{ me { id } }", json!({})).await;
        }
        app.clock.advance(chrono::Duration::milliseconds(1999));
        app.ok(Some(&token), "{ me { id } }", json!({})).await;
        app.clock.advance(chrono::Duration::milliseconds(2001));
        let error = app.error(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");
    }
}

db_test! {
    async fn expiry_frees_seat_before_sweep(app) {
        let setup = setup(&app, "WARN").await;
        let nina = login(&app, "nina", "WEB", json!([])).await["token"].as_str().unwrap().to_owned();
        login(&app, "carl", "WEB", json!([])).await;
        let usage = "query($s: ID!) { compliance(sliceId: $s) { concurrent { inUse } } \
            sessions(sliceId: $s) { edges { node { user { username } } } } }";
        let live_usernames = |data: &Value| -> Vec<String> {
            data["sessions"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["user"]["username"].as_str().unwrap().to_owned()).collect()
        };

        // One second before the 30-minute idle timeout, both sessions are live.
        app.clock.advance(chrono::Duration::minutes(30) - chrono::Duration::seconds(1));
        let before = app.ok(Some(&setup.admin), usage, json!({ "s": setup.slice })).await;
        assert_eq!(before["compliance"]["concurrent"]["inUse"], 1);
        assert!(live_usernames(&before).contains(&"nina".to_owned()));
        assert!(live_usernames(&before).contains(&"carl".to_owned()));

        // One second after it, the seat is free and the token refused, before any sweep.
        app.clock.advance(chrono::Duration::seconds(2));
        let after = app.ok(Some(&setup.admin), usage, json!({ "s": setup.slice })).await;
        assert_eq!(after["compliance"]["concurrent"]["inUse"], 0);
        assert!(!live_usernames(&after).contains(&"carl".to_owned()));
        let error = app.error(Some(&nina), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");

        let state = &app.state;
        seatwarden::sessions::sweep_expired(&state.db, state.clock.as_ref(), &state.events).await.unwrap();
        let history = app
            .ok(Some(&setup.admin), "query($s: ID!) { sessions(sliceId: $s, filter: {liveOnly: false, licenseTypes: [CONCURRENT]}) { edges { node { endReason endedAt } } } }", json!({ "s": setup.slice }))
            .await;
        let carl = &history["sessions"]["edges"][0]["node"];
        assert_eq!(carl["endReason"], "EXPIRED");
        assert!(carl["endedAt"].is_string());
    }
}
