//! Input checks shared by the mutations; each error names the argument path.

use crate::error::{AppError, AppResult};

pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_TEXT_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_OWNED_LICENSES: i32 = 1_000_000;

/// Returns the lower-cased form under which names are unique regardless of letter case.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Trims a required free-text value and checks that it is not blank and not too long.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, "must not be blank"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(AppError::bad_input(field, format!("must be at most {max_chars} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::bad_input(field, "must not contain control characters such as line breaks"));
    }
    Ok(trimmed.to_owned())
}

/// Checks an identifier typed at login (a slice name or a username): 1 to 64
/// letters, digits and `.`, `_`, `-`, `@`, starting with a letter or digit.
pub fn identifier(field: &str, value: &str) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, "must not be blank"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(field, format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    let mut chars = trimmed.chars();
    let first_ok = chars.next().is_some_and(char::is_alphanumeric);
    let rest_ok = chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !first_ok || !rest_ok {
        return Err(AppError::bad_input(
            field,
            "may contain only letters, digits, '.', '_', '-' and '@', and must start with a letter or digit",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Checks an email address and returns it trimmed.
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, "must not be blank"));
    }
    if trimmed.len() > MAX_EMAIL_CHARS {
        return Err(AppError::bad_input(field, format!("must be at most {MAX_EMAIL_CHARS} bytes")));
    }
    match trimmed.parse::<email_address::EmailAddress>() {
        // The parser also accepts `Name <address>`; only a bare address is stored.
        Ok(address)
            if address.email() == trimmed
                && (address.domain().contains('.') || address.domain() == "localhost") =>
        {
            Ok(trimmed.to_owned())
        }
        _ => Err(AppError::bad_input(field, "must be an email address such as ana@example.com")),
    }
}

/// Checks a new password's length; its content is up to the user.
pub fn new_password(field: &str, value: &str) -> AppResult<()> {
    let chars = value.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_input(field, format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::bad_input(field, format!("must be at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// Checks an owned license count.
pub fn owned_count(field: &str, value: i32) -> AppResult<i32> {
    if !(0..=MAX_OWNED_LICENSES).contains(&value) {
        return Err(AppError::bad_input(field, format!("must be from 0 to {MAX_OWNED_LICENSES}")));
    }
    Ok(value)
}

/// Checks an alert threshold in percent.
pub fn threshold_percent(field: &str, value: i32) -> AppResult<i32> {
    if !(1..=100).contains(&value) {
        return Err(AppError::bad_input(field, "must be a percentage from 1 to 100"));
    }
    Ok(value)
}

/// Parses a calendar date written exactly as `YYYY-MM-DD` (four-digit year,
/// two-digit month and day); chrono alone also takes `2027-1-8` and signed years.
pub fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| if index == 4 || index == 7 { *byte == b'-' } else { byte.is_ascii_digit() });
    shape_ok.then(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_parsed_strictly() {
        assert_eq!(parse_date("2027-01-08"), chrono::NaiveDate::from_ymd_opt(2027, 1, 8));
        for text in ["2027-1-08", "2027-01-8", "+2027-01-08", "-2027-01-08", "2027-02-30", "27-01-08", " 2027-01-08", "2027/01/08"] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
    }

    fn field_of(result: AppResult<impl std::fmt::Debug>) -> String {
        match result {
            Err(AppError::BadInput { field, .. }) => field,
            other => panic!("expected BadInput, got {other:?}"),
        }
    }

    #[test]
    fn identifier_rejects_blank_and_symbols() {
        assert_eq!(field_of(identifier("input.name", "   ")), "input.name");
        assert_eq!(field_of(identifier("input.name", "acme prod")), "input.name");
        assert_eq!(field_of(identifier("input.name", "-acme")), "input.name");
        assert_eq!(identifier("input.name", " Acme-Prod ").unwrap(), "Acme-Prod");
    }

    #[test]
    fn email_requires_domain() {
        assert_eq!(field_of(email("input.email", "ana")), "input.email");
        assert_eq!(field_of(email("input.email", "ana@example")), "input.email");
        assert_eq!(field_of(email("input.email", "Ana <ana@example.com>")), "input.email");
        assert_eq!(email("input.email", " ana@example.com ").unwrap(), "ana@example.com");
    }

    #[test]
    fn counts_and_threshold_bounds() {
        assert!(owned_count("x", -1).is_err());
        assert!(owned_count("x", 0).is_ok());
        assert!(threshold_percent("x", 0).is_err());
        assert!(threshold_percent("x", 101).is_err());
        assert!(threshold_percent("x", 100).is_ok());
    }

    #[test]
    fn text_rejects_control_characters() {
        assert!(required_text("x", "a\nb", 10).is_err());
        assert!(required_text("x", "abcdefghijk", 10).is_err());
    }
}
