//! Account lockout after failed logins, and the per-address limit.

use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename ... on LoginRejected { reason message } } }";

async fn attempt(app: &TestApp, slice: &str, username: &str, password: &str) -> Value {
    let input = json!({ "slice": slice, "username": username, "password": password });
    app.ok(None, LOGIN, json!({ "input": input })).await["login"].clone()
}

fn outcome(result: &Value) -> String {
    match result["reason"].as_str() {
        Some(reason) => reason.to_owned(),
        None => result["__typename"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Returns the operator's token, the slice id and nina's user id.
async fn setup(app: &TestApp) -> (String, String, String) {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    let nina = app.create_user(&operator, &slice, "nina", "NAMED", "MEMBER").await;
    (operator, slice, nina)
}

db_test! {
    async fn five_failures_lock_the_account(app) {
        let (_, _, nina) = setup(&app).await;
        for attempt_number in 1..=5 {
            let result = attempt(&app, "acme", "nina", "wrong password").await;
            assert_eq!(outcome(&result), "INVALID_CREDENTIALS", "attempt {attempt_number}");
        }
        let locked = attempt(&app, "acme", "nina", PASSWORD).await;
        assert_eq!(outcome(&locked), "ACCOUNT_LOCKED", "the right password is rejected while locked");

        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let user = app.ok(Some(&admin), "query($id: ID!) { user(id: $id) { lockedUntil } }", json!({ "id": nina })).await;
        let until = chrono::DateTime::parse_from_rfc3339(user["user"]["lockedUntil"].as_str().unwrap()).unwrap();
        assert_eq!(until, app.now() + Duration::minutes(15));

        app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess", "the lock expires");
        let user = app.ok(Some(&admin), "query($id: ID!) { user(id: $id) { lockedUntil } }", json!({ "id": nina })).await;
        assert!(user["user"]["lockedUntil"].is_null());
    }
}

db_test! {
    async fn failures_outside_window_do_not_lock(app) {
        setup(&app).await;
        for _ in 0..4 {
            attempt(&app, "acme", "nina", "wrong password").await;
        }
        app.clock.advance(Duration::minutes(16));
        for _ in 0..4 {
            attempt(&app, "acme", "nina", "wrong password").await;
        }
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess");
    }
}

db_test! {
    async fn success_resets_the_count(app) {
        setup(&app).await;
        for _ in 0..4 {
            attempt(&app, "acme", "nina", "wrong password").await;
        }
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess");
        for _ in 0..4 {
            attempt(&app, "acme", "nina", "wrong password").await;
        }
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess");
    }
}

db_test! {
    async fn unknown_username_locks_alike(app) {
        setup(&app).await;
        for _ in 0..5 {
            assert_eq!(outcome(&attempt(&app, "acme", "ghost", "wrong password").await), "INVALID_CREDENTIALS");
        }
        assert_eq!(outcome(&attempt(&app, "acme", "ghost", "wrong password").await), "ACCOUNT_LOCKED");
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess", "other accounts are unaffected");
    }
}

db_test! {
    async fn admin_unlocks_a_user(app) {
        let (operator, _, nina) = setup(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        for _ in 0..5 {
            attempt(&app, "ACME", "NINA", "wrong password").await;
        }
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "ACCOUNT_LOCKED", "names match regardless of case");

        let query = "mutation($id: ID!) { unlockUser(id: $id) { username lockedUntil } }";
        let unlocked = app.ok(Some(&admin), query, json!({ "id": nina })).await;
        assert!(unlocked["unlockUser"]["lockedUntil"].is_null());
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess");
        let nina_token = app.login_on(Some("acme"), "nina", PASSWORD, "MOBILE").await;
        let error = app.error(Some(&nina_token), query, json!({ "id": nina })).await;
        assert_eq!(code(&error), "FORBIDDEN", "a member cannot unlock");
        app.ok(Some(&operator), query, json!({ "id": nina })).await;
    }
}

db_test! {
    config = |config| config.address_failure_limit = 8;
    async fn address_limit_spans_accounts(app) {
        setup(&app).await;
        for index in 0..8 {
            let result = attempt(&app, "acme", &format!("guess{index}"), "wrong password").await;
            assert_eq!(outcome(&result), "INVALID_CREDENTIALS", "attempt {index}");
        }
        let blocked = attempt(&app, "acme", "nina", PASSWORD).await;
        assert_eq!(outcome(&blocked), "TOO_MANY_ATTEMPTS", "the address is limited across accounts");
        app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "LoginSuccess");
    }
}

db_test! {
    async fn wrong_current_passwords_lock(app) {
        setup(&app).await;
        let token = app.login_on(Some("acme"), "nina", PASSWORD, "API").await;
        let query = "mutation($old: String!) { changePassword(currentPassword: $old, newPassword: \"a brand new password\") }";
        for attempt_number in 1..=5 {
            let error = app.error(Some(&token), query, json!({ "old": "wrong password" })).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "attempt {attempt_number}");
        }
        let error = app.error(Some(&token), query, json!({ "old": PASSWORD })).await;
        assert_eq!(code(&error), "FORBIDDEN", "the right password is refused while locked");
        assert_eq!(outcome(&attempt(&app, "acme", "nina", PASSWORD).await), "ACCOUNT_LOCKED", "logins are locked too");
    }
}
