//! A county office's spreadsheet read into rows of text: CSV (UTF-8 with or without a byte
//! order mark, or GBK as Excel in China saves it) or XLSX (the first worksheet). Every read is
//! bounded: the file's size, the XLSX parts' unpacked size, the rows, columns and characters
//! of a cell.

use std::io::Cursor;

use crate::error::{AppError, ErrorCode, FieldError};

/// The most a file may weigh.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The most data rows a file may hold (the header not counted).
pub const MAX_ROWS: usize = 10_000;
/// The most columns a row may have.
pub const MAX_COLUMNS: usize = 64;
/// The most characters a cell may hold.
pub const MAX_CELL_CHARS: usize = 2_000;
/// The most an XLSX file's parts may unpack to, together.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

/// A file's header and its non-blank rows, numbered as a spreadsheet shows them (the header
/// row is usually 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub header: Vec<String>,
    pub header_row: usize,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<String>,
}

impl Row {
    /// The trimmed cell in column `i`, empty when the row is shorter.
    pub fn cell(&self, i: usize) -> &str {
        self.cells.get(i).map(|s| s.trim()).unwrap_or_default()
    }
}

/// Reads a CSV or XLSX file, told apart by content (an XLSX file is a ZIP archive).
pub fn read(bytes: &[u8]) -> Result<Sheet, AppError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::with_detail(
            ErrorCode::FileTooLarge,
            format!("a file may be at most {MAX_FILE_BYTES} bytes"),
        ));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err(unreadable(
            "an old Excel (.xls) file: save it as .xlsx or CSV first",
        ))
    } else {
        read_csv(&decode(bytes)?)
    }
}

fn unreadable(detail: impl Into<String>) -> AppError {
    AppError::with_detail(ErrorCode::UnreadableFile, detail)
}

fn too_big(detail: impl Into<String>) -> AppError {
    AppError::validation(vec![FieldError::new("file", "too_large", detail)])
}

/// UTF-8 (a byte order mark dropped), else GBK (read as GB 18030, its superset).
pub fn decode(bytes: &[u8]) -> Result<String, AppError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(unreadable(
            "UTF-16 text: save it as CSV (UTF-8) or CSV (comma delimited)",
        ));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(unreadable("the text is neither UTF-8 nor GBK"));
    }
    Ok(text.into_owned())
}

fn read_csv(text: &str) -> Result<Sheet, AppError> {
    if text.contains('\0') {
        return Err(unreadable("the file holds binary data"));
    }
    // Commas as Excel writes them; a file whose first line has tabs and no comma is
    // tab-separated (Excel's "Unicode text" saved under another name).
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if !first.contains(',') && first.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut lines = Vec::new();
    // The line each record starts on, counted from its byte offset (the reader skips blank
    // lines without counting them): the row a spreadsheet shows.
    let (mut counted_to, mut line) = (0usize, 1usize);
    for record in reader.records() {
        let record = record.map_err(|e| unreadable(format!("{e}")))?;
        let mut start = record
            .position()
            .map_or(counted_to, |p| p.byte() as usize)
            .clamp(counted_to, text.len());
        // The position is where the reader began, before the blank lines it skipped.
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        line += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        lines.push((line, cells));
        if lines.len() > MAX_ROWS + 1 {
            return Err(too_big(format!("at most {MAX_ROWS} rows")));
        }
    }
    into_sheet(lines)
}

/// The first non-blank line is the header; blank lines are dropped; every size is checked.
fn into_sheet(lines: Vec<(usize, Vec<String>)>) -> Result<Sheet, AppError> {
    let mut lines = lines
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header)) = lines.next() else {
        return Err(unreadable("the file is empty"));
    };
    let mut rows = Vec::new();
    for (number, cells) in std::iter::once((header_row, header.clone())).chain(lines) {
        if cells.len() > MAX_COLUMNS {
            return Err(too_big(format!(
                "row {number}: at most {MAX_COLUMNS} columns"
            )));
        }
        if cells.iter().any(|c| c.chars().count() > MAX_CELL_CHARS) {
            return Err(too_big(format!(
                "row {number}: a cell holds more than {MAX_CELL_CHARS} characters"
            )));
        }
        if number != header_row {
            rows.push(Row { number, cells });
        }
    }
    if rows.len() > MAX_ROWS {
        return Err(too_big(format!("at most {MAX_ROWS} rows")));
    }
    Ok(Sheet {
        header: header.iter().map(|h| h.trim().to_string()).collect(),
        header_row,
        rows,
    })
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, AppError> {
    check_unpacked_size(bytes)?;
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a readable XLSX file ({e})")))?;
    let first = book
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| unreadable("the workbook has no worksheet"))?;
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|e| unreadable(format!("the first worksheet cannot be read ({e})")))?;
    let mut lines: Vec<(usize, Vec<String>)> = Vec::new();
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| unreadable(format!("the first worksheet cannot be read ({e})")))?
    {
        let (row, col) = cell.get_position();
        let (row, col) = (row as usize + 1, col as usize);
        let text = cell_text(cell.get_value()).map_err(|e| {
            AppError::validation(vec![FieldError::new("file", "invalid", e).at_row(row)])
        })?;
        if text.is_empty() {
            continue;
        }
        if col >= MAX_COLUMNS {
            return Err(too_big(format!("row {row}: at most {MAX_COLUMNS} columns")));
        }
        if lines.last().is_none_or(|(n, _)| *n != row) {
            if lines.len() > MAX_ROWS {
                return Err(too_big(format!("at most {MAX_ROWS} rows")));
            }
            lines.push((row, Vec::new()));
        }
        if let Some((_, line)) = lines.last_mut() {
            if line.len() <= col {
                line.resize(col + 1, String::new());
            }
            line[col] = text;
        }
    }
    into_sheet(lines)
}

/// Refuses an archive whose parts unpack to more than the bound (a ZIP bomb), by the sizes its
/// directory declares; the reader then stops at the row bound whatever the parts hold.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), AppError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("not a readable XLSX file ({e})")))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| unreadable(format!("not a readable XLSX file ({e})")))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(too_big(format!(
            "the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes"
        )));
    }
    Ok(())
}

/// A cell as the text a person sees: whole numbers without a decimal point, dates as
/// `YYYY-MM-DD`.
fn cell_text(value: &calamine::DataRef<'_>) -> Result<String, String> {
    use calamine::DataRef;
    Ok(match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => {
                t.date().format("%Y-%m-%d").to_string()
            }
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => return Err("a date outside the calendar".into()),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(format!("a cell holds the Excel error {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(sheet: &Sheet) -> Vec<(usize, Vec<&str>)> {
        sheet
            .rows
            .iter()
            .map(|r| (r.number, r.cells.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn csv_in_utf8_with_or_without_a_byte_order_mark_and_in_gbk_reads_the_same() {
        let text = "代码,名称\nFGJ,县发展和改革局\n\nZRZY,\"县自然资源局, 规划\"\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        for bytes in [text.as_bytes(), &with_bom, &gbk] {
            let sheet = read(bytes).unwrap();
            assert_eq!(sheet.header, ["代码", "名称"]);
            assert_eq!(
                cells(&sheet),
                [
                    (2, vec!["FGJ", "县发展和改革局"]),
                    (4, vec!["ZRZY", "县自然资源局, 规划"])
                ]
            );
        }
    }

    #[test]
    fn xlsx_reads_the_first_sheet_with_numbers_and_dates_as_a_person_sees_them() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "项目代码").unwrap();
        sheet.write_string(0, 1, "投资额（万元）").unwrap();
        sheet.write_string(0, 2, "日期").unwrap();
        sheet.write_string(2, 0, "P-001").unwrap();
        sheet.write_number(2, 1, 12000.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 1).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet
            .write_datetime_with_format(2, 2, &date, &format)
            .unwrap();
        sheet.write_number(3, 0, 7.5).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let sheet = read(&bytes).unwrap();
        assert_eq!(sheet.header, ["项目代码", "投资额（万元）", "日期"]);
        assert_eq!(
            cells(&sheet),
            [(3, vec!["P-001", "12000", "2026-03-01"]), (4, vec!["7.5"])]
        );
    }

    #[test]
    fn what_is_not_a_table_is_refused_with_a_reason() {
        let code = |bytes: &[u8]| read(bytes).unwrap_err().code;
        assert_eq!(code(b""), ErrorCode::UnreadableFile);
        assert_eq!(code(b"\xD0\xCF\x11\xE0old"), ErrorCode::UnreadableFile);
        assert_eq!(code(b"PK\x03\x04broken"), ErrorCode::UnreadableFile);
        assert_eq!(code(b"\xFF\xFEa\0b\0"), ErrorCode::UnreadableFile);
        assert_eq!(code(b"a,b\n\xFF\xFF\xFF\n"), ErrorCode::UnreadableFile);
        let wide = vec!["x"; MAX_COLUMNS + 1].join(",");
        assert_eq!(code(wide.as_bytes()), ErrorCode::ValidationFailed);
        let long = format!("a\n{}\n", "长".repeat(MAX_CELL_CHARS + 1));
        assert_eq!(code(long.as_bytes()), ErrorCode::ValidationFailed);
        let many = format!("a\n{}", "x\n".repeat(MAX_ROWS + 1));
        assert_eq!(code(many.as_bytes()), ErrorCode::ValidationFailed);
        let heavy = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(code(&heavy), ErrorCode::FileTooLarge);
    }

    #[test]
    fn a_zip_that_unpacks_beyond_the_bound_is_refused_before_it_is_unpacked() {
        use std::io::Write;
        let mut out = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
            let block = vec![b' '; 1024 * 1024];
            for _ in 0..(MAX_UNPACKED_BYTES / block.len() as u64 + 1) {
                zip.write_all(&block).unwrap();
            }
            zip.finish().unwrap();
        }
        let bytes = out.into_inner();
        assert!(bytes.len() < MAX_FILE_BYTES);
        let e = read(&bytes).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert!(e.errors[0].message.contains("unpacks"), "{e:?}");
    }
}
