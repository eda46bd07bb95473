//! The phase after `connection_ack`: the main loop, keep-alive, and the table
//! of running operations with their merged result streams.

use std::{collections::HashMap, convert::Infallible, net::SocketAddr, sync::Arc};

use async_graphql::{Data, Pos};
use axum::extract::ws::Message;
use futures_util::{
    FutureExt, StreamExt,
    future::BoxFuture,
    stream::{self, BoxStream},
};
use tokio::{
    sync::mpsc,
    task::AbortHandle,
    time::{Instant, MissedTickBehavior},
};

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
    metrics,
};

/// Operations one connection may run at once; a subscribe beyond it gets an error result.
const MAX_OPERATIONS: usize = 100;

/// Messages the operations of a connection may have queued before they wait.
const OUTPUT_BUFFER: usize = 64;

/// One result of operation `id`, or the end of that operation when `response` is `None`.
struct Output {
    id: String,
    serial: u64,
    response: Option<async_graphql::Response>,
}

/// Message from an operation's task to the connection.
#[expect(clippy::large_enum_variant, reason = "messages move once through a bounded channel")]
enum TaskMessage {
    Output(Output),
    /// The token no longer names a live session: the connection closes with 4403.
    SessionEnded,
}

/// A running operation. `serial` distinguishes its results from those of an
/// earlier operation that had the same id and was completed or replaced.
struct Operation {
    serial: u64,
    task: AbortHandle,
}

/// The running operations of a connection.
///
/// Each operation runs in its own task, which authenticates, executes and
/// sends its results through a channel. The connection's loop therefore never
/// waits for the database itself, so a burst of operations on one connection
/// cannot hold pooled connections that only this loop could release.
struct Operations {
    running: HashMap<String, Operation>,
    sender: mpsc::Sender<TaskMessage>,
    receiver: mpsc::Receiver<TaskMessage>,
    last_serial: u64,
}

impl Default for Operations {
    fn default() -> Self {
        let (sender, receiver) = mpsc::channel(OUTPUT_BUFFER);
        Self { running: HashMap::new(), sender, receiver, last_serial: 0 }
    }
}

impl Operations {
    fn is_running(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    /// Starts `work` as operation `id` in its own task.
    fn start(&mut self, id: String, work: impl FnOnce(u64, mpsc::Sender<TaskMessage>) -> BoxFuture<'static, ()>) {
        self.last_serial += 1;
        let task = tokio::spawn(work(self.last_serial, self.sender.clone()));
        self.running.insert(id, Operation { serial: self.last_serial, task: task.abort_handle() });
    }

    /// Stops operation `id`, if it runs, without a `complete` message.
    fn stop(&mut self, id: &str) {
        if let Some(operation) = self.running.remove(id) {
            operation.task.abort();
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

impl Drop for Operations {
    fn drop(&mut self) {
        for operation in self.running.values() {
            operation.task.abort();
        }
    }
}

impl Connection {
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
                        if operations.running.len() >= MAX_OPERATIONS {
                            let message = format!("at most {MAX_OPERATIONS} operations may run on one connection; complete some first");
                            let response = async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(message, None)]);
                            self.send_output(&Output { id: id.clone(), serial: 0, response: Some(response) }).await?;
                            self.send_output(&Output { id, serial: 0, response: None }).await?;
                            continue;
                        }
                        let (state, token, peer, subprotocol) = (state.clone(), token.to_owned(), self.peer, self.subprotocol);
                        let operation_id = id.clone();
                        operations.start(id, move |serial, sender| {
                            execute(state, token, peer, subprotocol, *request, operation_id, serial, sender).boxed()
                        });
                    }
                    Some(ClientMessage::Complete { id }) => operations.stop(&id),
                    Some(ClientMessage::ConnectionTerminate) => {
                        return Err(End::close(NORMAL_CLOSURE, "connection_terminate received"));
                    }
                },
                Some(message) = operations.receiver.recv() => match message {
                    TaskMessage::Output(output) => {
                        if operations.accept(&output) {
                            self.send_output(&output).await?;
                        }
                    }
                    TaskMessage::SessionEnded => return Err(End::close(FORBIDDEN, NO_LIVE_SESSION)),
                },
                _ = ping.tick() => self.send_keepalive().await?,
                () = tokio::time::sleep_until(idle_deadline) => {
                    let timeout = humantime::format_duration(self.timing.idle_timeout);
                    return Err(End::close(IDLE_TIMEOUT, format!("Idle timeout: nothing received within {timeout}")));
                }
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

/// Runs one operation in its own task: authenticates `token` again, executes
/// `request` and sends each result, then the end, to the connection.
#[expect(clippy::too_many_arguments, reason = "the task owns everything it needs")]
async fn execute(
    state: HttpState,
    token: String,
    peer: SocketAddr,
    subprotocol: Subprotocol,
    mut request: async_graphql::Request,
    id: String,
    serial: u64,
    sender: mpsc::Sender<TaskMessage>,
) {
    // Counts a subscription until this task ends or is aborted.
    let _live = metrics::LiveSubscription::track(&mut request);
    let mut results: BoxStream<'static, async_graphql::Response> = match authenticate_token(&state, &token).await {
        Ok(principal) => state.schema.execute_stream_with_session_data(request, operation_data(principal, peer, subprotocol)),
        Err(AuthFailure::NoLiveSession) => {
            let _ = sender.send(TaskMessage::SessionEnded).await;
            return;
        }
        // A failure such as an unavailable database fails this operation
        // only, with the error's code in its result.
        Err(AuthFailure::Error(error)) => {
            let error = to_graphql_error(&error).into_server_error(Pos::default());
            stream::once(std::future::ready(async_graphql::Response::from_errors(vec![error]))).boxed()
        }
    };
    while let Some(response) = results.next().await {
        let output = Output { id: id.clone(), serial, response: Some(response) };
        if sender.send(TaskMessage::Output(output)).await.is_err() {
            return;
        }
    }
    let _ = sender.send(TaskMessage::Output(Output { id, serial, response: None })).await;
}

/// Builds the data available to an operation: [`RequestContext`] and [`WebSocketConnection`].
fn operation_data(principal: Box<Principal>, peer: SocketAddr, subprotocol: Subprotocol) -> Arc<Data> {
    let connection = WebSocketConnection { session_id: principal.session.id, subprotocol: subprotocol.name() };
    let mut data = Data::default();
    data.insert(RequestContext { auth: Auth::Authenticated(principal), client_address: Some(peer.ip().to_string()) });
    data.insert(connection);
    Arc::new(data)
}
