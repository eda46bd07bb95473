//! Case-insensitive substring search with SQL LIKE.
//!
//! NOTE: the pattern is lower-cased in Rust, but SQLite's LOWER() folds only
//! ASCII letters, so on SQLite a search matches non-ASCII letters only in the
//! letter case stored. PostgreSQL's LOWER() folds them too.

/// Builds a `%…%` LIKE pattern from user text, escaping `%`, `_` and `\` with `\`.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(super::like_pattern("A_b%c"), "%a\\_b\\%c%");
    }
}
