//! The `/bench/…` routes that `bench/run` compares with GraphQL: absent
//! unless `bench_routes` is on, and then returning the rows of the GraphQL
//! fields they mirror, with the same token check.

use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const USERS: &str =
    "query($s: ID!) { users(sliceId: $s, first: 50, filter: {licenseTypes: [NAMED]}) { totalCount edges { node { id username } } } }";

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.base_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// Creates slice `acme` with administrator `ada`, NAMED member `bob` and
/// CONCURRENT member `carl`; returns the slice id.
async fn acme(app: &TestApp) -> String {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    app.create_user(&operator, &slice, "bob", "NAMED", "MEMBER").await;
    app.create_user(&operator, &slice, "carl", "CONCURRENT", "MEMBER").await;
    slice
}

db_test! {
    async fn bench_routes_absent_by_default(app) {
        let slice = acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        for path in ["/bench/me/sessions".to_owned(), format!("/bench/users?sliceId={slice}")] {
            let response = get(&app, &path, Some(&admin)).await;
            assert_eq!(response.status(), 404, "{path}");
        }
    }
}

db_test! {
    config = |config| config.bench_routes = true;
    async fn bench_sessions_match_graphql(app) {
        acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        app.login_on(Some("acme"), "ada", PASSWORD, "API").await;

        let response = get(&app, "/bench/me/sessions", Some(&admin)).await;
        assert_eq!(response.status(), 200);
        let bare: Value = response.json().await.unwrap();
        let graphql = app.ok(Some(&admin), "{ me { sessions { id } } }", json!({})).await;
        assert_eq!(bare["sessions"].as_array().map(Vec::len), Some(2), "{bare}");
        assert_eq!(bare["sessions"], graphql["me"]["sessions"]);
    }
}

db_test! {
    config = |config| config.bench_routes = true;
    async fn bench_users_match_graphql(app) {
        let slice = acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;

        let response = get(&app, &format!("/bench/users?sliceId={slice}"), Some(&admin)).await;
        assert_eq!(response.status(), 200);
        let bare: Value = response.json().await.unwrap();
        let graphql = app.ok(Some(&admin), USERS, json!({ "s": slice })).await;
        let nodes: Vec<Value> =
            graphql["users"]["edges"].as_array().unwrap().iter().map(|edge| edge["node"].clone()).collect();
        assert_eq!(bare["totalCount"], 2, "{bare}");
        assert_eq!(bare["totalCount"], graphql["users"]["totalCount"]);
        assert_eq!(bare["nodes"], json!(nodes));
    }
}

db_test! {
    config = |config| config.bench_routes = true;
    async fn bench_routes_check_caller(app) {
        let slice = acme(&app).await;
        let member = app.login(Some("acme"), "bob", PASSWORD).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let users = format!("/bench/users?sliceId={slice}");

        for (path, token, status, expected_code) in [
            ("/bench/me/sessions", None, 401, "UNAUTHENTICATED"),
            ("/bench/me/sessions", Some("not-a-token"), 401, "UNAUTHENTICATED"),
            (users.as_str(), None, 401, "UNAUTHENTICATED"),
            (users.as_str(), Some(member.as_str()), 403, "FORBIDDEN"),
            ("/bench/users?sliceId=not-an-id", Some(admin.as_str()), 404, "NOT_FOUND"),
            ("/bench/users", Some(admin.as_str()), 400, "BAD_USER_INPUT"),
        ] {
            let response = get(&app, path, token).await;
            assert_eq!(response.status(), status, "{path} with {token:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(code(&body["errors"][0]), expected_code, "{path} with {token:?}: {body}");
        }
    }
}
