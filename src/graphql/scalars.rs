//! The contract's `Date` scalar (async-graphql would name `NaiveDate` after itself).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// Calendar date, YYYY-MM-DD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => crate::validation::parse_date(text)
                .map(Date)
                .ok_or_else(|| InputValueError::custom(format!("`{text}` is not a date; expected YYYY-MM-DD, e.g. 2027-01-31"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}
