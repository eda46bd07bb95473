//! Usage history per slice and UTC day, and the log of seat changes.
