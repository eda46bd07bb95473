//! Physical line numbers of CSV records.

/// Finds the physical line on which each record starts.
///
/// The line numbers of the CSV reader (csv 1.4) run one behind after a CRLF line end and
/// after a blank line, because it counts a line end only when it reads the
/// next record. This counter counts `\r\n`, `\n` and a lone `\r` as one line
/// end each, up to the first byte of the record that is not a line end.
pub(super) struct LineCounter<'a> {
    content: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(super) fn new(content: &'a [u8]) -> Self {
        Self { content, offset: 0, line: 1 }
    }

    /// Returns the line of a record. Records must come in the file's order.
    pub(super) fn line_of(&mut self, record: &csv::ByteRecord) -> u64 {
        let mut start = record.position().map_or(0, |position| usize::try_from(position.byte()).unwrap_or(usize::MAX));
        start = start.clamp(self.offset, self.content.len());
        while start < self.content.len() && matches!(self.content[start], b'\r' | b'\n') {
            start += 1;
        }
        for index in self.offset..start {
            let is_line_end = match self.content[index] {
                b'\n' => true,
                b'\r' => self.content.get(index + 1) != Some(&b'\n'),
                _ => false,
            };
            self.line += u64::from(is_line_end);
        }
        self.offset = start;
        self.line
    }
}
