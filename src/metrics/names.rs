//! Metric names, their descriptions, and the series registered up front.

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram};

pub const GRAPHQL_REQUESTS: &str = "seatwarden_graphql_requests_total";
pub const GRAPHQL_DURATION: &str = "seatwarden_graphql_request_duration_seconds";
pub const LOGINS: &str = "seatwarden_logins_total";
pub const LICENSES_IN_USE: &str = "seatwarden_licenses_in_use";
pub const LICENSES_OWNED: &str = "seatwarden_licenses_owned";
pub const WEBSOCKET_SUBSCRIPTIONS: &str = "seatwarden_websocket_subscriptions_active";
pub const OUTBOX_EMAILS: &str = "seatwarden_outbox_emails";
pub const OUTBOX_DELIVERY_FAILURES: &str = "seatwarden_outbox_delivery_failures_total";
pub const JOB_RUNS: &str = "seatwarden_job_runs_total";
pub const JOB_DURATION: &str = "seatwarden_job_duration_seconds";

/// Label value of an operation or root field set that is not known: a
/// document that does not parse, a missing operation, or a field outside the schema.
pub const UNKNOWN: &str = "unknown";

/// Describes every metric to the installed recorder, and registers the
/// counters whose label values are known in advance at 0, so that a rate over
/// them starts with the first event.
pub fn describe() {
    describe_counter!(
        GRAPHQL_REQUESTS,
        Unit::Count,
        "POST /graphql requests by operation type, root fields of the operation and outcome (ok: HTTP 200 without errors)"
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "Time to handle a POST /graphql request, from reading the body to the response, by operation type, root fields and outcome"
    );
    describe_counter!(LOGINS, Unit::Count, "Login mutations by outcome: the LoginResult member or the rejection reason");
    describe_gauge!(LICENSES_IN_USE, Unit::Count, "Licenses a slice uses, by slice id and license type (NAMED, CONCURRENT)");
    describe_gauge!(LICENSES_OWNED, Unit::Count, "Licenses a slice owns, by slice id and license type (NAMED, CONCURRENT)");
    describe_gauge!(
        WEBSOCKET_SUBSCRIPTIONS,
        Unit::Count,
        "GraphQL subscriptions running over WebSocket connections of this process, by root field"
    );
    describe_gauge!(OUTBOX_EMAILS, Unit::Count, "Outbox emails by status (PENDING, FAILED), counted in the database at each scrape");
    describe_counter!(
        OUTBOX_DELIVERY_FAILURES,
        Unit::Count,
        "Failed email delivery attempts by kind: permanent (5xx or unbuildable), transient (4xx), unreachable (no usable SMTP reply)"
    );
    describe_counter!(JOB_RUNS, Unit::Count, "Scheduled job runs by job and outcome (ok, error)");
    describe_histogram!(JOB_DURATION, Unit::Seconds, "Duration of scheduled job runs by job");

    for outcome in super::logins::OUTCOMES {
        counter!(LOGINS, "outcome" => outcome).increment(0);
    }
    for kind in super::outbox::FAILURE_KINDS {
        counter!(OUTBOX_DELIVERY_FAILURES, "kind" => kind).increment(0);
    }
}
