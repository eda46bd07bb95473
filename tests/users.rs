//! Creating, changing, inactivating and listing slice users: input checks,
//! session ends, filters, orderings and pagination.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, code, slice_input},
};

const CREATE_USER: &str = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }";

const USER_FIELDS: &str = "id username email displayName licenseType role active lastLoginAt createdAt";

const USER_LIST: &str = "query($slice: ID!, $filter: UserFilter, $orderBy: UserOrder, $first: Int, $after: String) { \
    users(sliceId: $slice, filter: $filter, orderBy: $orderBy, first: $first, after: $after) { totalCount \
    pageInfo { hasNextPage hasPreviousPage endCursor } \
    edges { cursor node { id username lastLoginAt createdAt } } } }";

const SESSIONS: &str = "query($id: ID!) { user(id: $id) { sessions(liveOnly: false) { live endReason } } }";

const SET_ACTIVE: &str = "mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { active } }";

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename \
    ... on LoginRejected { reason } } }";

/// Returns `base` with the fields of `overrides` replaced.
fn with(base: Value, overrides: Value) -> Value {
    let mut merged = base;
    for (key, value) in overrides.as_object().unwrap() {
        merged[key] = value.clone();
    }
    merged
}

/// Builds a valid createUser input for `slice_id`.
fn user_input(slice_id: &str, username: &str) -> Value {
    json!({
        "sliceId": slice_id, "username": username, "email": format!("{username}@customer.example"),
        "displayName": format!("{username} display"), "password": PASSWORD, "licenseType": "NAMED", "role": "MEMBER"
    })
}

/// Loads the stored fields of a user through the API, authorized by `token`.
async fn load_user(app: &TestApp, token: &str, id: &str) -> Value {
    let query = format!("query($id: ID!) {{ user(id: $id) {{ {USER_FIELDS} }} }}");
    app.ok(Some(token), &query, json!({ "id": id })).await["user"].clone()
}

/// Sends an updateUser and returns the whole response body.
async fn update_user(app: &TestApp, token: &str, id: &str, input: Value) -> Value {
    let query = format!("mutation($id: ID!, $input: UpdateUserInput!) {{ updateUser(id: $id, input: $input) {{ {USER_FIELDS} }} }}");
    app.gql(Some(token), &query, json!({ "id": id, "input": input })).await
}

async fn user_count(app: &TestApp, token: &str, slice_id: &str) -> i64 {
    let data = app.ok(Some(token), "query($id: ID!) { users(sliceId: $id) { totalCount } }", json!({ "id": slice_id })).await;
    data["users"]["totalCount"].as_i64().unwrap()
}

/// Returns the `live` flag and `endReason` of every session of a user, newest first.
async fn sessions_of(app: &TestApp, operator: &str, user_id: &str) -> Vec<(bool, Value)> {
    let data = app.ok(Some(operator), SESSIONS, json!({ "id": user_id })).await;
    data["user"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| (session["live"].as_bool().unwrap(), session["endReason"].clone()))
        .collect()
}

/// Tells whether a token still authenticates its caller.
async fn token_works(app: &TestApp, token: &str) -> bool {
    let body = app.gql(Some(token), "{ me { id } }", json!({})).await;
    match body["errors"].get(0) {
        None => true,
        Some(error) => {
            assert_eq!(code(error), "UNAUTHENTICATED", "unexpected error: {body}");
            false
        }
    }
}

/// An operator and a slice `acme` with an administrator `ada` and a member `mia`.
struct Acme {
    operator: String,
    slice: String,
    ada: String,
    mia: String,
}

async fn set_up_acme(app: &TestApp) -> Acme {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    let ada = app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    let mia = app.create_user(&operator, &slice, "mia", "NAMED", "MEMBER").await;
    Acme { operator, slice, ada, mia }
}

db_test! {
    async fn create_user_rejects_bad_input(app) {
        let acme = set_up_acme(&app).await;
        let desk_input = with(slice_input("desk"), json!({ "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 0 }));
        let desk = app.create_slice(&acme.operator, desk_input).await;

        let cases = [
            ("blank username", json!({ "username": "   " }), "input.username"),
            ("username with a space", json!({ "username": "new user" }), "input.username"),
            ("username of 65 characters", json!({ "username": "u".repeat(65) }), "input.username"),
            ("blank email", json!({ "email": "  " }), "input.email"),
            ("email without @", json!({ "email": "newbie.customer.example" }), "input.email"),
            ("email without domain", json!({ "email": "newbie@" }), "input.email"),
            ("email without local part", json!({ "email": "@customer.example" }), "input.email"),
            ("email with a dotless domain", json!({ "email": "newbie@customer" }), "input.email"),
            ("email with two @", json!({ "email": "newbie@@customer.example" }), "input.email"),
            ("email with a space", json!({ "email": "new bie@customer.example" }), "input.email"),
            ("blank displayName", json!({ "displayName": " " }), "input.displayName"),
            ("password of 7 characters", json!({ "password": "1234567" }), "input.password"),
            ("empty password", json!({ "password": "" }), "input.password"),
            ("role OPERATOR", json!({ "role": "OPERATOR" }), "input.role"),
            ("existing username in other case", json!({ "username": "ADA" }), "input.username"),
        ];
        for (case, overrides, field) in cases {
            let input = with(user_input(&acme.slice, "newbie"), overrides);
            let error = app.error(Some(&acme.operator), CREATE_USER, json!({ "input": input })).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{case}: {error}");
            assert_eq!(user_count(&app, &acme.operator, &acme.slice).await, 2, "{case}: a rejected createUser must not store a user");
        }

        let input = with(user_input(&desk, "carl"), json!({ "licenseType": "CONCURRENT" }));
        let error = app.error(Some(&acme.operator), CREATE_USER, json!({ "input": input })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "CONCURRENT in SERVICE_DESK: {error}");
        assert_eq!(error["extensions"]["field"], "input.licenseType", "CONCURRENT in SERVICE_DESK: {error}");
        assert_eq!(user_count(&app, &acme.operator, &desk).await, 0, "a rejected createUser must not store a user");
    }
}

db_test! {
    async fn create_user_allows_name_across_slices(app) {
        let acme = set_up_acme(&app).await;
        let globex = app.create_slice(&acme.operator, slice_input("globex")).await;

        let input = with(user_input(&globex, "Ada"), json!({ "role": "ADMIN" }));
        let data = app.ok(Some(&acme.operator), CREATE_USER, json!({ "input": input })).await;
        assert!(data["createUser"]["id"].is_string(), "{data}");
        assert_eq!(user_count(&app, &acme.operator, &globex).await, 1);
        assert_eq!(user_count(&app, &acme.operator, &acme.slice).await, 2);

        // Each `Ada` logs in to her own slice with her own account.
        let acme_token = app.login(Some("acme"), "ada", PASSWORD).await;
        let globex_token = app.login(Some("globex"), "ada", PASSWORD).await;
        let acme_me = app.ok(Some(&acme_token), "{ me { id } }", json!({})).await;
        let globex_me = app.ok(Some(&globex_token), "{ me { id } }", json!({})).await;
        assert_eq!(acme_me["me"]["id"], acme.ada.as_str());
        assert_ne!(globex_me["me"]["id"], acme.ada.as_str(), "the globex login must reach the globex account");
    }
}

db_test! {
    async fn create_user_as_slice_admin(app) {
        let acme = set_up_acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let input = with(user_input(&acme.slice, "newbie"), json!({ "role": "ADMIN", "licenseType": "CONCURRENT" }));
        let data = app.ok(Some(&admin), CREATE_USER, json!({ "input": input })).await;
        let id = data["createUser"]["id"].as_str().unwrap();
        let created = load_user(&app, &admin, id).await;
        assert_eq!(created["username"], "newbie");
        assert_eq!(created["role"], "ADMIN");
        assert_eq!(created["licenseType"], "CONCURRENT");
        assert_eq!(created["active"], true);
        assert_eq!(created["lastLoginAt"], Value::Null);
    }
}

db_test! {
    async fn update_user_keeps_omitted_fields(app) {
        let acme = set_up_acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let before = load_user(&app, &acme.operator, &acme.mia).await;

        let body = update_user(&app, &admin, &acme.mia, json!({ "displayName": "Mia M." })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let expected = with(before, json!({ "displayName": "Mia M." }));
        assert_eq!(body["data"]["updateUser"], expected, "only displayName may change");
        assert_eq!(load_user(&app, &acme.operator, &acme.mia).await, expected, "the stored user differs from the returned one");

        let body = update_user(&app, &admin, &acme.mia, json!({ "email": "mia@other.example" })).await;
        let expected = with(expected, json!({ "email": "mia@other.example" }));
        assert_eq!(body["data"]["updateUser"], expected, "only email may change");

        let body = update_user(&app, &admin, &acme.mia, json!({ "role": "ADMIN" })).await;
        let expected = with(expected, json!({ "role": "ADMIN" }));
        assert_eq!(body["data"]["updateUser"], expected, "an administrator may promote another user");

        let body = update_user(&app, &admin, &acme.mia, json!({})).await;
        assert_eq!(body["data"]["updateUser"], expected, "an empty input must change nothing");
    }
}

db_test! {
    async fn update_user_rejects_bad_values(app) {
        let acme = set_up_acme(&app).await;
        let desk_input = with(slice_input("desk"), json!({ "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 0 }));
        let desk = app.create_slice(&acme.operator, desk_input).await;
        let desk_user = app.create_user(&acme.operator, &desk, "dora", "NAMED", "MEMBER").await;
        let before = load_user(&app, &acme.operator, &acme.mia).await;

        let cases = [
            ("null email", json!({ "email": null }), "input.email"),
            ("null displayName", json!({ "displayName": null }), "input.displayName"),
            ("null licenseType", json!({ "licenseType": null }), "input.licenseType"),
            ("null role", json!({ "role": null }), "input.role"),
            ("malformed email", json!({ "email": "mia@customer" }), "input.email"),
            ("blank displayName", json!({ "displayName": "  " }), "input.displayName"),
            ("role OPERATOR", json!({ "role": "OPERATOR" }), "input.role"),
            ("null next to a good value", json!({ "displayName": "Changed", "role": null }), "input.role"),
        ];
        for (case, input, field) in cases {
            let body = update_user(&app, &acme.operator, &acme.mia, input).await;
            let error = &body["errors"][0];
            assert_eq!(code(error), "BAD_USER_INPUT", "{case}: {body}");
            assert_eq!(error["extensions"]["field"], field, "{case}: {body}");
            assert_eq!(load_user(&app, &acme.operator, &acme.mia).await, before, "{case}: a rejected update must change nothing");
        }

        let desk_before = load_user(&app, &acme.operator, &desk_user).await;
        let body = update_user(&app, &acme.operator, &desk_user, json!({ "licenseType": "CONCURRENT" })).await;
        let error = &body["errors"][0];
        assert_eq!(code(error), "BAD_USER_INPUT", "CONCURRENT in SERVICE_DESK: {body}");
        assert_eq!(error["extensions"]["field"], "input.licenseType", "CONCURRENT in SERVICE_DESK: {body}");
        assert_eq!(load_user(&app, &acme.operator, &desk_user).await, desk_before, "a rejected update must change nothing");
    }
}

db_test! {
    async fn admin_cannot_change_own_role(app) {
        let acme = set_up_acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let before = load_user(&app, &acme.operator, &acme.ada).await;

        let body = update_user(&app, &admin, &acme.ada, json!({ "role": "MEMBER" })).await;
        let error = &body["errors"][0];
        assert_eq!(code(error), "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], "input.role", "{body}");
        assert_eq!(load_user(&app, &acme.operator, &acme.ada).await, before, "a rejected update must change nothing");

        let body = update_user(&app, &admin, &acme.ada, json!({ "displayName": "Ada L." })).await;
        assert!(body.get("errors").is_none(), "an administrator may change their own display name: {body}");

        let body = update_user(&app, &acme.operator, &acme.ada, json!({ "role": "MEMBER" })).await;
        assert!(body.get("errors").is_none(), "an operator may change the administrator's role: {body}");
        assert_eq!(body["data"]["updateUser"]["role"], "MEMBER");
    }
}

db_test! {
    async fn license_change_ends_sessions(app) {
        let acme = set_up_acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let web = app.login(Some("acme"), "mia", PASSWORD).await;
        let mobile = app.login_on(Some("acme"), "mia", PASSWORD, "MOBILE").await;

        let body = update_user(&app, &admin, &acme.mia, json!({ "displayName": "Mia M." })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let body = update_user(&app, &admin, &acme.mia, json!({ "licenseType": "NAMED" })).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(sessions_of(&app, &acme.operator, &acme.mia).await, [(true, Value::Null), (true, Value::Null)],
            "a display name change or an unchanged license type must end no session");
        assert!(token_works(&app, &web).await, "the WEB token must still work");
        assert!(token_works(&app, &mobile).await, "the MOBILE token must still work");

        let body = update_user(&app, &admin, &acme.mia, json!({ "licenseType": "SELF_SERVICE" })).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["updateUser"]["licenseType"], "SELF_SERVICE");
        let ended = json!("LICENSE_CHANGED");
        assert_eq!(sessions_of(&app, &acme.operator, &acme.mia).await, [(false, ended.clone()), (false, ended)]);
        assert!(!token_works(&app, &web).await, "the WEB token must be UNAUTHENTICATED after the license change");
        assert!(!token_works(&app, &mobile).await, "the MOBILE token must be UNAUTHENTICATED after the license change");
        assert!(token_works(&app, &admin).await, "the administrator's own session must go on");

        let again = app.login(Some("acme"), "mia", PASSWORD).await;
        assert!(token_works(&app, &again).await, "the user may log in again under the new license");
    }
}

db_test! {
    async fn inactivation_ends_sessions_until_reactivated(app) {
        let acme = set_up_acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;
        let token = app.login(Some("acme"), "mia", PASSWORD).await;

        let data = app.ok(Some(&admin), SET_ACTIVE, json!({ "id": acme.mia, "active": false })).await;
        assert_eq!(data["setUserActive"]["active"], false);
        assert_eq!(sessions_of(&app, &acme.operator, &acme.mia).await, [(false, json!("USER_INACTIVATED"))]);
        assert!(!token_works(&app, &token).await, "the inactivated user's token must be UNAUTHENTICATED");

        let login = json!({ "input": { "slice": "acme", "username": "mia", "password": PASSWORD } });
        let rejected = app.ok(None, LOGIN, login.clone()).await;
        assert_eq!(rejected["login"]["__typename"], "LoginRejected");
        assert_eq!(rejected["login"]["reason"], "USER_INACTIVE");

        let data = app.ok(Some(&admin), SET_ACTIVE, json!({ "id": acme.mia, "active": true })).await;
        assert_eq!(data["setUserActive"]["active"], true);
        let accepted = app.ok(None, LOGIN, login).await;
        assert_eq!(accepted["login"]["__typename"], "LoginSuccess", "a reactivated user may log in");
    }
}

db_test! {
    async fn admin_cannot_inactivate_self(app) {
        let acme = set_up_acme(&app).await;
        let admin = app.login(Some("acme"), "ada", PASSWORD).await;

        let error = app.error(Some(&admin), SET_ACTIVE, json!({ "id": acme.ada, "active": false })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], "active", "{error}");
        assert!(token_works(&app, &admin).await, "the administrator's session must go on");
        assert_eq!(load_user(&app, &acme.operator, &acme.ada).await["active"], true);

        let data = app.ok(Some(&admin), SET_ACTIVE, json!({ "id": acme.ada, "active": true })).await;
        assert_eq!(data["setUserActive"]["active"], true, "activating oneself again is a harmless no-op");
    }
}

/// Users of the listing tests: username, email, display name, license type, role.
const ACME_USERS: [(&str, &str, &str, &str, &str); 7] = [
    ("ada", "ada@customer.example", "Ada Admin", "NAMED", "ADMIN"),
    ("Bruno", "bruno@Mail.Example", "Bruno B", "CONCURRENT", "MEMBER"),
    ("carla", "carla@customer.example", "Carla Zeta", "SELF_SERVICE", "MEMBER"),
    ("dmitri", "dmitri@customer.example", "Dmitri D", "WEB_SERVICES", "MEMBER"),
    ("eve", "eve@customer.example", "Eve Evans", "NAMED", "ADMIN"),
    ("felix", "felix@customer.example", "Felix F", "NAMED", "MEMBER"),
    ("gus", "gus@customer.example", "Gus G", "CONCURRENT", "MEMBER"),
];

/// Slice `acme` with the users of [`ACME_USERS`], created and logged in at
/// these instants (T is the harness's start time):
///
/// | user   | created  | last login           |
/// |--------|----------|----------------------|
/// | ada    | T        | T+1h                 |
/// | Bruno  | T        | T+1h (same as ada)   |
/// | carla  | T+1m     | T+2h                 |
/// | dmitri | T+2m     | T+3h                 |
/// | eve    | T+2m     | T+3h (same as dmitri)|
/// | felix  | T+2m     | never, inactive      |
/// | gus    | T+3m     | never                |
///
/// Slice `globex` contains users that match several of the filters too.
struct Listing {
    operator: String,
    acme: String,
    start: DateTime<Utc>,
}

async fn set_up_listing(app: &TestApp) -> Listing {
    let start = app.now();
    let operator = app.operator("root").await;
    let acme = app.create_slice(&operator, slice_input("acme")).await;
    let globex = app.create_slice(&operator, slice_input("globex")).await;

    let mut ids = Vec::new();
    for (index, (username, email, display_name, license_type, role)) in ACME_USERS.into_iter().enumerate() {
        if matches!(index, 2 | 3 | 6) {
            app.clock.advance(Duration::minutes(1));
        }
        let input = json!({
            "sliceId": acme, "username": username, "email": email, "displayName": display_name,
            "password": PASSWORD, "licenseType": license_type, "role": role
        });
        let data = app.ok(Some(&operator), CREATE_USER, json!({ "input": input })).await;
        ids.push(data["createUser"]["id"].as_str().unwrap().to_owned());
    }
    for (username, email) in [("ada", "ada@customer.example"), ("zed", "zed@mail.example")] {
        let input = with(user_input(&globex, username), json!({ "email": email }));
        app.ok(Some(&operator), CREATE_USER, json!({ "input": input })).await;
    }
    app.login(Some("globex"), "zed", PASSWORD).await;

    app.clock.set(start + Duration::hours(1));
    app.login(Some("acme"), "ada", PASSWORD).await;
    app.login(Some("acme"), "bruno", PASSWORD).await;
    app.clock.set(start + Duration::hours(2));
    app.login(Some("acme"), "carla", PASSWORD).await;
    app.clock.set(start + Duration::hours(3));
    app.login_on(Some("acme"), "dmitri", PASSWORD, "API").await;
    app.login(Some("acme"), "eve", PASSWORD).await;
    app.clock.set(start + Duration::hours(4));
    // The operator's WEB session from T has passed its idle timeout by now.
    let operator = app.login(None, "root", PASSWORD).await;
    app.ok(Some(&operator), SET_ACTIVE, json!({ "id": ids[5], "active": false })).await;

    Listing { operator, acme, start }
}

/// Lists the users of a slice matching `filter` in one page, in username order.
async fn filtered_usernames(app: &TestApp, listing: &Listing, filter: Value) -> Vec<String> {
    let variables = json!({ "slice": listing.acme, "filter": filter, "first": 100 });
    let data = app.ok(Some(&listing.operator), USER_LIST, variables).await;
    let connection = &data["users"];
    let names = usernames_of(connection);
    assert_eq!(connection["totalCount"], names.len(), "totalCount for filter {filter}");
    names
}

fn usernames_of(connection: &Value) -> Vec<String> {
    connection["edges"].as_array().unwrap().iter().map(|edge| edge["node"]["username"].as_str().unwrap().to_owned()).collect()
}

db_test! {
    async fn users_filter_by_each_field(app) {
        let listing = set_up_listing(&app).await;
        let everyone = ["ada", "Bruno", "carla", "dmitri", "eve", "felix", "gus"];
        let t2 = (listing.start + Duration::hours(2)).to_rfc3339();

        let cases = [
            ("no filter", json!(null), everyone.to_vec()),
            ("licenseTypes NAMED", json!({ "licenseTypes": ["NAMED"] }), vec!["ada", "eve", "felix"]),
            (
                "licenseTypes CONCURRENT and SELF_SERVICE",
                json!({ "licenseTypes": ["CONCURRENT", "SELF_SERVICE"] }),
                vec!["Bruno", "carla", "gus"],
            ),
            ("licenseTypes WEB_SERVICES", json!({ "licenseTypes": ["WEB_SERVICES"] }), vec!["dmitri"]),
            ("active false", json!({ "active": false }), vec!["felix"]),
            ("active true", json!({ "active": true }), vec!["ada", "Bruno", "carla", "dmitri", "eve", "gus"]),
            ("role ADMIN", json!({ "role": "ADMIN" }), vec!["ada", "eve"]),
            ("role MEMBER", json!({ "role": "MEMBER" }), vec!["Bruno", "carla", "dmitri", "felix", "gus"]),
            ("role OPERATOR", json!({ "role": "OPERATOR" }), vec![]),
            ("search on username", json!({ "search": "BRU" }), vec!["Bruno"]),
            ("search on email", json!({ "search": "mail.EXAMPLE" }), vec!["Bruno"]),
            ("search on displayName", json!({ "search": "zeta" }), vec!["carla"]),
            ("search on displayName in other case", json!({ "search": "eVaNs" }), vec!["eve"]),
            ("search shared by all but one", json!({ "search": "customer.example" }), vec!["ada", "carla", "dmitri", "eve", "felix", "gus"]),
            ("search with a wildcard", json!({ "search": "_" }), vec![]),
            ("search for nothing", json!({ "search": "nobody" }), vec![]),
            ("lastLoginBefore T+2h", json!({ "lastLoginBefore": t2 }), vec!["ada", "Bruno", "felix", "gus"]),
            (
                "lastLoginBefore far future",
                json!({ "lastLoginBefore": "2100-01-01T00:00:00Z" }),
                everyone.to_vec(),
            ),
            ("lastLoginBefore far past", json!({ "lastLoginBefore": "2000-01-01T00:00:00Z" }), vec!["felix", "gus"]),
            ("neverLoggedIn true", json!({ "neverLoggedIn": true }), vec!["felix", "gus"]),
            ("neverLoggedIn false", json!({ "neverLoggedIn": false }), vec!["ada", "Bruno", "carla", "dmitri", "eve"]),
            (
                "licenseTypes NAMED and neverLoggedIn false",
                json!({ "licenseTypes": ["NAMED"], "neverLoggedIn": false }),
                vec!["ada", "eve"],
            ),
            (
                "role MEMBER, active true and lastLoginBefore T+2h",
                json!({ "role": "MEMBER", "active": true, "lastLoginBefore": t2 }),
                vec!["Bruno", "gus"],
            ),
        ];
        for (case, filter, expected) in cases {
            let names = filtered_usernames(&app, &listing, filter).await;
            assert_eq!(names, expected, "{case}");
        }
    }
}

/// A user as the list returns it, with the fields its orderings sort by.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    username: String,
    id: uuid::Uuid,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

fn listed_of(connection: &Value) -> Vec<Listed> {
    let instant = |value: &Value| value.as_str().map(|text| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc));
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            Listed {
                username: node["username"].as_str().unwrap().to_owned(),
                id: node["id"].as_str().unwrap().parse().unwrap(),
                last_login_at: instant(&node["lastLoginAt"]),
                created_at: instant(&node["createdAt"]).unwrap(),
            }
        })
        .collect()
}

/// Sorts users as an ordering promises: by the field, then by id. A missing last
/// login sorts before every instant, and DESC reverses the whole order.
fn sort_as(users: &mut [Listed], field: &str, direction: &str) {
    match field {
        "USERNAME" => users.sort_by_key(|u| (u.username.to_lowercase(), u.id)),
        "LAST_LOGIN_AT" => users.sort_by_key(|u| (u.last_login_at, u.id)),
        "CREATED_AT" => users.sort_by_key(|u| (u.created_at, u.id)),
        other => panic!("unknown order field {other}"),
    }
    if direction == "DESC" {
        users.reverse();
    }
}

/// Pages through the whole list with `first: page_size`, following `endCursor`.
async fn all_pages(app: &TestApp, listing: &Listing, order: &Value, page_size: usize) -> Vec<Listed> {
    let mut users = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let variables = json!({ "slice": listing.acme, "orderBy": order, "first": page_size, "after": after });
        let data = app.ok(Some(&listing.operator), USER_LIST, variables).await;
        let connection = &data["users"];
        pages += 1;
        assert_eq!(connection["totalCount"], ACME_USERS.len(), "{order} page {pages} of size {page_size}");
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], pages > 1, "{order} page {pages} of size {page_size}");
        users.extend(listed_of(connection));
        if connection["pageInfo"]["hasNextPage"] == false {
            return users;
        }
        assert!(pages <= ACME_USERS.len(), "{order}: paging with size {page_size} does not end");
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

db_test! {
    async fn users_orderings_page_consistently(app) {
        let listing = set_up_listing(&app).await;

        // The instants of the table on `set_up_listing`, in minutes after T.
        let instants = [
            ("ada", 0, Some(60)),
            ("Bruno", 0, Some(60)),
            ("carla", 1, Some(120)),
            ("dmitri", 2, Some(180)),
            ("eve", 2, Some(180)),
            ("felix", 2, None),
            ("gus", 3, None),
        ];
        let data = app.ok(Some(&listing.operator), USER_LIST, json!({ "slice": listing.acme })).await;
        let users = listed_of(&data["users"]);
        assert_eq!(users.len(), instants.len());
        for (user, (username, created, last_login)) in users.iter().zip(instants) {
            assert_eq!(user.username, username);
            assert_eq!(user.created_at, listing.start + Duration::minutes(created), "createdAt of {username}");
            let expected_login = last_login.map(|minutes| listing.start + Duration::minutes(minutes));
            assert_eq!(user.last_login_at, expected_login, "lastLoginAt of {username}");
        }
        for field in ["USERNAME", "LAST_LOGIN_AT", "CREATED_AT"] {
            for direction in ["ASC", "DESC"] {
                let order = json!({ "field": field, "direction": direction });
                let variables = json!({ "slice": listing.acme, "orderBy": order, "first": 100 });
                let data = app.ok(Some(&listing.operator), USER_LIST, variables).await;
                let single = listed_of(&data["users"]);
                assert_eq!(single.len(), ACME_USERS.len(), "{order}: users of another slice must not appear");
                assert_eq!(data["users"]["pageInfo"]["hasNextPage"], false, "{order}");

                let mut expected = single.clone();
                sort_as(&mut expected, field, direction);
                let names = |users: &[Listed]| users.iter().map(|u| u.username.clone()).collect::<Vec<_>>();
                assert_eq!(names(&single), names(&expected), "{order}: single page order");

                for page_size in [1, 2, 3] {
                    let paged = all_pages(&app, &listing, &order, page_size).await;
                    assert_eq!(names(&paged), names(&single), "{order}: pages of size {page_size} differ from one page");
                    assert_eq!(paged, single, "{order}: pages of size {page_size} return other field values");
                }
            }
        }
    }
}

db_test! {
    async fn last_login_order_null_placement(app) {
        let listing = set_up_listing(&app).await;
        let order_of = |direction: &str| json!({ "field": "LAST_LOGIN_AT", "direction": direction });

        let data = app.ok(Some(&listing.operator), USER_LIST, json!({ "slice": listing.acme, "orderBy": order_of("ASC") })).await;
        let ascending = listed_of(&data["users"]);
        let names: Vec<&str> = ascending.iter().map(|u| u.username.as_str()).collect();
        let mut never_first = names[..2].to_vec();
        never_first.sort_unstable();
        assert_eq!(never_first, ["felix", "gus"], "never-logged-in users come first ascending: {names:?}");
        assert_eq!(names[4], "carla", "the one login at T+2h sits between the tied pairs: {names:?}");
        let mut tied_early = names[2..4].to_vec();
        tied_early.sort_unstable();
        assert_eq!(tied_early, ["Bruno", "ada"], "the logins at T+1h follow the never-logged-in users: {names:?}");

        let data = app.ok(Some(&listing.operator), USER_LIST, json!({ "slice": listing.acme, "orderBy": order_of("DESC") })).await;
        let descending = listed_of(&data["users"]);
        let names: Vec<&str> = descending.iter().map(|u| u.username.as_str()).collect();
        let mut never_last = names[5..].to_vec();
        never_last.sort_unstable();
        assert_eq!(never_last, ["felix", "gus"], "never-logged-in users come last descending: {names:?}");
        let mut tied_late = names[..2].to_vec();
        tied_late.sort_unstable();
        assert_eq!(tied_late, ["dmitri", "eve"], "the logins at T+3h come first descending: {names:?}");

        let reversed: Vec<Listed> = ascending.into_iter().rev().collect();
        assert_eq!(descending, reversed, "DESC must be ASC reversed, ties included");
    }
}

db_test! {
    async fn users_order_subsecond_logins(app) {
        let operator = app.operator("root").await;
        let slice = app.create_slice(&operator, slice_input("acme")).await;
        let start = app.now();
        // All logins fall within one second, so only the fraction orders them. Their
        // RFC 3339 forms have 0, 3 and 6 fractional digits, and SQLite compares them as text.
        let logins = [("whole", 0), ("half", 500_000), ("micro", 250), ("late", 999_999), ("early", 1)];
        for (username, _) in logins {
            app.create_user(&operator, &slice, username, "NAMED", "MEMBER").await;
        }
        for (username, micros) in logins {
            app.clock.set(start + Duration::hours(1) + Duration::microseconds(micros));
            app.login(Some("acme"), username, PASSWORD).await;
        }
        let operator = app.login(None, "root", PASSWORD).await;
        let listing = Listing { operator, acme: slice, start };

        let expected = ["whole", "early", "micro", "half", "late"];
        for (direction, order) in [("ASC", expected.to_vec()), ("DESC", expected.iter().rev().copied().collect())] {
            let sort = json!({ "field": "LAST_LOGIN_AT", "direction": direction });
            for page_size in [1, 2, 5] {
                let mut pages = Vec::new();
                let mut after = Value::Null;
                loop {
                    let variables = json!({ "slice": listing.acme, "orderBy": sort, "first": page_size, "after": after });
                    let data = app.ok(Some(&listing.operator), USER_LIST, variables).await;
                    pages.extend(usernames_of(&data["users"]));
                    if data["users"]["pageInfo"]["hasNextPage"] == false {
                        break;
                    }
                    assert!(pages.len() < 10, "{direction}: paging with size {page_size} does not end");
                    after = data["users"]["pageInfo"]["endCursor"].clone();
                }
                assert_eq!(pages, order, "{direction} in pages of size {page_size}");
            }
        }

        let before_half = (start + Duration::hours(1) + Duration::microseconds(500_000)).to_rfc3339();
        let names = filtered_usernames(&app, &listing, json!({ "lastLoginBefore": before_half })).await;
        assert_eq!(names, ["early", "micro", "whole"], "lastLoginBefore compares fractions of a second");
    }
}

db_test! {
    async fn users_reject_bad_paging_arguments(app) {
        let listing = set_up_listing(&app).await;
        let first_page = |order: Value| json!({ "slice": listing.acme, "orderBy": order, "first": 2 });
        let data = app
            .ok(Some(&listing.operator), USER_LIST, first_page(json!({ "field": "USERNAME", "direction": "ASC" })))
            .await;
        let username_cursor = data["users"]["pageInfo"]["endCursor"].clone();
        assert!(username_cursor.is_string(), "{data}");

        let slice_data = app.ok(Some(&listing.operator), "{ slices(first: 1) { pageInfo { endCursor } } }", json!({})).await;
        let slice_cursor = slice_data["slices"]["pageInfo"]["endCursor"].clone();

        let cases = [
            ("USERNAME ASC cursor for LAST_LOGIN_AT ASC", username_cursor.clone(), json!({ "field": "LAST_LOGIN_AT", "direction": "ASC" })),
            ("USERNAME ASC cursor for CREATED_AT ASC", username_cursor.clone(), json!({ "field": "CREATED_AT", "direction": "ASC" })),
            ("USERNAME ASC cursor for USERNAME DESC", username_cursor.clone(), json!({ "field": "USERNAME", "direction": "DESC" })),
            ("slice list cursor", slice_cursor, json!({ "field": "USERNAME", "direction": "ASC" })),
            ("garbage", json!("garbage"), json!({ "field": "USERNAME", "direction": "ASC" })),
        ];
        for (case, after, order) in cases {
            let variables = json!({ "slice": listing.acme, "orderBy": order, "first": 2, "after": after });
            let error = app.error(Some(&listing.operator), USER_LIST, variables).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], "after", "{case}: {error}");
        }

        let variables = json!({ "slice": listing.acme, "first": 2, "after": username_cursor });
        let data = app.ok(Some(&listing.operator), USER_LIST, variables).await;
        assert_eq!(usernames_of(&data["users"]), ["carla", "dmitri"], "the default order is USERNAME ASC");

        for (case, first) in [("first above 100", 101), ("negative first", -1)] {
            let variables = json!({ "slice": listing.acme, "first": first });
            let error = app.error(Some(&listing.operator), USER_LIST, variables).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], "first", "{case}: {error}");
        }
    }
}
