//! Prometheus metrics, served in the text exposition format at `GET /metrics`.
//!
//! The `metrics` facade records into one process-wide Prometheus recorder,
//! installed by the first of [`route`] and [`start`] (see `recorder.rs`).
//! Every label value comes from a bounded set: field names of the schema's
//! root types, members of the service's enums, and slice ids. No label ever
//! carries text that a client chose, such as an `operationName` or an alias,
//! so clients cannot create new series at will.
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `seatwarden_graphql_requests_total` | counter | `operation_type`, `root_fields`, `outcome` |
//! | `seatwarden_graphql_request_duration_seconds` | histogram | `operation_type`, `root_fields`, `outcome` |
//! | `seatwarden_logins_total` | counter | `outcome` |
//! | `seatwarden_licenses_in_use` | gauge | `slice_id`, `license_type` |
//! | `seatwarden_licenses_owned` | gauge | `slice_id`, `license_type` |
//! | `seatwarden_websocket_subscriptions_active` | gauge | `root_fields` |
//! | `seatwarden_outbox_emails` | gauge | `status` |
//! | `seatwarden_outbox_delivery_failures_total` | counter | `kind` |
//! | `seatwarden_job_runs_total` | counter | `job`, `outcome` |
//! | `seatwarden_job_duration_seconds` | histogram | `job` |

mod graphql;
mod jobs;
mod logins;
mod names;
mod outbox;
mod recorder;
mod scrape;
mod seats;
mod subscriptions;

pub use graphql::GraphqlRequest;
pub use jobs::record_job_run;
pub use logins::record_login;
pub use outbox::record_delivery_failure;
pub use scrape::{CONTENT_TYPE, route};
pub use seats::start;
pub use subscriptions::LiveSubscription;
