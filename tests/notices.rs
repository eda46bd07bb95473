//! Renewal reminders and the unused-license digest.
