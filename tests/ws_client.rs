//! A third-party graphql-transport-ws client (graphql-ws-client, over
//! tokio-tungstenite) for subscription tests.

use std::{future::IntoFuture, time::Duration};

use futures_util::StreamExt;
use graphql_ws_client::{Client, Subscription, graphql::GraphqlOperation};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite_0_28::tungstenite::{client::IntoClientRequest, http::HeaderValue};

use crate::harness::TestApp;

/// Maximum wait for an event that the test has just caused.
pub const EVENT_WAIT: Duration = Duration::from_secs(1);

/// A GraphQL operation given as text; its response is the raw JSON payload.
#[derive(Serialize)]
pub struct Operation {
    pub query: String,
    pub variables: Value,
}

impl GraphqlOperation for Operation {
    type Response = Value;
    type Error = serde_json::Error;

    fn decode(&self, data: Value) -> Result<Value, serde_json::Error> {
        Ok(data)
    }
}

/// Opens a connection authenticated with `token` and starts `query`, then
/// waits until the server has registered it on the event bus (or refused it,
/// which registers nothing), so that no event published afterwards is missed.
pub async fn subscribe(
    app: &TestApp,
    token: &str,
    query: impl Into<String>,
    variables: Value,
) -> Result<Subscription<Operation>, graphql_ws_client::Error> {
    let url = format!("{}/graphql", app.base_url.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (connection, _) = tokio_tungstenite_0_28::connect_async(request).await.unwrap();
    let (client, actor) = Client::build(connection)
        .payload(json!({ "Authorization": format!("Bearer {token}") }))
        .unwrap()
        .await?;
    tokio::spawn(actor.into_future());
    let bus = &app.state.events;
    let before = bus.subscriber_count();
    let subscription = client.subscribe(Operation { query: query.into(), variables }).await;
    // The client lives as long as the actor task; dropping it here is fine.
    drop(client);
    let subscription = subscription?;
    let registered = async {
        while bus.subscriber_count() <= before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), registered).await;
    Ok(subscription)
}

/// Waits at most `EVENT_WAIT` for the next message; `None` when the stream completed.
pub async fn next(subscription: &mut Subscription<Operation>) -> Option<Value> {
    next_within(subscription, EVENT_WAIT).await
}

/// Waits at most `limit` for the next message; `None` when the stream completed.
pub async fn next_within(subscription: &mut Subscription<Operation>, limit: Duration) -> Option<Value> {
    let message = tokio::time::timeout(limit, subscription.next()).await.unwrap_or_else(|_| panic!("no message within {limit:?}"))?;
    Some(message.unwrap())
}
