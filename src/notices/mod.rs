//! Renewal reminders and the unused-license digest emailed to slice administrators.
