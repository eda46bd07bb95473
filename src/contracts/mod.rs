//! Contract import: owned license counts, renewal dates and editions from a CSV file.
