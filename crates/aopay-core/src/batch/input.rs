//! Orders from a file, one record at a time: CSV with a header (RFC 4180:
//! a quoted field may hold commas, quotes, CR and LF; CR, LF and CRLF all
//! end a record), or JSON Lines. Every record is bounded
//! ([`MAX_LINE_BYTES`]), so a huge line costs a row error, not the memory,
//! and endless input ([`MAX_SKIPPED_BYTES`] without an end) stops the
//! reader with an error; invalid UTF-8, a bad row or an unknown kind are
//! each one row's error, with its line number.

use std::io::{self, BufRead};
use std::path::Path;

use serde_json::Value;

use super::{KEY_ARG, Order, RowError, arg_of, json_arg, kind_of};
use crate::endpoints::{ArgValue, Lang};

/// The longest line read (1 MiB: a fetched bill's JSON is a few KB). The
/// rest of a longer line is skipped without being kept.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How an orders file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFormat {
    /// Comma-separated, first line the header: `order_id`, optionally
    /// `kind`, and the write's argument names (`product_id,amount,…`).
    Csv,
    /// One JSON object per line, with the same keys.
    JsonLines,
}

impl OrderFormat {
    /// By extension: `.csv`; `.jsonl`, `.ndjson`, `.json`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::JsonLines),
            _ => None,
        }
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong(usize),
    /// A record longer than [`MAX_SKIPPED_BYTES`]: endless input, not read on.
    Endless,
}

/// How far past [`MAX_LINE_BYTES`] a record is skipped in search of its
/// end (2 GiB) before the input is taken for endless (`/dev/zero`) and not
/// read on.
pub const MAX_SKIPPED_BYTES: usize = 2048 * MAX_LINE_BYTES;

/// Where a CSV record's scan stands (RFC 4180): a quote opens a quoted
/// field only at a field's start; inside one, `""` is a quote and CR and LF
/// are text; outside, CR, LF and CRLF each end the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of `""`.
    QuoteInQuoted,
}

/// The orders of a file, in order, as an iterator of `Order`s and
/// `RowError`s. Reading fails only on an I/O error (reported once as a
/// row error, after which the reader ends).
#[derive(Debug)]
pub struct OrderReader<R> {
    src: R,
    format: OrderFormat,
    line: u64,
    /// The line the next record starts on.
    next_line: u64,
    /// A CR ended the last record: a LF right after it belongs to it.
    after_cr: bool,
    header: Option<Vec<String>>,
    done: bool,
    cells: CsvLine,
    /// [`MAX_SKIPPED_BYTES`], but in tests.
    skip_limit: usize,
    /// The first JSON line, read by [`OrderReader::check_start`].
    pending: Option<(u64, Vec<u8>)>,
}

impl<R: BufRead> OrderReader<R> {
    /// Orders from `src`.
    pub fn new(src: R, format: OrderFormat) -> Self {
        Self {
            src,
            format,
            line: 0,
            next_line: 1,
            after_cr: false,
            header: None,
            done: false,
            cells: CsvLine::new(),
            skip_limit: MAX_SKIPPED_BYTES,
            pending: None,
        }
    }

    /// Read up to the first order (a CSV file's header, the first JSON
    /// line) and say whether this is an orders file at all. One that is not
    /// (unreadable, a directory, an empty CSV, text that is not UTF-8 such
    /// as UTF-16, a header without `order_id` or with unknown columns, as
    /// another delimiter gives) is an error before anything is sent.
    pub fn check_start(&mut self) -> Result<(), RowError> {
        // An over-long line before the first order refuses the file: its
        // end is not searched for (endless input is refused at once).
        let skip_limit = std::mem::replace(&mut self.skip_limit, 0);
        let checked = self.check_start_lines();
        self.skip_limit = skip_limit;
        checked
    }

    fn check_start_lines(&mut self) -> Result<(), RowError> {
        loop {
            let bytes = match self.next_line() {
                Ok(Some(Line::Text(bytes))) => bytes,
                Ok(Some(Line::TooLong(_) | Line::Endless)) => {
                    return Err(RowError::new(
                        self.line,
                        "line",
                        format!("is over {MAX_LINE_BYTES} bytes: not an orders file"),
                    ));
                }
                Ok(None) if self.format == OrderFormat::Csv => {
                    return Err(RowError::new(
                        1,
                        "header",
                        "is missing: the file is empty (a CSV orders file starts with its header)",
                    ));
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    return Err(RowError::new(
                        self.line + 1,
                        "line",
                        format!("cannot be read: {e}"),
                    ));
                }
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return Err(RowError::new(
                    self.line,
                    "line",
                    "is not UTF-8 text (a UTF-16 export? save the file as UTF-8 CSV)",
                ));
            };
            if text.trim().is_empty() {
                continue;
            }
            if self.format == OrderFormat::JsonLines {
                if !text.trim_start().starts_with('{') {
                    return Err(RowError::new(
                        self.line,
                        "line",
                        "is not a JSON object: not a JSON Lines orders file",
                    ));
                }
                self.pending = Some((self.line, bytes));
                return Ok(());
            }
            let cells = self.cells.split(self.line, text)?;
            self.header = Some(read_header(self.line, cells)?);
            return Ok(());
        }
    }

    #[cfg(test)]
    pub(super) fn with_skip_limit(mut self, bytes: usize) -> Self {
        self.skip_limit = bytes;
        self
    }

    /// The next record (a CSV record, which may span lines inside quotes,
    /// or a JSON line), without its end; `None` at the end of the input.
    /// CR, LF and CRLF all end a record, so that no record is dropped from
    /// a file a spreadsheet wrote with bare CRs.
    fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut buf = Vec::new();
        let mut total = 0usize;
        let mut any = false;
        let mut scan = Scan::FieldStart;
        let mut breaks = 0u64;
        let mut prev_cr = false;
        let csv = self.format == OrderFormat::Csv;
        loop {
            let chunk = self.src.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            if std::mem::take(&mut self.after_cr) && chunk[0] == b'\n' {
                self.src.consume(1);
                continue;
            }
            any = true;
            // The record's end in this chunk: its length, and the end's.
            let mut end = None;
            for (i, &b) in chunk.iter().enumerate() {
                // Line breaks, for the next record's line number: each CR,
                // and each LF not right after a CR.
                if b == b'\r' || (b == b'\n' && !prev_cr) {
                    breaks += 1;
                }
                prev_cr = b == b'\r';
                scan = match (scan, b) {
                    (Scan::Quoted, b'"') => Scan::QuoteInQuoted,
                    (Scan::Quoted, _) => Scan::Quoted,
                    (Scan::QuoteInQuoted, b'"') if csv => Scan::Quoted,
                    (Scan::FieldStart, b'"') if csv => Scan::Quoted,
                    (_, b',') => Scan::FieldStart,
                    (_, b'\n' | b'\r') => {
                        let len = if b == b'\r' && chunk.get(i + 1) == Some(&b'\n') {
                            2
                        } else {
                            1
                        };
                        end = Some((i, len));
                        break;
                    }
                    _ => Scan::Unquoted,
                };
            }
            let (take, used) = match end {
                Some((i, len)) => (i, i + len),
                None => (chunk.len(), chunk.len()),
            };
            // A CR at the chunk's very end may be the first half of a CRLF.
            self.after_cr = end.is_some_and(|(i, len)| len == 1 && chunk[i] == b'\r');
            total += take;
            if total <= MAX_LINE_BYTES {
                buf.extend_from_slice(&chunk[..take]);
            }
            self.src.consume(used);
            if end.is_some() {
                break;
            }
            if total > MAX_LINE_BYTES + self.skip_limit {
                self.line = self.next_line;
                return Ok(Some(Line::Endless));
            }
        }
        if !any {
            return Ok(None);
        }
        self.line = self.next_line;
        self.next_line += breaks.max(1);
        if total > MAX_LINE_BYTES {
            return Ok(Some(Line::TooLong(total)));
        }
        if self.line == 1 && buf.starts_with("\u{feff}".as_bytes()) {
            buf.drain(..3);
        }
        Ok(Some(Line::Text(buf)))
    }

    fn row(&mut self, bytes: &[u8]) -> Option<Result<Order, RowError>> {
        let line = self.line;
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return Some(Err(RowError::new(
                    line,
                    "line",
                    format!("is not valid UTF-8 (at byte {})", e.valid_up_to() + 1),
                )));
            }
        };
        if text.trim().is_empty() {
            return None;
        }
        match self.format {
            OrderFormat::Csv => self.csv_row(text).transpose(),
            OrderFormat::JsonLines => Some(json_row(line, text)),
        }
    }

    /// An order, or `None` for the header.
    fn csv_row(&mut self, text: &str) -> Result<Option<Order>, RowError> {
        let line = self.line;
        let cells = self.cells.split(line, text)?;
        let Some(header) = &self.header else {
            // A header that cannot be read ends the file: no row of it
            // could be read right.
            let header = read_header(line, cells);
            self.done = header.is_err();
            self.header = Some(header?);
            return Ok(None);
        };
        if cells.len() != header.len() {
            return Err(RowError::new(
                line,
                "line",
                format!(
                    "has {} fields where the header has {}",
                    cells.len(),
                    header.len()
                ),
            ));
        }
        let cell = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .map(|i| cells[i].as_str())
        };
        let order_id = cell("order_id").unwrap_or_default();
        let kind = kind_of(cell("kind")).map_err(|e| RowError {
            line,
            order_id: Some(order_id.to_owned()).filter(|s| !s.is_empty()),
            error: e.into(),
        })?;
        let mut fields = Vec::new();
        for (name, value) in header.iter().zip(&cells) {
            if name == "order_id" || name == "kind" || value.is_empty() {
                continue;
            }
            let Some(arg) = arg_of(kind, name) else {
                return Err(RowError {
                    line,
                    order_id: Some(order_id.to_owned()),
                    error: crate::ValidationError::new(
                        "kind",
                        format!("a {} order takes no {name:?}", kind.method),
                    )
                    .into(),
                });
            };
            let value = ArgValue::from_text(arg.name, arg.kind, value).map_err(|e| RowError {
                line,
                order_id: Some(order_id.to_owned()),
                error: e.into(),
            })?;
            fields.push((name.clone(), value));
        }
        Order::new(line, order_id, Some(kind.method), Lang::Rust, fields).map(Some)
    }
}

impl<R: BufRead> Iterator for OrderReader<R> {
    type Item = Result<Order, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((line, bytes)) = self.pending.take() {
            self.line = line;
            if let Some(r) = self.row(&bytes) {
                return Some(r);
            }
        }
        while !self.done {
            let line = match self.next_line() {
                Ok(Some(Line::Text(bytes))) => bytes,
                Ok(Some(Line::Endless)) => {
                    self.done = true;
                    return Some(Err(RowError::new(
                        self.line,
                        "line",
                        format!(
                            "has no end within {} bytes: the input is taken for endless and not read on",
                            MAX_LINE_BYTES + self.skip_limit
                        ),
                    )));
                }
                Ok(Some(Line::TooLong(n))) => {
                    if self.header.is_none() && self.format == OrderFormat::Csv {
                        self.done = true;
                    }
                    return Some(Err(RowError::new(
                        self.line,
                        "line",
                        format!("is {n} bytes long: the longest line read is {MAX_LINE_BYTES}"),
                    )));
                }
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(RowError::new(
                        self.line + 1,
                        "line",
                        format!("cannot be read: {e}"),
                    )));
                }
            };
            match self.row(&line) {
                None => {}
                Some(r) => return Some(r),
            }
        }
        None
    }
}

/// The columns of a CSV header: `order_id` required, each other name a
/// field of some write (or `kind`).
fn read_header(line: u64, cells: Vec<String>) -> Result<Vec<String>, RowError> {
    let names: Vec<String> = cells.into_iter().map(|c| c.trim().to_owned()).collect();
    if !names.iter().any(|n| n == "order_id") {
        return Err(RowError::new(
            line,
            "order_id",
            format!(
                "the header has no order_id column (it has {}): the first line names the columns, e.g. \
                 order_id,product_id,amount,customer_number,geocode",
                names.join(",")
            ),
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(RowError::new(
                line,
                "header",
                format!("names the column {n:?} twice"),
            ));
        }
        let known = n == "order_id"
            || n == "kind"
            || super::batch_kinds().any(|k| n != KEY_ARG && arg_of(k, n).is_some());
        if !known {
            return Err(RowError::new(
                line,
                "header",
                format!("{n:?} is not a column of any order (see `aopay batch run --help`)"),
            ));
        }
    }
    Ok(names)
}

/// Splits one line into CSV cells with one parser for the whole file
/// (building a parser costs more than reading a row with it).
#[derive(Debug)]
struct CsvLine {
    reader: csv::Reader<io::Cursor<Vec<u8>>>,
    record: csv::StringRecord,
}

impl CsvLine {
    fn new() -> Self {
        Self {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(io::Cursor::new(Vec::new())),
            record: csv::StringRecord::new(),
        }
    }

    fn split(&mut self, line: u64, text: &str) -> Result<Vec<String>, RowError> {
        let cursor = self.reader.get_mut();
        cursor.get_mut().clear();
        cursor.get_mut().extend_from_slice(text.as_bytes());
        // Back to the start: clears the parser's state and its end of input.
        let read = self
            .reader
            .seek(csv::Position::new())
            .map_err(|e| e.to_string())
            .and_then(|()| {
                self.reader
                    .read_record(&mut self.record)
                    .map_err(|e| e.to_string())
            });
        match read {
            Ok(_) => Ok(self.record.iter().map(str::to_owned).collect()),
            Err(e) => Err(RowError::new(line, "line", format!("is not CSV: {e}"))),
        }
    }
}

fn json_row(line: u64, text: &str) -> Result<Order, RowError> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Order::from_json(line, v, Lang::Rust),
        Err(e) => Err(RowError::new(line, "line", format!("is not JSON: {e}"))),
    }
}

impl Order {
    /// An order from one JSON object: `order_id` (a string or a whole
    /// number), `kind`, and the write's arguments, spelled as `lang` spells
    /// them (`orderId`, `productId` in Node).
    pub fn from_json(line: u64, value: Value, lang: Lang) -> Result<Order, RowError> {
        let Value::Object(mut obj) = value else {
            return Err(RowError::new(line, "line", "is not a JSON object"));
        };
        let spell = |name: &str| lang.spell(name);
        let order_id = match obj.remove(&spell("order_id")) {
            Some(Value::String(s)) => s,
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
            None | Some(Value::Null) => String::new(),
            Some(_) => {
                return Err(RowError::new(
                    line,
                    "order_id",
                    "must be a string or a whole number",
                ));
            }
        };
        let id = Some(order_id.clone()).filter(|s| !s.trim().is_empty());
        let fail = |e: crate::ValidationError| RowError {
            line,
            order_id: id.clone(),
            error: e.into(),
        };
        let kind = match obj.remove("kind") {
            None | Some(Value::Null) => kind_of(None),
            Some(Value::String(k)) => kind_of(Some(&k)),
            Some(_) => Err(crate::ValidationError::new("kind", "must be a string")),
        }
        .map_err(fail)?;
        let mut fields = Vec::new();
        for (name, value) in obj {
            let Some(arg) = kind.args.iter().find(|a| spell(a.name) == name) else {
                return Err(fail(crate::ValidationError::new(
                    "kind",
                    format!("a {} order takes no {name:?}", kind.method),
                )));
            };
            fields.push((name, json_arg(arg.name, arg.kind, value).map_err(fail)?));
        }
        Order::new(line, &order_id, Some(kind.method), lang, fields)
    }
}

/// Orders from a file (`-` is standard input), its format by extension
/// unless given.
pub(crate) fn open(
    path: &Path,
    format: Option<OrderFormat>,
) -> io::Result<OrderReader<Box<dyn BufRead + Send>>> {
    let format = format
        .or_else(|| OrderFormat::from_path(path))
        .unwrap_or(OrderFormat::Csv);
    let src: Box<dyn BufRead + Send> = if path == Path::new("-") {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        Box::new(io::BufReader::with_capacity(
            64 * 1024,
            std::fs::File::open(path)?,
        ))
    };
    Ok(OrderReader::new(src, format))
}
