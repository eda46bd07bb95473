//! `seatwarden import-contracts`, run as a separate process against the
//! database of a running test service: headers, line errors, dry runs,
//! creating missing slices, and the events and emails a change records.

use std::process::Output;

use entity::{ComplianceEventKind, EmailStatus, compliance_event, outbox_email};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, slice_input},
};

const BINARY: &str = env!("CARGO_BIN_EXE_seatwarden");

const SLICE: &str = "query($id: ID!) { slice(id: $id) { name displayName customer kind edition ownedNamedLicenses \
    ownedConcurrentLicenses renewalDate enforcementMode modePinned alertThresholdPercent version } }";

const SLICE_NAMES: &str = "{ slices(first: 100) { edges { node { id name } } } }";

/// Builds `seatwarden import-contracts` with no configuration from the test's
/// own environment.
fn import_command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BINARY);
    for (key, _) in std::env::vars() {
        if key.starts_with("SEATWARDEN_") {
            command.env_remove(key);
        }
    }
    command.env("SEATWARDEN_LOG_FILTER", "warn").arg("import-contracts");
    command
}

/// Writes `content` to a file and imports it into the service's database.
async fn import(app: &TestApp, content: &[u8], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contracts.csv");
    std::fs::write(&path, content).unwrap();
    // The process gets the service's database and rollout steps, so both agree on the rollout's mode.
    let config = &app.state.config;
    import_command()
        .env("SEATWARDEN_DATABASE_URL", &config.database_url)
        .env("SEATWARDEN_ROLLOUT_VISIBLE_AT", config.rollout_visible_at.to_rfc3339())
        .env("SEATWARDEN_ROLLOUT_WARN_AT", config.rollout_warn_at.to_rfc3339())
        .env("SEATWARDEN_ROLLOUT_ENFORCE_AT", config.rollout_enforce_at.to_rfc3339())
        .arg(&path)
        .args(args)
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the import succeeded and returns what it printed.
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "import failed: {}", stderr(output));
    stdout(output)
}

/// Asserts that the import failed and returns its error output.
fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "import succeeded: {}", stdout(output));
    assert_ne!(output.status.code(), Some(0));
    stderr(output)
}

async fn load_slice(app: &TestApp, operator: &str, id: &str) -> Value {
    app.ok(Some(operator), SLICE, json!({ "id": id })).await["slice"].clone()
}

/// Returns the id of the slice named `name`, if it exists.
async fn slice_id(app: &TestApp, operator: &str, name: &str) -> Option<String> {
    let data = app.ok(Some(operator), SLICE_NAMES, json!({})).await;
    data["slices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|edge| edge["node"]["name"] == name)
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
}

/// Creates an operator and two slices: `Northwind-Prod` (production, 10
/// NAMED, 5 CONCURRENT, SERVICE_MANAGEMENT) and `contoso-stage` (staging,
/// 4 NAMED, SERVICE_DESK). Returns the operator's token and the two ids.
async fn setup(app: &TestApp) -> (String, String, String) {
    let operator = app.operator("root").await;
    let northwind = app.create_slice(&operator, slice_input("Northwind-Prod")).await;
    let contoso = app
        .create_slice(
            &operator,
            json!({ "name": "contoso-stage", "displayName": "Contoso", "kind": "STAGING", "edition": "SERVICE_DESK",
                    "ownedNamedLicenses": 4, "renewalDate": "2027-01-31" }),
        )
        .await;
    (operator, northwind, contoso)
}

db_test! {
    async fn legacy_headers_mixed_case(app) {
        let (operator, northwind, contoso) = setup(&app).await;
        let csv = b"Slice,FIXED,Floater,Renewal_Date,EDITION,Customer\n\
            northwind-prod,25,3,2027-03-01,service_management,Northwind Traders\n\
            CONTOSO-STAGE,4,0,2027-01-31,Service_Desk,\n";
        let printed = succeeded(&import(&app, csv, &[]).await);
        assert_eq!(
            printed,
            "Northwind-Prod: named 10 → 25, concurrent 5 → 3, renewal date none → 2027-03-01, \
             customer \"Acme\" → \"Northwind Traders\"\n\
             contoso-stage: unchanged\n\
             total: 2 slices, 0 created, 1 changed, 1 unchanged\n"
        );

        let slice = load_slice(&app, &operator, &northwind).await;
        assert_eq!(slice["ownedNamedLicenses"], 25);
        assert_eq!(slice["ownedConcurrentLicenses"], 3);
        assert_eq!(slice["renewalDate"], "2027-03-01");
        assert_eq!(slice["customer"], "Northwind Traders");
        assert_eq!(slice["edition"], "SERVICE_MANAGEMENT");
        assert_eq!(slice["version"], 1, "the owned counts changed, so the version grew");
        let unchanged = load_slice(&app, &operator, &contoso).await;
        assert_eq!(unchanged["version"], 0);
        assert_eq!(unchanged["customer"], Value::Null);
    }
}

db_test! {
    async fn bad_row_writes_nothing(app) {
        let (operator, northwind, contoso) = setup(&app).await;
        let before = load_slice(&app, &operator, &northwind).await;
        let csv = b"slice,fixed,floater,renewal_date,edition\n\
            Northwind-Prod,30,5,2028-03-01,SERVICE_MANAGEMENT\n\
            contoso-stage,4,2,,SERVICE_DESK\n\
            contoso-stage-2,ten,0,,SERVICE_DESK\n";
        let errors = failed(&import(&app, csv, &[]).await);
        assert!(errors.contains("2 errors, nothing was written"), "{errors}");
        assert!(
            errors.contains("line 3, column floater: must be 0 in the SERVICE_DESK edition, which has no concurrent licenses; \
                             switch the edition to SERVICE_MANAGEMENT first"),
            "{errors}"
        );
        assert!(errors.contains(r#"line 4, column fixed: expected a whole number from 0 to 1000000, got "ten""#), "{errors}");
        assert_eq!(load_slice(&app, &operator, &northwind).await, before, "the valid line 2 was rolled back too");
        assert_eq!(load_slice(&app, &operator, &contoso).await["ownedConcurrentLicenses"], 0);
    }
}

db_test! {
    async fn edition_switch_follows_api_rule(app) {
        let (operator, northwind, _) = setup(&app).await;
        app.create_user(&operator, &northwind, "cora", "CONCURRENT", "MEMBER").await;
        let csv = b"slice,named,concurrent,renewal_date,edition\nNorthwind-Prod,10,0,,SERVICE_DESK\n";
        let errors = failed(&import(&app, csv, &[]).await);
        assert!(
            errors.contains("line 2, column edition: cannot switch to SERVICE_DESK, which has no concurrent licenses: \
                             1 user(s) hold CONCURRENT and the slice owns 0 concurrent license(s); \
                             move those users to another license type and set concurrent to 0 first"),
            "{errors}"
        );
        let slice = load_slice(&app, &operator, &northwind).await;
        assert_eq!(slice["edition"], "SERVICE_MANAGEMENT");
        assert_eq!(slice["ownedConcurrentLicenses"], 5);
    }
}

db_test! {
    async fn dry_run_writes_nothing(app) {
        let (operator, northwind, contoso) = setup(&app).await;
        let before = load_slice(&app, &operator, &northwind).await;
        let csv = b"slice,named,concurrent,renewal_date,edition,kind,display_name\n\
            northwind-prod,30,5,2028-03-01,SERVICE_MANAGEMENT,,Northwind\n\
            contoso-stage,4,0,,SERVICE_DESK,STAGING,\n\
            fabrikam-prod,12,2,2027-06-30,SERVICE_MANAGEMENT,PRODUCTION,Fabrikam\n";
        let printed = succeeded(&import(&app, csv, &["--dry-run", "--create-missing"]).await);
        assert_eq!(
            printed,
            "Northwind-Prod: named 10 → 30, renewal date none → 2028-03-01, display name \"Northwind-Prod display\" → \"Northwind\"\n\
             contoso-stage: renewal date 2027-01-31 → none\n\
             fabrikam-prod: new slice (PRODUCTION, SERVICE_MANAGEMENT, named 12, concurrent 2, renewal date 2027-06-30, mode OFF)\n\
             total: 3 slices, 1 new, 2 changed, 0 unchanged; dry run, nothing was written\n"
        );
        assert_eq!(load_slice(&app, &operator, &northwind).await, before);
        assert_eq!(load_slice(&app, &operator, &contoso).await["renewalDate"], "2027-01-31");
        assert_eq!(slice_id(&app, &operator, "fabrikam-prod").await, None, "the dry run created no slice");
    }
}

db_test! {
    async fn missing_slice_needs_create_missing(app) {
        let (operator, _, _) = setup(&app).await;
        // A stored schedule overrides the configured one, here and in the importing process.
        app.ok(
            Some(&operator),
            "mutation($v: DateTime, $w: DateTime!, $e: DateTime!) { setRolloutSchedule(visibleAt: $v, warnAt: $w, enforceAt: $e) { phase } }",
            json!({ "v": "2019-01-01T00:00:00Z", "w": "2020-01-01T00:00:00Z", "e": "2099-01-01T00:00:00Z" }),
        )
        .await;
        let csv = b"slice,named,concurrent,renewal_date,edition,kind,display_name,customer\n\
            fabrikam-prod,12,2,2027-06-30,SERVICE_MANAGEMENT,production,,Fabrikam\n\
            fabrikam-test,3,0,,SERVICE_DESK,Staging,Fabrikam test,\n";

        let errors = failed(&import(&app, csv, &[]).await);
        assert!(
            errors.contains("line 2, column slice: no slice is named `fabrikam-prod`; correct the name, \
                             or pass --create-missing to create the slice"),
            "{errors}"
        );
        assert!(errors.contains("line 3, column slice: no slice is named `fabrikam-test`"), "{errors}");

        let without_kind = b"slice,named,concurrent,renewal_date,edition,kind\n\
            contoso-stage,4,0,2027-01-31,SERVICE_DESK,\n\
            fabrikam-prod,12,2,,SERVICE_MANAGEMENT,\n";
        let errors = failed(&import(&app, without_kind, &["--create-missing"]).await);
        assert!(
            errors.contains("line 3, column kind: slice `fabrikam-prod` does not exist yet, so its kind is required: \
                             write PRODUCTION or STAGING"),
            "{errors}"
        );
        let no_kind_column = b"slice,named,concurrent,renewal_date,edition\nfabrikam-prod,12,2,,SERVICE_MANAGEMENT\n";
        let errors = failed(&import(&app, no_kind_column, &["--create-missing"]).await);
        assert!(errors.contains("line 2, column kind: "), "{errors}");
        assert_eq!(slice_id(&app, &operator, "fabrikam-prod").await, None);

        let printed = succeeded(&import(&app, csv, &["--create-missing"]).await);
        assert!(
            printed.contains("fabrikam-prod: created (PRODUCTION, SERVICE_MANAGEMENT, named 12, concurrent 2, \
                              renewal date 2027-06-30, mode WARN)"),
            "{printed}"
        );
        assert!(printed.ends_with("total: 2 slices, 2 created, 0 changed, 0 unchanged\n"), "{printed}");

        let production = slice_id(&app, &operator, "fabrikam-prod").await.expect("fabrikam-prod was created");
        let production = load_slice(&app, &operator, &production).await;
        assert_eq!(production["displayName"], "fabrikam-prod", "the display name defaults to the slice name");
        assert_eq!(production["customer"], "Fabrikam");
        assert_eq!(production["kind"], "PRODUCTION");
        assert_eq!(production["enforcementMode"], "WARN", "a production slice starts in the rollout's mode");
        assert_eq!(production["modePinned"], false);
        assert_eq!(production["alertThresholdPercent"], 80);
        let staging = slice_id(&app, &operator, "fabrikam-test").await.expect("fabrikam-test was created");
        let staging = load_slice(&app, &operator, &staging).await;
        assert_eq!(staging["displayName"], "Fabrikam test");
        assert_eq!(staging["customer"], Value::Null);
        assert_eq!(staging["enforcementMode"], "OFF", "a staging slice starts in OFF");
    }
}

db_test! {
    async fn bom_and_crlf(app) {
        let (operator, northwind, _) = setup(&app).await;
        let bad = b"\xEF\xBB\xBFslice,named,concurrent,renewal_date,edition\r\n\
            Northwind-Prod,20,5,,SERVICE_MANAGEMENT\r\n\r\n\
            contoso-stage,4,0,31.01.2027,SERVICE_DESK\r\n";
        let errors = failed(&import(&app, bad, &[]).await);
        assert!(
            errors.contains(r#"line 4, column renewal_date: expected a date as YYYY-MM-DD such as 2027-03-01, or an empty cell for no renewal date, got "31.01.2027""#),
            "{errors}"
        );
        assert_eq!(load_slice(&app, &operator, &northwind).await["ownedNamedLicenses"], 10);

        let good = b"\xEF\xBB\xBFslice,named,concurrent,renewal_date,edition\r\n\
            Northwind-Prod,20,5,,SERVICE_MANAGEMENT\r\n\r\n\
            contoso-stage,4,0,2027-01-31,SERVICE_DESK\r\n";
        let printed = succeeded(&import(&app, good, &[]).await);
        assert!(printed.starts_with("Northwind-Prod: named 10 → 20\ncontoso-stage: unchanged\n"), "{printed}");
        assert_eq!(load_slice(&app, &operator, &northwind).await["ownedNamedLicenses"], 20);
    }
}

db_test! {
    async fn kind_of_existing_slice_is_kept(app) {
        let (operator, _, contoso) = setup(&app).await;
        let csv = b"slice,named,concurrent,renewal_date,edition,kind\n\
            Northwind-Prod,10,5,,SERVICE_MANAGEMENT,Production\n\
            contoso-stage,8,0,2027-01-31,SERVICE_DESK,PRODUCTION\n";
        let errors = failed(&import(&app, csv, &[]).await);
        assert!(
            errors.contains("line 3, column kind: slice `contoso-stage` is STAGING, and the import cannot make it PRODUCTION; \
                             write STAGING or leave the cell empty"),
            "{errors}"
        );
        assert!(!errors.contains("line 2,"), "a kind that matches is accepted: {errors}");
        assert_eq!(load_slice(&app, &operator, &contoso).await["ownedNamedLicenses"], 4);
    }
}

db_test! {
    async fn same_slice_twice(app) {
        let (operator, northwind, _) = setup(&app).await;
        let csv = b"slice,named,concurrent,renewal_date,edition\n\
            Northwind-Prod,20,5,,SERVICE_MANAGEMENT\n\
            contoso-stage,4,0,2027-01-31,SERVICE_DESK\n\
            NORTHWIND-prod,30,5,,SERVICE_MANAGEMENT\n";
        let errors = failed(&import(&app, csv, &[]).await);
        assert!(
            errors.contains("line 4, column slice: slice `NORTHWIND-prod` already appears on line 2 \
                             (names match regardless of letter case); keep one line per slice"),
            "{errors}"
        );
        assert!(!errors.contains("line 2,"), "the first line is not the error: {errors}");
        assert_eq!(load_slice(&app, &operator, &northwind).await["ownedNamedLicenses"], 10);
    }
}

db_test! {
    async fn header_errors_name_header(app) {
        setup(&app).await;
        let errors = failed(&import(&app, b"slice,named,fixed,concurrent,renewal_date,edition,seats\n", &[]).await);
        assert!(errors.contains("line 1, column fixed: repeats column `named`"), "{errors}");
        assert!(errors.contains("line 1, column seats: unknown column"), "{errors}");
        let errors = failed(&import(&app, b"slice,named,concurrent,edition\n", &[]).await);
        assert!(errors.contains("line 1, column renewal_date: missing required column"), "{errors}");
    }
}

db_test! {
    async fn lowering_counts_records_usage(app) {
        let (operator, northwind, _) = setup(&app).await;
        app.ok(
            Some(&operator),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({ "input": { "sliceId": northwind, "username": "ada", "email": "ada@customer.example", "displayName": "Ada",
                               "password": PASSWORD, "licenseType": "SELF_SERVICE", "role": "ADMIN" } }),
        )
        .await;
        for username in ["nia", "ned", "noa"] {
            app.create_user(&operator, &northwind, username, "NAMED", "MEMBER").await;
        }
        app.ok(
            Some(&operator),
            "mutation($id: ID!) { updateSlice(id: $id, input: {enforcementMode: WARN}) { id } }",
            json!({ "id": northwind }),
        )
        .await;
        let before = load_slice(&app, &operator, &northwind).await["version"].as_i64().unwrap();

        let csv = b"slice,named,concurrent,renewal_date,edition\nNorthwind-Prod,2,5,,SERVICE_MANAGEMENT\n";
        let printed = succeeded(&import(&app, csv, &[]).await);
        assert!(printed.starts_with("Northwind-Prod: named 10 → 2\n"), "{printed}");

        let after = load_slice(&app, &operator, &northwind).await;
        assert_eq!(after["ownedNamedLicenses"], 2);
        assert_eq!(after["version"].as_i64().unwrap(), before + 1, "the usage change bumped the version once");

        let slice_uuid = uuid::Uuid::parse_str(&northwind).unwrap();
        let over = compliance_event::Entity::find()
            .filter(compliance_event::Column::SliceId.eq(slice_uuid))
            .filter(compliance_event::Column::Kind.eq(ComplianceEventKind::OverLimit))
            .all(&app.state.db)
            .await
            .unwrap();
        assert_eq!(over.len(), 1, "{over:?}");
        assert_eq!(over[0].in_use, Some(3));
        assert_eq!(over[0].owned, Some(2));
        assert_eq!(over[0].actor_id, None, "the import acts as the service");
        assert_eq!(over[0].email_status, EmailStatus::Pending, "WARN emails an OVER_LIMIT event");
        let emails = outbox_email::Entity::find()
            .filter(outbox_email::Column::ComplianceEventId.eq(over[0].id))
            .all(&app.state.db)
            .await
            .unwrap();
        assert_eq!(emails.len(), 1);
        assert!(emails[0].subject.contains("NAMED licenses over the limit: 3 in use of 2 owned"), "{}", emails[0].subject);
    }
}

#[tokio::test]
async fn help_lists_columns() {
    let output = import_command().arg("--help").output().await.unwrap();
    assert!(output.status.success());
    let help = stdout(&output);
    assert!(help.contains("named (or fixed)"), "{help}");
    assert!(help.contains("--dry-run"), "{help}");
    assert!(help.contains("--create-missing"), "{help}");
}

#[tokio::test]
async fn unreadable_file_names_path() {
    let output = import_command()
        .env("SEATWARDEN_DATABASE_URL", "sqlite::memory:")
        .arg("/nonexistent/contracts.csv")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(errors.contains("importing /nonexistent/contracts.csv failed: reading the file failed"), "{errors}");
}
