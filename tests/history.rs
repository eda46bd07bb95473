//! Usage history, the seat-change log, the Subscription Center and the usage export.
