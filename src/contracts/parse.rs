//! Reading a contract file: the header, the cells of each line and the line
//! errors, without a database.

use std::{collections::HashMap, io::Read};

use chrono::NaiveDate;
use entity::{Edition, SliceKind};

use super::{
    LineError, MAX_ERRORS, Rejection,
    cells::{enum_value, keep_value, owned_count, renewal_date, slice_name},
    columns::{Column, ColumnNames, Positions, parse_header},
    lines::LineCounter,
};
use crate::{slices::Patch, validation};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One line of the file, with every cell parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRow {
    /// Physical line of the file, counted from 1 (the header's line).
    pub line: u64,
    /// The slice name (its login code), matched regardless of letter case.
    pub slice: String,
    pub named: i32,
    pub concurrent: i32,
    /// `None` clears the renewal date.
    pub renewal_date: Option<NaiveDate>,
    pub edition: Edition,
    /// `None` when the file has no `kind` column or the cell is empty.
    pub kind: Option<SliceKind>,
    /// `None` when the file has no `display_name` column or the cell is empty.
    pub display_name: Option<String>,
    /// `Keep` without a `customer` column or for an empty cell.
    pub customer: Patch<String>,
}

/// A parsed file: the rows that parsed, and the errors of those that did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractFile {
    pub columns: ColumnNames,
    pub rows: Vec<ContractRow>,
    /// Errors of the lines that are not in `rows`, ordered by line.
    pub errors: Vec<LineError>,
    /// Whether parsing stopped at [`MAX_ERRORS`].
    pub truncated: bool,
}

/// A failure to parse a file as a whole.
#[derive(Debug)]
pub enum ParseError {
    Io(std::io::Error),
    /// The header (or the file as a whole) is unusable.
    Rejected(Rejection),
}

fn rejected(errors: Vec<LineError>) -> ParseError {
    ParseError::Rejected(Rejection { errors, truncated: false })
}

/// Parses a contract file: a header line, then one line per slice.
///
/// A UTF-8 byte-order mark and CRLF line ends are accepted, cells are trimmed,
/// and blank lines and lines of empty cells are skipped. Line numbers count
/// physical lines, as an editor shows them, also after a quoted cell that
/// spans several lines.
pub fn parse(mut reader: impl Read) -> Result<ContractFile, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(ParseError::Io)?;
    let content = bytes.strip_prefix(UTF8_BOM).unwrap_or(&bytes);

    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(content);
    let mut records = csv.byte_records();
    let header = match records.next() {
        None => {
            return Err(rejected(vec![LineError::new(
                1,
                None,
                "the file is empty; the first line must be the header, e.g. slice,named,concurrent,renewal_date,edition",
            )]));
        }
        Some(Err(error)) => return Err(csv_error(error)),
        Some(Ok(record)) => record,
    };
    let mut lines = LineCounter::new(content);
    let header_line = lines.line_of(&header);
    let (columns, positions) = parse_header(&header, header_line).map_err(rejected)?;

    let mut parser = RowParser { columns: &columns, positions: &positions, width: header.len(), seen: HashMap::new() };
    let mut file = ContractFile { columns: columns.clone(), rows: Vec::new(), errors: Vec::new(), truncated: false };
    for record in records {
        if file.errors.len() >= MAX_ERRORS {
            file.truncated = true;
            break;
        }
        let record = record.map_err(csv_error)?;
        match parser.parse_row(&record, lines.line_of(&record)) {
            Ok(Some(row)) => file.rows.push(row),
            Ok(None) => {}
            Err(errors) => file.errors.extend(errors),
        }
    }
    file.errors.truncate(MAX_ERRORS);
    Ok(file)
}

/// Maps an error of the CSV reader. With `flexible` and byte records only I/O
/// can fail, and the reader reads from memory.
fn csv_error(error: csv::Error) -> ParseError {
    let line = error.position().map_or(1, csv::Position::line);
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(error) => ParseError::Io(error),
        _ => rejected(vec![LineError::new(line, None, format!("is not valid CSV: {message}"))]),
    }
}

/// Decodes and trims a cell, or explains that it is not UTF-8.
pub(super) fn cell_text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| "is not valid UTF-8 text; save the file as UTF-8".to_owned())
}

struct RowParser<'a> {
    columns: &'a ColumnNames,
    positions: &'a Positions,
    width: usize,
    /// The line on which each slice name key first appeared.
    seen: HashMap<String, u64>,
}

impl RowParser<'_> {
    /// Parses one line; `Ok(None)` for a line of empty cells.
    fn parse_row(&mut self, record: &csv::ByteRecord, line: u64) -> Result<Option<ContractRow>, Vec<LineError>> {
        if record.iter().all(|cell| cell.trim_ascii().is_empty()) {
            return Ok(None);
        }
        if record.len() != self.width {
            return Err(vec![LineError::new(
                line,
                None,
                format!("has {} cells but the header has {}; give every line the header's columns", record.len(), self.width),
            )]);
        }

        let mut errors = Vec::new();
        let mut cells = HashMap::new();
        for column in Column::ALL {
            let Some(&index) = self.positions.get(&column) else {
                continue;
            };
            match cell_text(&record[index]) {
                Ok(text) => {
                    cells.insert(column, text);
                }
                Err(message) => errors.push(LineError::new(line, Some(self.columns.spelled(column)), message)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let cell = |column: Column| cells.get(&column).copied().unwrap_or_default();
        let columns = self.columns;
        let slice = keep_value(&mut errors, line, &columns.slice, slice_name(cell(Column::Slice)));
        let named = keep_value(&mut errors, line, &columns.named, owned_count(&columns.named, cell(Column::Named)));
        let concurrent =
            keep_value(&mut errors, line, &columns.concurrent, owned_count(&columns.concurrent, cell(Column::Concurrent)));
        let renewal_date = keep_value(&mut errors, line, &columns.renewal_date, renewal_date(cell(Column::RenewalDate)));
        let edition = keep_value(&mut errors, line, &columns.edition, enum_value::<Edition>(cell(Column::Edition)));
        let kind = match cell(Column::Kind) {
            "" => Some(None),
            text => keep_value(&mut errors, line, &columns.kind, enum_value::<SliceKind>(text).map(Some)),
        };
        let display_name = Some(cell(Column::DisplayName)).filter(|text| !text.is_empty()).map(str::to_owned);
        // Like the other optional columns, an empty cell keeps the current value.
        let customer = match cells.get(&Column::Customer) {
            None | Some(&"") => Patch::Keep,
            Some(text) => Patch::Set((*text).to_owned()),
        };

        if let Some(name) = &slice {
            let key = validation::name_key(name);
            if let Some(first) = self.seen.get(&key) {
                errors.push(LineError::new(
                    line,
                    Some(&columns.slice),
                    format!("slice `{name}` already appears on line {first} (names match regardless of letter case); keep one line per slice"),
                ));
            } else {
                self.seen.insert(key, line);
            }
        }
        match (slice, named, concurrent, renewal_date, edition, kind) {
            (Some(slice), Some(named), Some(concurrent), Some(renewal_date), Some(edition), Some(kind)) if errors.is_empty() => {
                Ok(Some(ContractRow { line, slice, named, concurrent, renewal_date, edition, kind, display_name, customer }))
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &[u8]) -> ContractFile {
        match parse(text) {
            Ok(file) => file,
            Err(ParseError::Rejected(rejection)) => panic!("rejected: {rejection}"),
            Err(ParseError::Io(error)) => panic!("I/O error: {error}"),
        }
    }

    fn header_errors(text: &[u8]) -> Vec<String> {
        match parse(text) {
            Err(ParseError::Rejected(rejection)) => rejection.errors.iter().map(ToString::to_string).collect(),
            Ok(file) => panic!("expected a rejected header, got {file:?}"),
            Err(ParseError::Io(error)) => panic!("I/O error: {error}"),
        }
    }

    fn errors_of(file: &ContractFile) -> Vec<String> {
        file.errors.iter().map(ToString::to_string).collect()
    }

    const HEADER: &str = "slice,named,concurrent,renewal_date,edition\n";

    #[test]
    fn standard_file_parses() {
        let file = parsed(b"slice,named,concurrent,renewal_date,edition,kind,display_name,customer\n\
            northwind-prod,30,5,2028-03-01,SERVICE_MANAGEMENT,PRODUCTION,Northwind,Northwind Traders\n");
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(
            file.rows,
            vec![ContractRow {
                line: 2,
                slice: "northwind-prod".into(),
                named: 30,
                concurrent: 5,
                renewal_date: NaiveDate::from_ymd_opt(2028, 3, 1),
                edition: Edition::ServiceManagement,
                kind: Some(SliceKind::Production),
                display_name: Some("Northwind".into()),
                customer: Patch::Set("Northwind Traders".into()),
            }]
        );
    }

    #[test]
    fn legacy_headers_and_mixed_case() {
        let file = parsed(b"Slice,FIXED,Floater,Renewal_Date,EDITION,Kind\nacme,10,2,,service_management,staging\n");
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.columns.named, "FIXED");
        assert_eq!(file.columns.concurrent, "Floater");
        assert_eq!(file.columns.kind, "Kind");
        assert_eq!(file.columns.customer, "customer", "a missing optional column has its standard name");
        let row = &file.rows[0];
        assert_eq!((row.named, row.concurrent), (10, 2));
        assert_eq!(row.edition, Edition::ServiceManagement);
        assert_eq!(row.kind, Some(SliceKind::Staging));
        assert_eq!(row.renewal_date, None, "an empty date clears it");
        assert_eq!(row.customer, Patch::Keep, "without the column the customer is kept");
    }

    #[test]
    fn enum_values_ignore_letter_case() {
        for edition in ["SERVICE_DESK", "service_desk", "Service_Desk"] {
            let file = parsed(format!("{HEADER}acme,1,0,,{edition}\n").as_bytes());
            assert_eq!(file.rows[0].edition, Edition::ServiceDesk, "{edition}");
        }
    }

    #[test]
    fn bom_and_crlf_keep_line_numbers() {
        let file = parsed(b"\xEF\xBB\xBFslice,named,concurrent,renewal_date,edition\r\nacme,1,0,,SERVICE_DESK\r\n\r\nbeta,ten,0,,SERVICE_DESK\r\n");
        assert_eq!(file.columns.slice, "slice", "the byte-order mark is not part of the first header");
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].line, 2);
        assert_eq!(errors_of(&file), [r#"line 4, column named: expected a whole number from 0 to 1000000, got "ten""#]);
    }

    #[test]
    fn quoted_line_break_counts_physical_lines() {
        let file = parsed(b"slice,named,concurrent,renewal_date,edition,customer\n\
            acme,1,0,,SERVICE_DESK,\"Acme\nEurope\"\nbeta,-1,0,,SERVICE_DESK,Beta\n");
        assert_eq!(errors_of(&file), [r#"line 4, column named: expected a whole number from 0 to 1000000, got "-1""#]);
    }

    #[test]
    fn line_numbers_with_any_line_end() {
        let cases: [(&str, &[u8]); 5] = [
            ("LF", b"slice,named,concurrent,renewal_date,edition,customer\nacme,1,0,,SERVICE_DESK,\n\n,,,,,\nbeta,x,0,,SERVICE_DESK,\n"),
            ("CRLF", b"slice,named,concurrent,renewal_date,edition,customer\r\nacme,1,0,,SERVICE_DESK,\r\n\r\n,,,,,\r\nbeta,x,0,,SERVICE_DESK,\r\n"),
            ("CR", b"slice,named,concurrent,renewal_date,edition,customer\racme,1,0,,SERVICE_DESK,\r\r,,,,,\rbeta,x,0,,SERVICE_DESK,\r"),
            ("quoted CRLF", b"slice,named,concurrent,renewal_date,edition,customer\r\nacme,1,0,,SERVICE_DESK,\"A\r\nB\r\nC\"\r\nbeta,x,0,,SERVICE_DESK,\r\n"),
            ("blank lines before the header", b"\r\n\r\n\r\nslice,named,concurrent,renewal_date,edition,customer\r\nbeta,x,0,,SERVICE_DESK,"),
        ];
        for (name, text) in cases {
            let file = parsed(text);
            assert_eq!(
                errors_of(&file),
                [r#"line 5, column named: expected a whole number from 0 to 1000000, got "x""#],
                "{name}"
            );
        }
    }

    #[test]
    fn cells_are_trimmed() {
        let file = parsed(b"slice , named,concurrent,renewal_date,edition,customer\n  acme , 3 ,\t0 , 2027-01-31 , SERVICE_DESK ,  \n");
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let row = &file.rows[0];
        assert_eq!(row.slice, "acme");
        assert_eq!(row.named, 3);
        assert_eq!(row.renewal_date, NaiveDate::from_ymd_opt(2027, 1, 31));
        assert_eq!(row.customer, Patch::Keep, "an empty customer cell keeps the customer");
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let file = parsed(
            format!(
                "{HEADER}acme,ten,,01/03/2027,premium\nbeta,2000000,0,2027-02-30,SERVICE_DESK\n,1,0,,SERVICE_DESK\ngamma,1,1.5,,\n"
            )
            .as_bytes(),
        );
        assert!(file.rows.is_empty());
        assert_eq!(
            errors_of(&file),
            [
                r#"line 2, column named: expected a whole number from 0 to 1000000, got "ten""#,
                "line 2, column concurrent: expected a whole number from 0 to 1000000, got an empty cell",
                r#"line 2, column renewal_date: expected a date as YYYY-MM-DD such as 2027-03-01, or an empty cell for no renewal date, got "01/03/2027""#,
                r#"line 2, column edition: expected SERVICE_DESK or SERVICE_MANAGEMENT, got "premium""#,
                r#"line 3, column named: expected a whole number from 0 to 1000000, got "2000000""#,
                r#"line 3, column renewal_date: expected a date as YYYY-MM-DD such as 2027-03-01, or an empty cell for no renewal date, got "2027-02-30""#,
                "line 4, column slice: expected the slice name (its login code), got an empty cell",
                r#"line 5, column concurrent: expected a whole number from 0 to 1000000, got "1.5""#,
                "line 5, column edition: expected SERVICE_DESK or SERVICE_MANAGEMENT, got an empty cell",
            ]
        );
    }

    #[test]
    fn bad_kind_is_named() {
        let file = parsed(b"slice,named,concurrent,renewal_date,edition,KIND\nacme,1,0,,SERVICE_DESK,test\n");
        assert_eq!(errors_of(&file), [r#"line 2, column KIND: expected STAGING or PRODUCTION, got "test""#]);
    }

    #[test]
    fn same_slice_twice_fails_second_line() {
        let file = parsed(format!("{HEADER}acme,1,0,,SERVICE_DESK\nbeta,1,0,,SERVICE_DESK\nACME,2,0,,SERVICE_DESK\n").as_bytes());
        assert_eq!(file.rows.len(), 2);
        assert_eq!(
            errors_of(&file),
            ["line 4, column slice: slice `ACME` already appears on line 2 (names match regardless of letter case); keep one line per slice"]
        );
    }

    #[test]
    fn wrong_cell_count_and_blank_lines() {
        let file = parsed(format!("{HEADER}acme,1,0,,SERVICE_DESK,extra\n,,,,\n\nbeta,1,0\n").as_bytes());
        assert!(file.rows.is_empty());
        assert_eq!(
            errors_of(&file),
            [
                "line 2: has 6 cells but the header has 5; give every line the header's columns",
                "line 5: has 3 cells but the header has 5; give every line the header's columns",
            ]
        );
    }

    #[test]
    fn duplicate_headers_are_named() {
        assert_eq!(
            header_errors(b"slice,named,fixed,concurrent,renewal_date,edition\n"),
            ["line 1, column fixed: repeats column `named` (named (or fixed)); keep only one of them"]
        );
        assert_eq!(
            header_errors(b"slice,Floater,concurrent,renewal_date,edition,named\n"),
            ["line 1, column concurrent: repeats column `Floater` (concurrent (or floater)); keep only one of them"]
        );
    }

    #[test]
    fn unknown_and_missing_headers_are_named() {
        let errors = header_errors(b"slice,named,seats,renewal_date,,customer\n");
        assert_eq!(
            errors,
            [
                "line 1, column seats: unknown column; the columns are slice, named (or fixed), concurrent (or floater), \
                 renewal_date, edition, and optionally kind, display_name, customer",
                "line 1: header cell 5 is empty; name the column or remove it",
                "line 1, column concurrent: missing required column; add concurrent (or floater) to the header",
                "line 1, column edition: missing required column; add edition to the header",
            ]
        );
    }

    #[test]
    fn empty_file_is_rejected() {
        assert_eq!(header_errors(b""), [
            "line 1: the file is empty; the first line must be the header, e.g. slice,named,concurrent,renewal_date,edition"
        ]);
        assert_eq!(header_errors(b"\xEF\xBB\xBF").len(), 1, "a byte-order mark alone is an empty file");
    }

    #[test]
    fn invalid_utf8_is_named() {
        let file = parsed(b"slice,named,concurrent,renewal_date,edition,customer\nacme,1,0,,SERVICE_DESK,Caf\xE9\n");
        assert_eq!(errors_of(&file), ["line 2, column customer: is not valid UTF-8 text; save the file as UTF-8"]);
    }

    #[test]
    fn errors_stop_at_cap() {
        let mut text = HEADER.to_owned();
        for index in 0..(MAX_ERRORS + 20) {
            text.push_str(&format!("slice{index},x,0,,SERVICE_DESK\n"));
        }
        let file = parsed(text.as_bytes());
        assert_eq!(file.errors.len(), MAX_ERRORS);
        assert!(file.truncated);
    }
}
