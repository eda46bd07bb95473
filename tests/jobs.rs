//! The real scheduler runs the jobs on their cron schedules.

use std::time::Duration;

use serde_json::json;

use crate::{
    db_test,
    harness::{PASSWORD, slice_input},
};

db_test! {
    config = |config| config.session_sweep_cron = "* * * * * *".to_owned();
    async fn scheduler_runs_session_sweep(app) {
        let operator = app.operator("root").await;
        let slice = app.create_slice(&operator, slice_input("acme")).await;
        app.create_user(&operator, &slice, "nina", "NAMED", "MEMBER").await;
        app.login(Some("acme"), "nina", PASSWORD).await;
        app.clock.advance(chrono::Duration::minutes(31));

        let mut events = app.state.events.subscribe();
        let mut scheduler = seatwarden::jobs::start(&app.state).await.unwrap();
        // The scheduler reads the system clock, so this waits for a real tick
        // (at most about a second) and gives up after five.
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let event = events.recv().await.unwrap();
                if event.ended_session_id().is_some() && event.slice_id().is_some() {
                    return event;
                }
            }
        })
        .await
        .expect("the sweep ran within five seconds");
        scheduler.shutdown().await.unwrap();
        assert_eq!(ended.slice_id().unwrap().to_string(), slice);

        let operator = app.login(None, "root", PASSWORD).await;
        let sessions = app
            .ok(Some(&operator), "query($s: ID!) { sessions(sliceId: $s, filter: {liveOnly: false}) { edges { node { endReason } } } }", json!({ "s": slice }))
            .await;
        assert_eq!(sessions["sessions"]["edges"][0]["node"]["endReason"], "EXPIRED");
    }
}
