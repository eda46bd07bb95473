//! The demo data set that `serve --demo` loads into an empty database.

mod history;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Days;
use entity::{Channel, Edition, LicenseType, Role, SliceKind, slice, user};
use rand::RngCore;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::{
    access,
    error::{AppError, AppResult},
    sessions::{self, LoginOutcome, LoginRequest},
    rollout,
    slices::{self, NewSlice},
    state::AppState,
    users::{self, NewUser},
};

const OPERATOR: &str = "operator";
const STAGING: &str = "northwind-staging";
const PRODUCTION: &str = "northwind-prod";

/// Users of the production slice: username, display name, license type, role.
const PRODUCTION_USERS: &[(&str, &str, LicenseType, Role)] = &[
    ("ada", "Ada Administrator", LicenseType::Named, Role::Admin),
    ("ben", "Ben Analyst", LicenseType::Named, Role::Member),
    ("cleo", "Cleo Analyst", LicenseType::Named, Role::Member),
    ("dev", "Dev Shift Lead", LicenseType::Concurrent, Role::Member),
    ("eve", "Eve Night Shift", LicenseType::Concurrent, Role::Member),
    ("fay", "Fay Level Two", LicenseType::Concurrent, Role::Member),
    ("sam", "Sam Requester", LicenseType::SelfService, Role::Member),
    ("monitor", "Monitoring Integration", LicenseType::WebServices, Role::Member),
];

/// Loads the demo data when the database contains no slice and no account, and
/// prints the credentials once. Does nothing on a database in use.
pub async fn load_if_empty(state: &AppState) -> AppResult<()> {
    let slices_count = slice::Entity::find().count(&state.db).await?;
    let users_count = user::Entity::find().count(&state.db).await?;
    if slices_count > 0 || users_count > 0 {
        println!(
            "The database already holds data, so no demo data was loaded and no password is printed. \
             For a fresh demo, stop the service and delete the database file (seatwarden.db by default)."
        );
        return Ok(());
    }
    let password = generate_password();
    let clock = state.clock.as_ref();
    let db = &state.db;

    let operator =
        match users::create_operator(db, clock, &state.hasher, OPERATOR, "operator@seatwarden.example", &password).await {
            Ok(operator) => operator,
            // Another instance started at the same time on the same empty database got there first.
            Err(AppError::BadInput { .. }) => {
                println!("Another instance is loading the demo data into this database; its banner has the password.");
                return Ok(());
            }
            Err(error) => return Err(error),
        };
    // A rollout a first-time user can watch: WARN from now on, ENFORCE in ten minutes.
    let now = clock.now();
    let enforce_at = now + chrono::Duration::minutes(10);
    rollout::set_schedule(
        db,
        clock,
        &state.events,
        &state.config,
        access::host_operator(),
        operator.id,
        Some(now - chrono::Duration::minutes(2)),
        now - chrono::Duration::minutes(1),
        enforce_at,
    )
    .await?;
    let phase_mode = rollout::current_mode(db, &state.config, now).await?;
    // Production renews in 45 days, so the 60-day renewal reminder goes out on the first run.
    let today = clock.now().date_naive();
    let staging_renewal = today.checked_add_days(Days::new(90));
    let production_renewal = today.checked_add_days(Days::new(45));
    let staging = slices::create(
        db,
        clock,
        access::host_operator(),
        NewSlice {
            name: STAGING.to_owned(),
            display_name: "Northwind Traders (staging)".to_owned(),
            customer: Some("Northwind Traders".to_owned()),
            kind: SliceKind::Staging,
            edition: Edition::ServiceManagement,
            owned_named_licenses: 5,
            owned_concurrent_licenses: 2,
            renewal_date: staging_renewal,
            alert_threshold_percent: 80,
        },
        phase_mode,
    )
    .await?;
    let production = slices::create(
        db,
        clock,
        access::host_operator(),
        NewSlice {
            name: PRODUCTION.to_owned(),
            display_name: "Northwind Traders".to_owned(),
            customer: Some("Northwind Traders".to_owned()),
            kind: SliceKind::Production,
            edition: Edition::ServiceManagement,
            owned_named_licenses: 4,
            owned_concurrent_licenses: 2,
            renewal_date: production_renewal,
            alert_threshold_percent: 80,
        },
        phase_mode,
    )
    .await?;
    history::seed(db, production.id, now).await?;

    let new_user = |username: &str, display_name: &str, license_type, role| NewUser {
        username: username.to_owned(),
        email: format!("{username}@northwind.example"),
        display_name: display_name.to_owned(),
        password: password.clone(),
        license_type,
        role,
    };
    users::create(
        db,
        clock,
        &state.hasher,
        &state.events,
        None,
        access::host_administered(staging),
        new_user("ada", "Ada Administrator", LicenseType::Named, Role::Admin),
    )
    .await?;
    for &(username, display_name, license_type, role) in PRODUCTION_USERS {
        users::create(
            db,
            clock,
            &state.hasher,
            &state.events,
            None,
            access::host_administered(production.clone()),
            new_user(username, display_name, license_type, role),
        )
        .await?;
    }

    for (username, channel) in [("ben", Channel::Web), ("dev", Channel::Web), ("ben", Channel::Mobile), ("monitor", Channel::Api)] {
        let request = LoginRequest {
            slice: Some(PRODUCTION.to_owned()),
            username: username.to_owned(),
            password: password.clone(),
            channel,
            user_agent: Some("seatwarden demo loader".to_owned()),
            client_address: Some("127.0.0.1".to_owned()),
            end_session_ids: Vec::new(),
        };
        if let LoginOutcome::Rejected(reason) = sessions::login(db, clock, &state.hasher, &state.sessions, &state.events, request).await? {
            tracing::warn!(username, ?reason, "demo login was rejected");
        }
    }

    let bind = state.config.bind;
    println!(
        "Demo data loaded. Open http://{bind}/graphiql and log in with the password {password}\n\
         \x20 operator:       slice: null,               username: \"{OPERATOR}\"\n\
         \x20 administrator:  slice: \"{PRODUCTION}\", username: \"ada\" (also in \"{STAGING}\")\n\
         \x20 members:        slice: \"{PRODUCTION}\", usernames: ben, cleo (NAMED), dev, eve, fay (CONCURRENT), sam (SELF_SERVICE), monitor (WEB_SERVICES, channel API)\n\
         \x20 {PRODUCTION} follows the demo rollout: WARN now, ENFORCE at {enforce_at} (see rolloutSchedule;\n\
         \x20 the operator moves it with setRolloutSchedule). Each NAMED or CONCURRENT user may hold 2 live WEB\n\
         \x20 sessions: ben already holds one, so his third WEB login returns SessionLimitReached. The slice owns\n\
         \x20 2 CONCURRENT seats and dev holds one: after eve logs in on WEB, fay's WEB login is let in with the\n\
         \x20 warning WOULD_BE_BLOCKED_WHEN_ENFORCED in WARN, and returns LicenseUnavailable in ENFORCE.\n\
         \x20 subscriptionCenter(sliceId) of {PRODUCTION} shows four weeks of usage history, the renewal in 45\n\
         \x20 days and the compliance events as they are recorded; /export/usage.csv?sliceId=…&from=…&to=… gives\n\
         \x20 the history as CSV, and /dashboard shows it all live.\n\
         This password is printed only now; it is not stored in clear anywhere."
    );
    tracing::info!("demo data loaded");
    Ok(())
}

/// A random password of 16 URL-safe characters.
fn generate_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
