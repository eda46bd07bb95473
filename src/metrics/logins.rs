//! Logins by outcome.

use metrics::counter;

use super::names::LOGINS;
use crate::sessions::{LoginOutcome, RejectReason};

/// Every value of the `outcome` label of `seatwarden_logins_total`.
pub(super) const OUTCOMES: [&str; 8] = [
    "success",
    "session_limit_reached",
    "license_unavailable",
    "invalid_credentials",
    "user_inactive",
    "channel_not_allowed",
    "account_locked",
    "too_many_attempts",
];

/// Counts one login by the outcome the login mutation returns. Logins that
/// fail with an error (invalid input, an unavailable database) are not counted.
pub fn record_login(outcome: &LoginOutcome) {
    counter!(LOGINS, "outcome" => outcome_label(outcome)).increment(1);
}

fn outcome_label(outcome: &LoginOutcome) -> &'static str {
    match outcome {
        LoginOutcome::Success { .. } => "success",
        LoginOutcome::SessionLimitReached { .. } => "session_limit_reached",
        LoginOutcome::LicenseUnavailable { .. } => "license_unavailable",
        LoginOutcome::Rejected(RejectReason::InvalidCredentials) => "invalid_credentials",
        LoginOutcome::Rejected(RejectReason::UserInactive) => "user_inactive",
        LoginOutcome::Rejected(RejectReason::ChannelNotAllowed) => "channel_not_allowed",
        LoginOutcome::Rejected(RejectReason::AccountLocked) => "account_locked",
        LoginOutcome::Rejected(RejectReason::TooManyAttempts) => "too_many_attempts",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_label_is_registered() {
        let outcomes = [
            LoginOutcome::LicenseUnavailable { owned: 1, in_use: 1 },
            LoginOutcome::SessionLimitReached { sessions: Vec::new(), max_web_sessions: 2 },
            LoginOutcome::Rejected(RejectReason::InvalidCredentials),
            LoginOutcome::Rejected(RejectReason::UserInactive),
            LoginOutcome::Rejected(RejectReason::ChannelNotAllowed),
            LoginOutcome::Rejected(RejectReason::AccountLocked),
            LoginOutcome::Rejected(RejectReason::TooManyAttempts),
        ];
        for outcome in &outcomes {
            assert!(OUTCOMES.contains(&outcome_label(outcome)), "{outcome:?}");
        }
        assert!(OUTCOMES.contains(&"success"));
    }
}
