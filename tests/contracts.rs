//! Import of contracts from CSV files through the command line.
