//! GraphQL subscriptions running over WebSocket.

use metrics::gauge;

use super::{graphql::OperationLabels, names::WEBSOCKET_SUBSCRIPTIONS};

/// Counts one running subscription in
/// `seatwarden_websocket_subscriptions_active` from its creation until it is
/// dropped.
///
/// Holding it in the operation's task decrements the gauge however the
/// operation ends: its stream completes, the client sends `complete`, the
/// connection closes, or the task is aborted or panics.
#[derive(Debug)]
pub struct LiveSubscription {
    root_fields: String,
}

impl LiveSubscription {
    /// Starts counting when `request` selects a subscription operation, and
    /// returns `None` for a query, a mutation or a document that does not parse.
    /// The parsed document stays in the request for execution.
    pub fn track(request: &mut async_graphql::Request) -> Option<Self> {
        let labels = OperationLabels::of(request);
        if labels.operation_type != "subscription" {
            return None;
        }
        gauge!(WEBSOCKET_SUBSCRIPTIONS, "root_fields" => labels.root_fields.clone()).increment(1.0);
        Some(Self { root_fields: labels.root_fields })
    }
}

impl Drop for LiveSubscription {
    fn drop(&mut self) {
        gauge!(WEBSOCKET_SUBSCRIPTIONS, "root_fields" => std::mem::take(&mut self.root_fields)).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAUGE: &str = r#"seatwarden_websocket_subscriptions_active{root_fields="licenseUsage"}"#;

    fn request(query: &str) -> async_graphql::Request {
        async_graphql::Request::new(query)
    }

    #[test]
    fn only_subscriptions_are_tracked() {
        assert!(LiveSubscription::track(&mut request("{ me { username } }")).is_none());
        assert!(LiveSubscription::track(&mut request("mutation { logout }")).is_none());
        assert!(LiveSubscription::track(&mut request("subscription {")).is_none());
    }

    #[test]
    fn gauge_follows_guards_and_aborted_tasks() {
        let recorder = super::super::recorder::build().unwrap();
        let handle = recorder.handle();
        let value = || -> String {
            let rendered = handle.render();
            rendered.lines().find_map(|line| line.strip_prefix(GAUGE)).unwrap_or("absent").trim().to_owned()
        };
        let query = "subscription($s: ID!) { licenseUsage(sliceId: $s) { version } }";

        metrics::with_local_recorder(&recorder, || {
            let first = LiveSubscription::track(&mut request(query));
            let second = LiveSubscription::track(&mut request(query));
            assert!(first.is_some());
            assert!(second.is_some());
            assert_eq!(value(), "2");
            drop(first);
            assert_eq!(value(), "1");

            // An aborted task drops its future, and with it the guard.
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let (started, started_received) = tokio::sync::oneshot::channel();
                let task = tokio::spawn(async move {
                    let _live = LiveSubscription::track(&mut request(query));
                    let _ = started.send(());
                    std::future::pending::<()>().await;
                });
                started_received.await.unwrap();
                assert_eq!(value(), "2");
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
            });
            assert_eq!(value(), "1");
            drop(second);
            assert_eq!(value(), "0");
        });
    }
}
