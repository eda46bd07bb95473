//! `sessionEvents` through a third-party graphql-transport-ws client
//! (graphql-ws-client) over a real WebSocket.

use graphql_ws_client::Subscription;
use serde_json::json;

use crate::{
    db_test,
    harness::{PASSWORD, TestApp, slice_input},
    ws_client::{self, Operation, next},
};

const SESSION_EVENTS: &str = "subscription($s: ID!) { sessionEvents(sliceId: $s) { kind \
    session { id channel endReason user { username } } usage { version named { inUse } concurrent { inUse } } } }";

/// Subscribes to the slice's session events as the holder of `token`.
async fn subscribe(app: &TestApp, token: &str, slice: &str) -> Result<Subscription<Operation>, graphql_ws_client::Error> {
    ws_client::subscribe(app, token, SESSION_EVENTS, json!({ "s": slice })).await
}

struct Setup {
    slice: String,
    admin: String,
}

async fn setup(app: &TestApp) -> Setup {
    let operator = app.operator("root").await;
    let slice = app.create_slice(&operator, slice_input("acme")).await;
    app.create_user(&operator, &slice, "ada", "NAMED", "ADMIN").await;
    app.create_user(&operator, &slice, "carl", "CONCURRENT", "MEMBER").await;
    let other = app.create_slice(&operator, slice_input("globex")).await;
    app.create_user(&operator, &other, "gus", "NAMED", "ADMIN").await;
    let admin = app.login(Some("acme"), "ada", PASSWORD).await;
    Setup { slice, admin }
}

db_test! {
    async fn login_and_logout_reach_subscriber(app) {
        let setup = setup(&app).await;
        let mut events = subscribe(&app, &setup.admin, &setup.slice).await.unwrap();
        let version_before = app
            .ok(Some(&setup.admin), "query($s: ID!) { slice(id: $s) { version } }", json!({ "s": setup.slice }))
            .await["slice"]["version"]
            .as_i64()
            .unwrap();

        let carl = app.login(Some("acme"), "carl", PASSWORD).await;
        let started = next(&mut events).await.expect("a STARTED event");
        let event = &started["data"]["sessionEvents"];
        assert_eq!(event["kind"], "STARTED", "{started}");
        assert_eq!(event["session"]["user"]["username"], "carl");
        assert_eq!(event["usage"]["concurrent"]["inUse"], 1, "usage as computed with the new session");
        assert_eq!(event["usage"]["version"], version_before + 1);

        app.ok(Some(&carl), "mutation { logout }", json!({})).await;
        let ended = next(&mut events).await.expect("an ENDED event");
        let event = &ended["data"]["sessionEvents"];
        assert_eq!(event["kind"], "ENDED");
        assert_eq!(event["session"]["endReason"], "LOGOUT");
        assert_eq!(event["usage"]["concurrent"]["inUse"], 0);
        assert_eq!(event["usage"]["version"], version_before + 2);
    }
}

db_test! {
    async fn other_slices_events_are_not_sent(app) {
        let setup = setup(&app).await;
        let mut events = subscribe(&app, &setup.admin, &setup.slice).await.unwrap();
        app.login(Some("globex"), "gus", PASSWORD).await;
        app.login(Some("acme"), "carl", PASSWORD).await;
        let first = next(&mut events).await.expect("an event");
        assert_eq!(first["data"]["sessionEvents"]["session"]["user"]["username"], "carl", "globex's login is not sent");
    }
}

db_test! {
    async fn subscription_ends_with_its_session(app) {
        let setup = setup(&app).await;
        let mut events = subscribe(&app, &setup.admin, &setup.slice).await.unwrap();
        app.ok(Some(&setup.admin), "mutation { logout }", json!({})).await;
        assert!(next(&mut events).await.is_none(), "the stream completes when the subscriber's session ends");
    }
}

db_test! {
    async fn subscription_requires_administration(app) {
        let setup = setup(&app).await;
        let member = app.login(Some("acme"), "carl", PASSWORD).await;
        let mut refused = subscribe(&app, &member, &setup.slice).await.unwrap();
        let answer = next(&mut refused).await.expect("an error payload");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "FORBIDDEN", "{answer}");

        let foreign_admin = app.login(Some("globex"), "gus", PASSWORD).await;
        let mut refused = subscribe(&app, &foreign_admin, &setup.slice).await.unwrap();
        let answer = next(&mut refused).await.expect("an error payload");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "NOT_FOUND", "{answer}");
    }
}

db_test! {
    async fn sweep_publishes_expired_sessions(app) {
        let setup = setup(&app).await;
        let mut events = subscribe(&app, &setup.admin, &setup.slice).await.unwrap();
        app.login(Some("acme"), "carl", PASSWORD).await;
        next(&mut events).await.expect("STARTED");

        // Keep the subscriber's own session alive while carl's idles out.
        app.clock.advance(chrono::Duration::minutes(20));
        app.ok(Some(&setup.admin), "{ me { id } }", json!({})).await;
        app.clock.advance(chrono::Duration::minutes(11));
        let state = &app.state;
        let report = seatwarden::sessions::sweep_expired(&state.db, state.clock.as_ref(), &state.events).await.unwrap();
        assert_eq!(report.ended, 2, "carl's session and the operator's, both idle for 31 minutes");
        assert_eq!(report.slices, 2, "acme's sessions and the operators' are swept separately");
        let ended = next(&mut events).await.expect("ENDED");
        let event = &ended["data"]["sessionEvents"];
        assert_eq!(event["kind"], "ENDED");
        assert_eq!(event["session"]["endReason"], "EXPIRED");
        assert_eq!(event["usage"]["concurrent"]["inUse"], 0);

        let again = seatwarden::sessions::sweep_expired(&state.db, state.clock.as_ref(), &state.events).await.unwrap();
        assert_eq!(again.ended, 0, "a second sweep finds nothing");
    }
}

db_test! {
    async fn bad_token_is_closed_with_4403(app) {
        let setup = setup(&app).await;
        let refused = subscribe(&app, "not-a-real-token", &setup.slice).await;
        match refused {
            Err(graphql_ws_client::Error::Close(code, _)) => assert_eq!(code, 4403),
            Err(other) => panic!("expected close 4403, got {other:?}"),
            Ok(_) => panic!("a bad token must not be acknowledged"),
        }
    }
}
