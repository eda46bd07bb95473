//! Creating, changing and listing slices: input checks, edition and mode rules,
//! versions, filters and pagination.

use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{TestApp, code, slice_input},
};

const CREATE_SLICE: &str = "mutation($input: CreateSliceInput!) { createSlice(input: $input) { id } }";

const SLICE: &str = "query($id: ID!) { slice(id: $id) { id name displayName customer kind edition \
    ownedNamedLicenses ownedConcurrentLicenses renewalDate enforcementMode modePinned alertThresholdPercent \
    version createdAt } }";

const UPDATE_SLICE: &str = "mutation($id: ID!, $input: UpdateSliceInput!) { updateSlice(id: $id, input: $input) { \
    id name displayName customer kind edition ownedNamedLicenses ownedConcurrentLicenses renewalDate \
    enforcementMode modePinned alertThresholdPercent version createdAt } }";

const SLICE_LIST: &str = "query($filter: SliceFilter, $first: Int, $after: String) { \
    slices(filter: $filter, first: $first, after: $after) { totalCount \
    pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { name } } } }";

/// Returns `base` with the fields of `overrides` replaced.
fn with(base: Value, overrides: Value) -> Value {
    let mut merged = base;
    for (key, value) in overrides.as_object().unwrap() {
        merged[key] = value.clone();
    }
    merged
}

/// Loads every field of a slice through the API, authorized by `operator`.
async fn load_slice(app: &TestApp, operator: &str, id: &str) -> Value {
    app.ok(Some(operator), SLICE, json!({ "id": id })).await["slice"].clone()
}

/// Sends an update that must succeed and returns the updated slice.
async fn update_slice(app: &TestApp, operator: &str, id: &str, input: Value) -> Value {
    app.ok(Some(operator), UPDATE_SLICE, json!({ "id": id, "input": input })).await["updateSlice"].clone()
}

/// Sends an update that must fail and returns its first error.
async fn update_slice_error(app: &TestApp, operator: &str, id: &str, input: Value) -> Value {
    app.error(Some(operator), UPDATE_SLICE, json!({ "id": id, "input": input })).await
}

async fn slice_count(app: &TestApp, operator: &str) -> i64 {
    app.ok(Some(operator), "{ slices { totalCount } }", json!({})).await["slices"]["totalCount"].as_i64().unwrap()
}

/// Returns the names on one page of the slice list.
fn names_of(connection: &Value) -> Vec<String> {
    connection["edges"].as_array().unwrap().iter().map(|edge| edge["node"]["name"].as_str().unwrap().to_owned()).collect()
}

/// Lists every slice matching `filter` in one page and returns the names.
async fn list_names(app: &TestApp, operator: &str, filter: Value) -> Vec<String> {
    let data = app.ok(Some(operator), SLICE_LIST, json!({ "filter": filter, "first": 100 })).await;
    names_of(&data["slices"])
}

/// Creates a slice with a customer and kind of the test's choosing.
async fn create_slice_of(app: &TestApp, operator: &str, name: &str, customer: Value, kind: &str) -> String {
    let input = with(slice_input(name), json!({ "customer": customer, "kind": kind }));
    app.create_slice(operator, input).await
}

db_test! {
    async fn create_slice_rejects_bad_input(app) {
        let operator = app.operator("root").await;
        app.create_slice(&operator, slice_input("acme")).await;

        let cases = [
            ("blank name", json!({ "name": "   " }), "input.name"),
            ("name with a space", json!({ "name": "acme prod" }), "input.name"),
            ("name with a symbol", json!({ "name": "acme!prod" }), "input.name"),
            ("name starting with a symbol", json!({ "name": "-acme" }), "input.name"),
            ("name of 65 characters", json!({ "name": "a".repeat(65) }), "input.name"),
            ("blank displayName", json!({ "displayName": " \t " }), "input.displayName"),
            ("existing name in other case", json!({ "name": "ACME" }), "input.name"),
            ("negative ownedNamedLicenses", json!({ "ownedNamedLicenses": -1 }), "input.ownedNamedLicenses"),
            ("negative ownedConcurrentLicenses", json!({ "ownedConcurrentLicenses": -1 }), "input.ownedConcurrentLicenses"),
            ("ownedNamedLicenses above 1000000", json!({ "ownedNamedLicenses": 1_000_001 }), "input.ownedNamedLicenses"),
            ("alertThresholdPercent 0", json!({ "alertThresholdPercent": 0 }), "input.alertThresholdPercent"),
            ("alertThresholdPercent 101", json!({ "alertThresholdPercent": 101 }), "input.alertThresholdPercent"),
            (
                "SERVICE_DESK owning concurrent licenses",
                json!({ "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 1 }),
                "input.ownedConcurrentLicenses",
            ),
        ];
        for (case, overrides, field) in cases {
            let input = with(slice_input("fresh"), overrides);
            let error = app.error(Some(&operator), CREATE_SLICE, json!({ "input": input })).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{case}: {error}");
            assert_eq!(slice_count(&app, &operator).await, 1, "{case}: a rejected createSlice must not store a slice");
        }
    }
}

db_test! {
    async fn create_slice_accepts_boundary_values(app) {
        let operator = app.operator("root").await;
        let long_name = "b".repeat(64);
        let cases = [
            ("name of 64 characters", json!({ "name": long_name })),
            ("alertThresholdPercent 1", json!({ "name": "low", "alertThresholdPercent": 1 })),
            ("alertThresholdPercent 100", json!({ "name": "high", "alertThresholdPercent": 100 })),
            (
                "zero owned licenses",
                json!({ "name": "empty", "ownedNamedLicenses": 0, "ownedConcurrentLicenses": 0 }),
            ),
            (
                "SERVICE_DESK without concurrent licenses",
                json!({ "name": "desk", "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 0 }),
            ),
        ];
        for (case, overrides) in cases {
            let input = with(slice_input("unused"), overrides);
            let body = app.gql(Some(&operator), CREATE_SLICE, json!({ "input": input })).await;
            assert!(body.get("errors").is_none(), "{case}: {body}");
        }
        assert_eq!(slice_count(&app, &operator).await, 5);
    }
}

db_test! {
    async fn update_slice_keeps_omitted_fields(app) {
        let operator = app.operator("root").await;
        let input = with(slice_input("acme"), json!({ "renewalDate": "2027-01-31", "alertThresholdPercent": 75 }));
        let id = app.create_slice(&operator, input).await;
        let before = load_slice(&app, &operator, &id).await;

        let updated = update_slice(&app, &operator, &id, json!({ "displayName": "Acme Renamed" })).await;
        assert_eq!(updated["displayName"], "Acme Renamed");
        let expected = with(before, json!({ "displayName": "Acme Renamed" }));
        assert_eq!(updated, expected, "only displayName may change");
        assert_eq!(load_slice(&app, &operator, &id).await, expected, "the stored slice differs from the returned one");

        let unchanged = update_slice(&app, &operator, &id, json!({})).await;
        assert_eq!(unchanged, expected, "an empty input must change nothing");
    }
}

db_test! {
    async fn update_slice_null_clears_optional(app) {
        let operator = app.operator("root").await;
        let input = with(slice_input("acme"), json!({ "renewalDate": "2027-01-31", "customer": "Acme" }));
        let id = app.create_slice(&operator, input).await;
        let before = load_slice(&app, &operator, &id).await;
        assert_eq!(before["renewalDate"], "2027-01-31");
        assert_eq!(before["customer"], "Acme");

        let cleared = update_slice(&app, &operator, &id, json!({ "renewalDate": null })).await;
        assert_eq!(cleared["renewalDate"], Value::Null, "renewalDate: null must clear the date");
        assert_eq!(cleared["customer"], "Acme", "clearing renewalDate must leave the customer");

        let cleared = update_slice(&app, &operator, &id, json!({ "customer": null })).await;
        assert_eq!(cleared["customer"], Value::Null, "customer: null must clear the customer");
        assert_eq!(cleared["renewalDate"], Value::Null);

        let set = update_slice(&app, &operator, &id, json!({ "renewalDate": "2028-02-29", "customer": " Globex " })).await;
        assert_eq!(set["renewalDate"], "2028-02-29");
        assert_eq!(set["customer"], "Globex", "the customer is stored trimmed");
    }
}

db_test! {
    async fn update_slice_rejects_bad_values(app) {
        let operator = app.operator("root").await;
        let id = app.create_slice(&operator, slice_input("acme")).await;
        let before = load_slice(&app, &operator, &id).await;

        let cases = [
            ("null displayName", json!({ "displayName": null }), "input.displayName"),
            ("blank displayName", json!({ "displayName": "  " }), "input.displayName"),
            ("displayName with a line break", json!({ "displayName": "Acme\nCorp" }), "input.displayName"),
            ("displayName of 201 characters", json!({ "displayName": "d".repeat(201) }), "input.displayName"),
            ("blank customer", json!({ "customer": " " }), "input.customer"),
            ("null edition", json!({ "edition": null }), "input.edition"),
            ("null ownedNamedLicenses", json!({ "ownedNamedLicenses": null }), "input.ownedNamedLicenses"),
            ("negative ownedNamedLicenses", json!({ "ownedNamedLicenses": -1 }), "input.ownedNamedLicenses"),
            ("null ownedConcurrentLicenses", json!({ "ownedConcurrentLicenses": null }), "input.ownedConcurrentLicenses"),
            ("negative ownedConcurrentLicenses", json!({ "ownedConcurrentLicenses": -5 }), "input.ownedConcurrentLicenses"),
            ("null alertThresholdPercent", json!({ "alertThresholdPercent": null }), "input.alertThresholdPercent"),
            ("alertThresholdPercent 0", json!({ "alertThresholdPercent": 0 }), "input.alertThresholdPercent"),
            ("alertThresholdPercent 101", json!({ "alertThresholdPercent": 101 }), "input.alertThresholdPercent"),
            ("null enforcementMode", json!({ "enforcementMode": null }), "input.enforcementMode"),
            (
                "bad value next to a good one",
                json!({ "displayName": "Changed", "ownedNamedLicenses": -1 }),
                "input.ownedNamedLicenses",
            ),
        ];
        for (case, input, field) in cases {
            let error = update_slice_error(&app, &operator, &id, input).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{case}: {error}");
            assert_eq!(load_slice(&app, &operator, &id).await, before, "{case}: a rejected update must change nothing");
        }
    }
}

db_test! {
    async fn desk_switch_blocked_by_concurrent_users(app) {
        let operator = app.operator("root").await;
        let input = with(slice_input("acme"), json!({ "ownedConcurrentLicenses": 0 }));
        let id = app.create_slice(&operator, input).await;
        app.create_user(&operator, &id, "carl", "CONCURRENT", "MEMBER").await;
        let cora = app.create_user(&operator, &id, "cora", "CONCURRENT", "MEMBER").await;
        app.create_user(&operator, &id, "nina", "NAMED", "MEMBER").await;
        // An inactive user keeps the license type, so it still blocks the switch.
        app.ok(Some(&operator), "mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }", json!({ "id": cora }))
            .await;
        let before = load_slice(&app, &operator, &id).await;

        let error = update_slice_error(&app, &operator, &id, json!({ "edition": "SERVICE_DESK" })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], "input.edition", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("2 user(s) hold CONCURRENT"), "the message must count the CONCURRENT users: {message}");
        assert_eq!(load_slice(&app, &operator, &id).await, before, "a rejected switch must change nothing");
    }
}

db_test! {
    async fn desk_switch_blocked_by_owned_concurrent(app) {
        let operator = app.operator("root").await;
        let id = app.create_slice(&operator, slice_input("acme")).await;
        app.create_user(&operator, &id, "nina", "NAMED", "MEMBER").await;
        let before = load_slice(&app, &operator, &id).await;
        assert_eq!(before["ownedConcurrentLicenses"], 5);

        let error = update_slice_error(&app, &operator, &id, json!({ "edition": "SERVICE_DESK" })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], "input.edition", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("0 user(s) hold CONCURRENT"), "{message}");
        assert!(message.contains("owns 5 concurrent license(s)"), "{message}");
        assert_eq!(load_slice(&app, &operator, &id).await, before, "a rejected switch must change nothing");

        let switched =
            update_slice(&app, &operator, &id, json!({ "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 0 })).await;
        assert_eq!(switched["edition"], "SERVICE_DESK", "dropping the concurrent licenses in the same update allows the switch");
        assert_eq!(switched["ownedConcurrentLicenses"], 0);
    }
}

db_test! {
    async fn desk_slice_rejects_concurrent_licenses(app) {
        let operator = app.operator("root").await;
        let input = with(slice_input("desk"), json!({ "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 0 }));
        let id = app.create_slice(&operator, input).await;
        let before = load_slice(&app, &operator, &id).await;

        let error = update_slice_error(&app, &operator, &id, json!({ "ownedConcurrentLicenses": 1 })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], "input.ownedConcurrentLicenses", "{error}");
        assert_eq!(load_slice(&app, &operator, &id).await, before, "a rejected update must change nothing");

        let error = update_slice_error(&app, &operator, &id, json!({ "edition": "SERVICE_DESK", "ownedConcurrentLicenses": 3 }))
            .await;
        assert_eq!(error["extensions"]["field"], "input.ownedConcurrentLicenses", "{error}");

        let upgraded =
            update_slice(&app, &operator, &id, json!({ "edition": "SERVICE_MANAGEMENT", "ownedConcurrentLicenses": 3 })).await;
        assert_eq!(upgraded["edition"], "SERVICE_MANAGEMENT");
        assert_eq!(upgraded["ownedConcurrentLicenses"], 3, "SERVICE_MANAGEMENT may own concurrent licenses");
    }
}

db_test! {
    async fn enforcement_mode_pins_and_unpins(app) {
        let operator = app.operator("root").await;
        let id = app.create_slice(&operator, slice_input("acme")).await;
        let created = load_slice(&app, &operator, &id).await;
        assert_eq!(created["enforcementMode"], "OFF");
        assert_eq!(created["modePinned"], false);

        let warned = update_slice(&app, &operator, &id, json!({ "enforcementMode": "WARN" })).await;
        assert_eq!(warned["enforcementMode"], "WARN");
        assert_eq!(warned["modePinned"], true, "setting a mode must pin it");

        let other_change = update_slice(&app, &operator, &id, json!({ "displayName": "Acme", "unpinMode": false })).await;
        assert_eq!(other_change["modePinned"], true, "unpinMode: false must leave the pin");

        let unpinned = update_slice(&app, &operator, &id, json!({ "unpinMode": true })).await;
        assert_eq!(unpinned["modePinned"], false, "unpinMode: true must clear the pin");

        let enforced = update_slice(&app, &operator, &id, json!({ "enforcementMode": "ENFORCE" })).await;
        assert_eq!(enforced["enforcementMode"], "ENFORCE");
        assert_eq!(enforced["modePinned"], true);
    }
}

db_test! {
    async fn mode_with_unpin_is_rejected(app) {
        let operator = app.operator("root").await;
        let id = app.create_slice(&operator, slice_input("acme")).await;
        let before = load_slice(&app, &operator, &id).await;

        let error = update_slice_error(&app, &operator, &id, json!({ "enforcementMode": "WARN", "unpinMode": true })).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{error}");
        assert_eq!(error["extensions"]["field"], "input.unpinMode", "{error}");
        assert_eq!(load_slice(&app, &operator, &id).await, before, "a rejected update must change nothing");
    }
}

db_test! {
    async fn slice_version_tracks_counts_and_mode(app) {
        let operator = app.operator("root").await;
        let id = app.create_slice(&operator, slice_input("acme")).await;
        let mut version = load_slice(&app, &operator, &id).await["version"].as_i64().unwrap();

        // (change, input, whether the version must grow)
        let steps = [
            ("displayName only", json!({ "displayName": "Acme Renamed" }), false),
            ("ownedNamedLicenses", json!({ "ownedNamedLicenses": 11 }), true),
            ("ownedNamedLicenses to its current value", json!({ "ownedNamedLicenses": 11 }), false),
            ("ownedConcurrentLicenses", json!({ "ownedConcurrentLicenses": 6 }), true),
            ("enforcementMode", json!({ "enforcementMode": "WARN" }), true),
            ("displayName only, again", json!({ "displayName": "Acme" }), false),
            ("enforcementMode to its current value", json!({ "enforcementMode": "WARN" }), false),
            ("both owned counts", json!({ "ownedNamedLicenses": 20, "ownedConcurrentLicenses": 0 }), true),
        ];
        for (change, input, grows) in steps {
            let updated = update_slice(&app, &operator, &id, input).await;
            let next = updated["version"].as_i64().unwrap();
            if grows {
                assert!(next > version, "{change}: version must grow, was {version}, is {next}");
            } else {
                assert_eq!(next, version, "{change}: version must stay");
            }
            version = next;
        }
    }
}

db_test! {
    async fn slices_filter_by_kind_and_customer(app) {
        let operator = app.operator("root").await;
        create_slice_of(&app, &operator, "acme-prod", json!("Acme"), "PRODUCTION").await;
        create_slice_of(&app, &operator, "acme-stage", json!("ACME"), "STAGING").await;
        create_slice_of(&app, &operator, "acmecorp", json!("Acme Corp"), "PRODUCTION").await;
        create_slice_of(&app, &operator, "globex", json!("Globex"), "STAGING").await;
        create_slice_of(&app, &operator, "loner", Value::Null, "PRODUCTION").await;

        let staging = list_names(&app, &operator, json!({ "kinds": ["STAGING"] })).await;
        assert_eq!(staging, ["acme-stage", "globex"]);
        let both = list_names(&app, &operator, json!({ "kinds": ["STAGING", "PRODUCTION"] })).await;
        assert_eq!(both, ["acme-prod", "acme-stage", "acmecorp", "globex", "loner"]);

        let acme = list_names(&app, &operator, json!({ "customer": "acme" })).await;
        assert_eq!(acme, ["acme-prod", "acme-stage"], "customer matches exactly, regardless of letter case");
        let padded = list_names(&app, &operator, json!({ "customer": "  aCmE " })).await;
        assert_eq!(padded, ["acme-prod", "acme-stage"], "the customer filter is trimmed");
        let corp = list_names(&app, &operator, json!({ "customer": "ACME CORP" })).await;
        assert_eq!(corp, ["acmecorp"]);
        let partial = list_names(&app, &operator, json!({ "customer": "Acm" })).await;
        assert!(partial.is_empty(), "customer is no substring match: {partial:?}");

        let combined = list_names(&app, &operator, json!({ "customer": "Acme", "kinds": ["PRODUCTION"] })).await;
        assert_eq!(combined, ["acme-prod"], "every given filter must match");
    }
}

db_test! {
    async fn slices_search_matches_wildcards_literally(app) {
        let operator = app.operator("root").await;
        for (name, display_name) in [
            ("tools-a", "100% Tools"),
            ("tools-b", "100 Percent Tools"),
            ("snake_case", "Snake"),
            ("snakexcase", "Other"),
            ("Mixed", "UPPER Display"),
            ("windows", "C:\\Tools"),
        ] {
            let input = with(slice_input(name), json!({ "displayName": display_name }));
            app.create_slice(&operator, input).await;
        }

        let cases = [
            ("100%", vec!["tools-a"]),
            ("e_c", vec!["snake_case"]),
            ("%", vec!["tools-a"]),
            ("_", vec!["snake_case"]),
            ("TOOLS", vec!["tools-a", "tools-b", "windows"]),
            ("percent", vec!["tools-b"]),
            ("mix", vec!["Mixed"]),
            ("upper disp", vec!["Mixed"]),
            ("  snake  ", vec!["snake_case", "snakexcase"]),
            ("\\", vec!["windows"]),
            ("nothing", vec![]),
        ];
        for (search, expected) in cases {
            let names = list_names(&app, &operator, json!({ "search": search })).await;
            assert_eq!(names, expected, "search {search:?}");
        }
    }
}

db_test! {
    async fn slices_pages_visit_each_once(app) {
        let operator = app.operator("root").await;
        for name in ["delta", "Alpha", "charlie", "Bravo", "echo", "foxtrot", "golf"] {
            app.create_slice(&operator, slice_input(name)).await;
        }
        let expected = ["Alpha", "Bravo", "charlie", "delta", "echo", "foxtrot", "golf"];
        let single = list_names(&app, &operator, json!(null)).await;
        assert_eq!(single, expected, "slices are listed by name regardless of letter case");

        for page_size in [1, 2, 3, 7] {
            let mut names = Vec::new();
            let mut after = Value::Null;
            let mut pages = 0;
            loop {
                let data = app.ok(Some(&operator), SLICE_LIST, json!({ "first": page_size, "after": after })).await;
                let connection = &data["slices"];
                pages += 1;
                assert_eq!(connection["totalCount"], 7, "page {pages} of size {page_size}");
                assert_eq!(connection["pageInfo"]["hasPreviousPage"], pages > 1, "page {pages} of size {page_size}");
                let last_edge_cursor = connection["edges"].as_array().unwrap().last().map(|edge| edge["cursor"].clone());
                assert_eq!(last_edge_cursor.unwrap_or(Value::Null), connection["pageInfo"]["endCursor"]);
                names.extend(names_of(connection));
                if connection["pageInfo"]["hasNextPage"] == false {
                    break;
                }
                assert!(pages < 10, "paging with size {page_size} does not end");
                after = connection["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(names, expected, "pages of size {page_size}");
            assert_eq!(pages, 7usize.div_ceil(page_size), "number of pages of size {page_size}");
        }
    }
}

db_test! {
    async fn slices_page_keeps_the_filter(app) {
        let operator = app.operator("root").await;
        for (name, kind) in [("a1", "STAGING"), ("a2", "PRODUCTION"), ("a3", "STAGING"), ("a4", "STAGING"), ("a5", "PRODUCTION")] {
            create_slice_of(&app, &operator, name, json!("Acme"), kind).await;
        }
        let filter = json!({ "kinds": ["STAGING"] });
        let first = app.ok(Some(&operator), SLICE_LIST, json!({ "filter": filter, "first": 2 })).await;
        assert_eq!(names_of(&first["slices"]), ["a1", "a3"]);
        assert_eq!(first["slices"]["totalCount"], 3);
        assert_eq!(first["slices"]["pageInfo"]["hasNextPage"], true);
        let after = first["slices"]["pageInfo"]["endCursor"].clone();
        let second = app.ok(Some(&operator), SLICE_LIST, json!({ "filter": filter, "first": 2, "after": after })).await;
        assert_eq!(names_of(&second["slices"]), ["a4"]);
        assert_eq!(second["slices"]["pageInfo"]["hasNextPage"], false);
    }
}

db_test! {
    async fn slices_reject_bad_paging_arguments(app) {
        let operator = app.operator("root").await;
        app.create_slice(&operator, slice_input("acme")).await;

        let cases = [
            ("first above 100", json!({ "first": 101 }), "first"),
            ("negative first", json!({ "first": -1 }), "first"),
            ("garbage after", json!({ "after": "garbage" }), "after"),
            ("after that is not base64", json!({ "after": "!!not base64!!" }), "after"),
            ("empty after", json!({ "after": "" }), "after"),
        ];
        for (case, variables, field) in cases {
            let error = app.error(Some(&operator), SLICE_LIST, variables).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{case}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{case}: {error}");
        }

        let data = app.ok(Some(&operator), SLICE_LIST, json!({ "first": 100 })).await;
        assert_eq!(names_of(&data["slices"]), ["acme"], "first: 100 is allowed");
        let data = app.ok(Some(&operator), SLICE_LIST, json!({ "first": 0 })).await;
        assert_eq!(data["slices"]["edges"], json!([]), "first: 0 returns no edges");
        assert_eq!(data["slices"]["pageInfo"]["hasNextPage"], true, "first: 0 still reports the slice after it");
    }
}
