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

db_test! {
    async fn one_instance_at_a_time_holds_a_job_lease(app) {
        use seatwarden::jobs::lease;
        let db = &app.state.db;
        let now = app.now();
        let until = now + chrono::Duration::minutes(10);
        let (first, second) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        assert!(lease::acquire(db, "session_sweep", first, now, until).await.unwrap());
        assert!(!lease::acquire(db, "session_sweep", second, now, until).await.unwrap(), "held by the first instance");
        assert!(lease::acquire(db, "session_sweep", first, now, until).await.unwrap(), "the holder renews its own lease");
        assert!(lease::acquire(db, "rollout", second, now, until).await.unwrap(), "each job has its own lease");

        lease::release(db, "session_sweep", first, now).await.unwrap();
        assert!(lease::acquire(db, "session_sweep", second, now, until).await.unwrap(), "a released lease is free");
        let later = now + chrono::Duration::minutes(5);
        assert!(!lease::acquire(db, "session_sweep", first, later, later + chrono::Duration::minutes(10)).await.unwrap());
        assert!(
            lease::acquire(db, "session_sweep", first, until, until + chrono::Duration::minutes(10)).await.unwrap(),
            "an expired lease is taken over"
        );

        let holders: Vec<uuid::Uuid> = (0..10).map(|_| uuid::Uuid::new_v4()).collect();
        let attempts = holders.iter().map(|holder| lease::acquire(db, "usage_history", *holder, now, until));
        let taken = futures_util::future::join_all(attempts).await.into_iter().filter(|taken| *taken.as_ref().unwrap()).count();
        assert_eq!(taken, 1, "of ten instances at once, one takes the lease");
    }
}
