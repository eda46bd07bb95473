//! Every operation against every kind of caller, with the expected outcome.

use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

/// The callers of the table, in column order.
const CALLERS: [&str; 5] = ["operator", "admin of the slice", "admin of another slice", "member", "anonymous"];

/// Expected outcome: `OK`, or an error code.
const OK: &str = "OK";
const UNAUTH: &str = "UNAUTHENTICATED";
const FORBIDDEN: &str = "FORBIDDEN";
const NOT_FOUND: &str = "NOT_FOUND";

struct World {
    tokens: [Option<String>; 5],
    slice_a: String,
    member_a: String,
    admin_a: String,
    /// Another member of slice A, with a live MOBILE session.
    other_member_a: String,
    /// A MOBILE session of the member, apart from the member's own token.
    member_mobile_session: String,
}

async fn world(app: &TestApp) -> World {
    let operator = app.operator("root").await;
    let slice_a = app.create_slice(&operator, slice_input("alpha")).await;
    let slice_b = app.create_slice(&operator, slice_input("beta")).await;
    let admin_a = app.create_user(&operator, &slice_a, "ada", "NAMED", "ADMIN").await;
    app.create_user(&operator, &slice_b, "bob", "NAMED", "ADMIN").await;
    let member_a = app.create_user(&operator, &slice_a, "mia", "NAMED", "MEMBER").await;
    let other_member_a = app.create_user(&operator, &slice_a, "max", "NAMED", "MEMBER").await;
    app.login_on(Some("alpha"), "max", PASSWORD, "MOBILE").await;
    let mobile = app.login_on(Some("alpha"), "mia", PASSWORD, "MOBILE").await;
    let member_mobile_session =
        app.ok(Some(&mobile), "{ currentSession { id } }", json!({})).await["currentSession"]["id"].as_str().unwrap().to_owned();
    let tokens = [
        Some(operator),
        Some(app.login(Some("alpha"), "ada", PASSWORD).await),
        Some(app.login(Some("beta"), "bob", PASSWORD).await),
        Some(app.login(Some("alpha"), "mia", PASSWORD).await),
        None,
    ];
    World { tokens, slice_a, member_a, admin_a, other_member_a, member_mobile_session }
}

/// Runs one operation as each caller and compares the answers with `expected`.
async fn check(app: &TestApp, world: &World, name: &str, query: &str, variables: impl Fn(usize) -> Value, expected: [&str; 5]) {
    for (index, caller) in CALLERS.iter().enumerate() {
        let body = app.gql(world.tokens[index].as_deref(), query, variables(index)).await;
        let answer = match body["errors"].get(0) {
            Some(error) => code(error).to_owned(),
            None => OK.to_owned(),
        };
        assert_eq!(answer, expected[index], "{name} as {caller}: {body}");
    }
}

db_test! {
    async fn authorization_table(app) {
        let w = world(&app).await;
        let slice = w.slice_a.clone();
        let member = w.member_a.clone();
        let admin = w.admin_a.clone();

        check(&app, &w, "me", "{ me { id } }", |_| json!({}), [OK, OK, OK, OK, UNAUTH]).await;
        check(&app, &w, "currentSession", "{ currentSession { id current } }", |_| json!({}), [OK, OK, OK, OK, UNAUTH]).await;
        check(&app, &w, "slices", "{ slices { totalCount } }", |_| json!({}), [OK, OK, OK, OK, UNAUTH]).await;
        check(&app, &w, "slice", "query($id: ID!) { slice(id: $id) { id } }", |_| json!({ "id": slice }),
            [OK, OK, NOT_FOUND, OK, UNAUTH]).await;
        check(&app, &w, "users", "query($id: ID!) { users(sliceId: $id) { totalCount } }", |_| json!({ "id": slice }),
            [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "user (the member)", "query($id: ID!) { user(id: $id) { id } }", |_| json!({ "id": member }),
            [OK, OK, NOT_FOUND, OK, UNAUTH]).await;
        check(&app, &w, "user (another user of the slice)", "query($id: ID!) { user(id: $id) { id } }",
            |_| json!({ "id": admin }), [OK, OK, NOT_FOUND, NOT_FOUND, UNAUTH]).await;
        check(&app, &w, "createSlice", "mutation($input: CreateSliceInput!) { createSlice(input: $input) { id } }",
            |i| json!({ "input": slice_input(&format!("new-{i}")) }), [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "updateSlice", "mutation($id: ID!) { updateSlice(id: $id, input: {displayName: \"Renamed\"}) { id } }",
            |_| json!({ "id": slice }), [OK, FORBIDDEN, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "createUser", "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            |i| json!({ "input": { "sliceId": slice, "username": format!("new{i}"), "email": format!("new{i}@customer.example"),
                "displayName": "New", "password": PASSWORD, "licenseType": "SELF_SERVICE" } }),
            [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "updateUser", "mutation($id: ID!) { updateUser(id: $id, input: {displayName: \"Mia M.\"}) { id } }",
            |_| json!({ "id": member }), [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "setUserActive", "mutation($id: ID!) { setUserActive(id: $id, active: true) { id } }",
            |_| json!({ "id": member }), [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "sessions", "query($id: ID!) { sessions(sliceId: $id) { totalCount } }", |_| json!({ "id": slice }),
            [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        let session = w.member_mobile_session.clone();
        check(&app, &w, "endSession (the member's own)", "mutation($id: ID!) { endSession(id: $id) { id } }",
            |_| json!({ "id": session }), [OK, OK, NOT_FOUND, OK, UNAUTH]).await;
        let other = w.other_member_a.clone();
        check(&app, &w, "endUserSessions", "mutation($id: ID!) { endUserSessions(userId: $id) }",
            |_| json!({ "id": other }), [OK, OK, NOT_FOUND, NOT_FOUND, UNAUTH]).await;
        check(&app, &w, "unlockUser", "mutation($id: ID!) { unlockUser(id: $id) { id } }",
            |_| json!({ "id": member }), [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "changePassword",
            "mutation { changePassword(currentPassword: \"correct horse battery\", newPassword: \"another long password\") }",
            |_| json!({}), [OK, OK, OK, OK, UNAUTH]).await;
        check(&app, &w, "compliance", "query($id: ID!) { compliance(sliceId: $id) { version } }", |_| json!({ "id": slice }),
            [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "complianceEvents", "query($id: ID!) { complianceEvents(sliceId: $id) { totalCount } }",
            |_| json!({ "id": slice }), [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "subscriptionCenter",
            "query($id: ID!) { subscriptionCenter(sliceId: $id) { daysUntilRenewal usage(from: \"2026-03-01\", to: \"2026-03-02\") { date } } }",
            |_| json!({ "id": slice }), [OK, OK, NOT_FOUND, FORBIDDEN, UNAUTH]).await;
        check(&app, &w, "login", "mutation { login(input: {slice: \"alpha\", username: \"mia\", password: \"wrong password\"}) { __typename } }",
            |_| json!({}), [OK, OK, OK, OK, OK]).await;
        check(&app, &w, "logout", "mutation { logout }", |_| json!({}), [OK, OK, OK, OK, UNAUTH]).await;
    }
}

db_test! {
    async fn slices_list_is_scoped(app) {
        let w = world(&app).await;
        let count = |token: Option<String>| {
            let app = &app;
            async move { app.ok(token.as_deref(), "{ slices { totalCount edges { node { name } } } }", json!({})).await }
        };
        let operator = count(w.tokens[0].clone()).await;
        assert_eq!(operator["slices"]["totalCount"], 2);
        let admin = count(w.tokens[1].clone()).await;
        assert_eq!(admin["slices"]["totalCount"], 1);
        assert_eq!(admin["slices"]["edges"][0]["node"]["name"], "alpha");
        let member = count(w.tokens[3].clone()).await;
        assert_eq!(member["slices"]["edges"][0]["node"]["name"], "alpha");
    }
}

db_test! {
    async fn missing_foreign_and_malformed_ids_answer_alike(app) {
        let w = world(&app).await;
        let admin_b = w.tokens[2].clone().unwrap();
        let missing = uuid::Uuid::new_v4().to_string();
        let operations = [
            "query($id: ID!) { slice(id: $id) { id } }",
            "query($id: ID!) { user(id: $id) { id } }",
            "query($id: ID!) { users(sliceId: $id) { totalCount } }",
            "mutation($id: ID!) { updateSlice(id: $id, input: {displayName: \"X\"}) { id } }",
            "mutation($id: ID!) { updateUser(id: $id, input: {displayName: \"X\"}) { id } }",
            "mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }",
            "mutation($id: ID!) { createUser(input: {sliceId: $id, username: \"x1\", email: \"x1@customer.example\", displayName: \"X\", password: \"long enough\", licenseType: NAMED}) { id } }",
            "query($id: ID!) { sessions(sliceId: $id) { totalCount } }",
            "query($id: ID!) { compliance(sliceId: $id) { version } }",
            "query($id: ID!) { complianceEvents(sliceId: $id) { totalCount } }",
            "query($id: ID!) { subscriptionCenter(sliceId: $id) { renewalDate } }",
            "mutation($id: ID!) { endSession(id: $id) { id } }",
            "mutation($id: ID!) { endUserSessions(userId: $id) }",
            "mutation($id: ID!) { unlockUser(id: $id) { id } }",
        ];
        for operation in operations {
            // The foreign id is one the caller (an administrator of beta) may not see:
            // alpha's slice, alpha's member, or a session of alpha's member.
            let about_user = ["updateUser", "setUserActive", "user(id", "endUserSessions", "unlockUser"]
                .iter()
                .any(|name| operation.contains(name));
            let foreign = if operation.contains("endSession(") {
                &w.member_mobile_session
            } else if about_user {
                &w.member_a
            } else {
                &w.slice_a
            };
            let mut answers = Vec::new();
            for id in [missing.as_str(), foreign.as_str(), "not-an-id", ""] {
                let body = app.gql(Some(&admin_b), operation, json!({ "id": id })).await;
                let mut error = body["errors"][0].clone();
                assert!(error.is_object(), "{operation} with id {id:?} did not fail: {body}");
                error.as_object_mut().unwrap().remove("locations");
                answers.push((id.to_owned(), body["data"].clone(), error));
            }
            let (_, first_data, first_error) = &answers[0];
            assert_eq!(code(first_error), NOT_FOUND, "{operation}: {first_error}");
            for (id, data, error) in &answers[1..] {
                assert_eq!(error, first_error, "{operation} with id {id:?} answered differently");
                assert_eq!(data, first_data, "{operation} with id {id:?} returned other data");
            }
        }
    }
}
