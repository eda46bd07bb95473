//! Login, tokens, logout and session deadlines.

use chrono::Duration;
use serde_json::json;

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename \
    ... on LoginSuccess { token warnings { code } session { id channel live current user { username lastLoginAt } } } \
    ... on LoginRejected { reason message } } }";

async fn login_result(app: &TestApp, slice: Option<&str>, username: &str, password: &str, channel: &str) -> serde_json::Value {
    let data = app
        .ok(None, LOGIN, json!({ "input": { "slice": slice, "username": username, "password": password, "channel": channel } }))
        .await;
    data["login"].clone()
}

/// An operator, a slice `acme` and one user of each license type.
async fn setup(app: &TestApp) -> (String, String) {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    for (username, license_type) in [("nina", "NAMED"), ("carl", "CONCURRENT"), ("sue", "SELF_SERVICE"), ("hook", "WEB_SERVICES")] {
        app.create_user(&operator, &slice, username, license_type, "MEMBER").await;
    }
    (operator, slice)
}

db_test! {
    async fn login_succeeds_and_records_last_login(app) {
        setup(&app).await;
        let result = login_result(&app, Some("acme"), "nina", PASSWORD, "WEB").await;
        assert_eq!(result["__typename"], "LoginSuccess");
        assert_eq!(result["session"]["channel"], "WEB");
        assert_eq!(result["session"]["live"], true);
        assert_eq!(result["session"]["current"], false, "the new session did not send this request");
        assert_eq!(result["warnings"], json!([]));
        let last_login = result["session"]["user"]["lastLoginAt"].as_str().unwrap();
        assert_eq!(chrono::DateTime::parse_from_rfc3339(last_login).unwrap(), app.now());

        let token = result["token"].as_str().unwrap();
        assert!(token.len() >= 43, "a 256-bit token is at least 43 base64 characters");
        let me = app.ok(Some(token), "{ me { username } currentSession { current } }", json!({})).await;
        assert_eq!(me["me"]["username"], "nina");
        assert_eq!(me["currentSession"]["current"], true);
    }
}

db_test! {
    async fn login_matches_names_regardless_of_case(app) {
        setup(&app).await;
        let token = app.login(Some("ACME"), "NiNa", PASSWORD).await;
        let me = app.ok(Some(&token), "{ me { username } }", json!({})).await;
        assert_eq!(me["me"]["username"], "nina");
    }
}

db_test! {
    async fn login_rejects_bad_credentials_alike(app) {
        setup(&app).await;
        let wrong_password = login_result(&app, Some("acme"), "nina", "wrong password", "WEB").await;
        let unknown_user = login_result(&app, Some("acme"), "nobody", PASSWORD, "WEB").await;
        let unknown_slice = login_result(&app, Some("nowhere"), "nina", PASSWORD, "WEB").await;
        let user_as_operator = login_result(&app, None, "nina", PASSWORD, "WEB").await;
        for result in [&wrong_password, &unknown_user, &unknown_slice, &user_as_operator] {
            assert_eq!(result["__typename"], "LoginRejected");
            assert_eq!(result["reason"], "INVALID_CREDENTIALS");
        }
        assert_eq!(wrong_password, unknown_user, "an unknown user must be indistinguishable from a wrong password");
    }
}

db_test! {
    async fn inactive_user_is_told_only_after_correct_password(app) {
        let (operator, _) = setup(&app).await;
        let nina = app.ok(Some(&operator), "{ slices { edges { node { id } } } }", json!({})).await;
        let slice_id = nina["slices"]["edges"][0]["node"]["id"].as_str().unwrap().to_owned();
        let users = app
            .ok(Some(&operator), "query($id: ID!) { users(sliceId: $id, filter: {search: \"nina\"}) { edges { node { id } } } }", json!({ "id": slice_id }))
            .await;
        let nina_id = users["users"]["edges"][0]["node"]["id"].as_str().unwrap().to_owned();
        app.ok(Some(&operator), "mutation($id: ID!) { setUserActive(id: $id, active: false) { active } }", json!({ "id": nina_id }))
            .await;

        let correct = login_result(&app, Some("acme"), "nina", PASSWORD, "WEB").await;
        assert_eq!(correct["reason"], "USER_INACTIVE");
        let wrong = login_result(&app, Some("acme"), "nina", "wrong password", "WEB").await;
        assert_eq!(wrong["reason"], "INVALID_CREDENTIALS");
    }
}

db_test! {
    async fn web_services_log_in_on_api_only(app) {
        setup(&app).await;
        for channel in ["WEB", "MOBILE"] {
            let result = login_result(&app, Some("acme"), "hook", PASSWORD, channel).await;
            assert_eq!(result["reason"], "CHANNEL_NOT_ALLOWED", "channel {channel}");
        }
        let result = login_result(&app, Some("acme"), "hook", PASSWORD, "API").await;
        assert_eq!(result["__typename"], "LoginSuccess");
        assert_eq!(result["session"]["channel"], "API");
    }
}

db_test! {
    async fn operator_logs_in_with_null_or_empty_slice(app) {
        app.operator("root").await;
        for slice in [None, Some("")] {
            let result = login_result(&app, slice, "ROOT", PASSWORD, "WEB").await;
            assert_eq!(result["__typename"], "LoginSuccess", "slice {slice:?}");
        }
    }
}

db_test! {
    async fn malformed_login_input_is_bad_user_input(app) {
        setup(&app).await;
        for (username, password, field) in [("  ", PASSWORD, "input.username"), ("nina", "", "input.password")] {
            let error = app
                .error(None, LOGIN, json!({ "input": { "slice": "acme", "username": username, "password": password } }))
                .await;
            assert_eq!(code(&error), "BAD_USER_INPUT");
            assert_eq!(error["extensions"]["field"], field);
        }
    }
}

db_test! {
    async fn logout_ends_the_token(app) {
        setup(&app).await;
        let token = app.login(Some("acme"), "nina", PASSWORD).await;
        let data = app.ok(Some(&token), "mutation { logout }", json!({})).await;
        assert_eq!(data["logout"], true);
        let error = app.error(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");
        let sessions = app.login(Some("acme"), "nina", PASSWORD).await;
        let data = app
            .ok(Some(&sessions), "{ me { sessions(liveOnly: false) { endReason live } } }", json!({}))
            .await;
        let ended: Vec<_> = data["me"]["sessions"].as_array().unwrap().iter().filter(|s| s["live"] == false).collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0]["endReason"], "LOGOUT");
    }
}

db_test! {
    async fn unknown_and_malformed_tokens_are_unauthenticated(app) {
        for header in ["Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "] {
            let response = app
                .client
                .post(format!("{}/graphql", app.base_url))
                .header("Authorization", header)
                .json(&json!({ "query": "{ me { id } }" }))
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(code(&body["errors"][0]), "UNAUTHENTICATED", "header {header:?}: {body}");
        }
    }
}

db_test! {
    async fn idle_session_expires_and_activity_extends_it(app) {
        setup(&app).await;
        let token = app.login(Some("acme"), "nina", PASSWORD).await;
        // WEB idle timeout is 30 minutes: activity at 20 minutes moves the deadline.
        app.clock.advance(Duration::minutes(20));
        app.ok(Some(&token), "{ me { id } }", json!({})).await;
        app.clock.advance(Duration::minutes(20));
        app.ok(Some(&token), "{ me { id } }", json!({})).await;
        app.clock.advance(Duration::minutes(31));
        let error = app.error(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");
    }
}

db_test! {
    async fn session_ends_at_absolute_lifetime(app) {
        setup(&app).await;
        let token = app.login(Some("acme"), "nina", PASSWORD).await;
        // Activity every 20 minutes keeps the idle deadline ahead, but not past 12 hours.
        for _ in 0..35 {
            app.clock.advance(Duration::minutes(20));
            app.ok(Some(&token), "{ me { id } }", json!({})).await;
        }
        app.clock.advance(Duration::minutes(21));
        let error = app.error(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED");
    }
}
