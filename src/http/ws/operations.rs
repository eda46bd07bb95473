//! The phase after `connection_ack`: the main loop, keep-alive, and the table
//! of running operations with their merged result streams.

use std::{collections::HashMap, convert::Infallible, sync::Arc};

use async_graphql::{Data, Pos};
use axum::extract::ws::Message;
use futures_util::{
    StreamExt,
    stream::{self, AbortHandle, BoxStream, SelectAll},
};
use tokio::time::{Instant, MissedTickBehavior};

use super::{
    WebSocketConnection,
    connection::{AuthFailure, Connection, NO_LIVE_SESSION, authenticate_token},
    protocol::{
        ClientMessage, End, FORBIDDEN, IDLE_TIMEOUT, NORMAL_CLOSURE, SUBSCRIBER_ALREADY_EXISTS, ServerMessage,
        Subprotocol, TOO_MANY_INITIALISATION_REQUESTS,
    },
};
use crate::{
    auth::{Auth, Principal},
    graphql::{RequestContext, error::to_graphql_error},
    http::HttpState,
};

/// One item of the merged result streams: a result of operation `id`, or the
/// end of that operation when `response` is `None`.
struct Output {
    id: String,
    serial: u64,
    response: Option<async_graphql::Response>,
}

/// A running operation. `serial` distinguishes its results from those of an
/// earlier operation that had the same id and was completed or replaced.
struct Operation {
    serial: u64,
    abort: AbortHandle,
}

/// The running operations of a connection and their merged results.
#[derive(Default)]
struct Operations {
    running: HashMap<String, Operation>,
    outputs: SelectAll<BoxStream<'static, Output>>,
    last_serial: u64,
}

impl Operations {
    fn is_running(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    fn start(&mut self, id: String, results: BoxStream<'static, async_graphql::Response>) {
        self.last_serial += 1;
        let (results, abort) = stream::abortable(results);
        self.outputs.push(tagged_results(id.clone(), self.last_serial, results));
        self.running.insert(id, Operation { serial: self.last_serial, abort });
    }

    /// Stops operation `id`, if it runs, without a `complete` message.
    fn stop(&mut self, id: &str) {
        if let Some(operation) = self.running.remove(id) {
            operation.abort.abort();
        }
    }

    /// Returns whether `output` belongs to a running operation, and removes the
    /// operation when `output` is its end.
    fn accept(&mut self, output: &Output) -> bool {
        let is_current = self.running.get(&output.id).is_some_and(|operation| operation.serial == output.serial);
        if is_current && output.response.is_none() {
            self.running.remove(&output.id);
        }
        is_current
    }
}

impl Connection {
    /// Builds the data available to an operation: [`RequestContext`] and [`WebSocketConnection`].
    fn operation_data(&self, principal: Box<Principal>) -> Arc<Data> {
        let connection = WebSocketConnection { session_id: principal.session.id, subprotocol: self.subprotocol.name() };
        let mut data = Data::default();
        data.insert(RequestContext {
            auth: Auth::Authenticated(principal),
            client_address: Some(self.peer.ip().to_string()),
        });
        data.insert(connection);
        Arc::new(data)
    }

    /// Runs operations and keep-alive until the connection ends, which is the only way it returns.
    ///
    /// Each operation authenticates `token` again, so an operation after the
    /// session ended closes the connection with 4403, and resolvers see the
    /// user as they are when the operation starts.
    pub(super) async fn run(&mut self, state: &HttpState, token: &str) -> Result<Infallible, End> {
        let mut operations = Operations::default();
        let ping_interval = self.timing.ping_interval;
        let mut ping = tokio::time::interval_at(Instant::now() + ping_interval, ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        self.last_received = Instant::now();

        loop {
            let idle_deadline = self.last_received + self.timing.idle_timeout;
            tokio::select! {
                received = self.receive() => match received? {
                    None | Some(ClientMessage::Pong) => {}
                    Some(ClientMessage::Ping { payload }) => self.send(&ServerMessage::Pong { payload }).await?,
                    Some(ClientMessage::ConnectionInit { .. }) => {
                        return Err(End::close(TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests"));
                    }
                    Some(ClientMessage::Subscribe { id, request }) => {
                        if operations.is_running(&id) {
                            if self.subprotocol == Subprotocol::TransportWs {
                                return Err(End::close(SUBSCRIBER_ALREADY_EXISTS, format!("Subscriber for {id} already exists")));
                            }
                            // graphql-ws replaces the running operation, as the
                            // subscriptions-transport-ws server does.
                            operations.stop(&id);
                        }
                        let results = self.execute(state, token, *request).await?;
                        operations.start(id, results);
                    }
                    Some(ClientMessage::Complete { id }) => operations.stop(&id),
                    Some(ClientMessage::ConnectionTerminate) => {
                        return Err(End::close(NORMAL_CLOSURE, "connection_terminate received"));
                    }
                },
                Some(output) = operations.outputs.next(), if !operations.outputs.is_empty() => {
                    if operations.accept(&output) {
                        self.send_output(&output).await?;
                    }
                },
                _ = ping.tick() => self.send_keepalive().await?,
                () = tokio::time::sleep_until(idle_deadline) => {
                    let timeout = humantime::format_duration(self.timing.idle_timeout);
                    return Err(End::close(IDLE_TIMEOUT, format!("Idle timeout: nothing received within {timeout}")));
                }
            }
        }
    }

    /// Authenticates `token` again and starts executing `request`.
    async fn execute(
        // `&mut`, because `WebSocket` is not `Sync`: a shared borrow held
        // across the await would make the connection's future not `Send`.
        &mut self,
        state: &HttpState,
        token: &str,
        request: async_graphql::Request,
    ) -> Result<BoxStream<'static, async_graphql::Response>, End> {
        match authenticate_token(state, token).await {
            Ok(principal) => Ok(state.schema.execute_stream_with_session_data(request, self.operation_data(principal))),
            Err(AuthFailure::NoLiveSession) => Err(End::close(FORBIDDEN, NO_LIVE_SESSION)),
            // A failure such as an unavailable database fails this operation
            // only, with the error's code in its result.
            Err(AuthFailure::Error(error)) => {
                let error = to_graphql_error(&error).into_server_error(Pos::default());
                Ok(stream::once(std::future::ready(async_graphql::Response::from_errors(vec![error]))).boxed())
            }
        }
    }

    /// Sends a result as `next` (graphql-ws: `data`), or the end of an operation as `complete`.
    async fn send_output(&mut self, output: &Output) -> Result<(), End> {
        let id = output.id.as_str();
        let message = match (&output.response, self.subprotocol) {
            (Some(response), Subprotocol::TransportWs) => ServerMessage::Next { id, payload: response },
            (Some(response), Subprotocol::LegacyWs) => ServerMessage::Data { id, payload: response },
            (None, _) => ServerMessage::Complete { id },
        };
        self.send(&message).await
    }

    /// Sends `{"type":"ping"}` on graphql-transport-ws, where the client
    /// replies with `pong`. graphql-ws has no ping message, so on it the server
    /// sends a WebSocket Ping frame, which RFC 6455 (section 5.5.2) requires
    /// clients to respond to with a Pong frame, and `ka` for the client's own
    /// keep-alive check.
    async fn send_keepalive(&mut self) -> Result<(), End> {
        match self.subprotocol {
            Subprotocol::TransportWs => self.send(&ServerMessage::Ping).await,
            Subprotocol::LegacyWs => {
                self.send_frame(Message::Ping(Default::default())).await?;
                self.send(&ServerMessage::Ka).await
            }
        }
    }
}

/// Tags each result of operation `id` and appends the end marker.
fn tagged_results(
    id: String,
    serial: u64,
    results: impl futures_util::Stream<Item = async_graphql::Response> + Send + 'static,
) -> BoxStream<'static, Output> {
    let end_id = id.clone();
    results
        .map(move |response| Output { id: id.clone(), serial, response: Some(response) })
        .chain(stream::once(async move { Output { id: end_id, serial, response: None } }))
        .boxed()
}
