//! One report as a table, written out as CSV (UTF-8 with a byte-order mark, so that Excel
//! shows Chinese) or as an XLSX workbook (styled header, widths, percentages).

use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook, XlsxError};

/// A cell of a report table.
#[derive(Debug, Clone)]
pub enum Cell {
    Int(i64),
    /// A count or average; empty when there is no data.
    Num(Option<f64>),
    /// A fraction from 0 to 1, shown as a percentage in a workbook; empty without data.
    Rate(Option<f64>),
    Text(String),
}

/// A named table: column keys (the JSON field names), Chinese headers, and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<(&'static str, &'static str)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Int(n) => n.to_string(),
            Cell::Num(Some(x)) | Cell::Rate(Some(x)) => format!("{x}"),
            Cell::Num(None) | Cell::Rate(None) => String::new(),
            Cell::Text(s) => s.clone(),
        }
    }
}

/// A text cell as a spreadsheet will read it: one that starts like a formula (`=`, `+`,
/// `-`, `@`, tab or carriage return) gets a leading `'`, so Excel and LibreOffice show it
/// as text instead of evaluating it (OWASP, "CSV Injection"). Numbers are not text cells
/// and keep their sign.
fn neutralised(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The table as CSV: a BOM, one header line of Chinese column names, then the rows.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let header: Vec<String> = table.columns.iter().map(|(_, zh)| csv_field(zh)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in &table.rows {
        let line: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(t) => csv_field(&neutralised(t)),
                other => csv_field(&other.text()),
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Display width of a text in a spreadsheet column: CJK characters count double.
fn width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) > 0x2E80 { 2.0 } else { 1.0 })
        .sum()
}

/// The tables as one workbook, a sheet each.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_font_color(Color::White)
        .set_background_color(Color::RGB(0x1F4E79))
        .set_align(FormatAlign::Center);
    let percent = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("0.00");
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(&table.name)?;
        let mut widths: Vec<f64> = table.columns.iter().map(|(_, zh)| width(zh)).collect();
        for (col, (_, zh)) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *zh, &header)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                let c = col as u16;
                match cell {
                    Cell::Int(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Num(Some(x)) => {
                        sheet.write_number_with_format(r, c, *x, &decimal)?;
                    }
                    Cell::Rate(Some(x)) => {
                        sheet.write_number_with_format(r, c, *x, &percent)?;
                    }
                    Cell::Num(None) | Cell::Rate(None) => {}
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                }
                if let Some(w) = widths.get_mut(col) {
                    *w = w.max(width(&cell.text()));
                }
            }
        }
        for (col, w) in widths.iter().enumerate() {
            sheet.set_column_width(col as u16, (w + 2.0).min(60.0))?;
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_cells_that_look_like_formulas_are_written_as_text() {
        let table = Table {
            name: "t".into(),
            columns: vec![("name", "名称"), ("n", "数")],
            rows: [
                "=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "plain", "a=b",
            ]
            .iter()
            .map(|t| vec![Cell::Text((*t).into()), Cell::Int(-3)])
            .collect(),
        };
        let text = String::from_utf8(csv(&table)).unwrap_or_default();
        let cells: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.rsplit_once(',').map_or(l, |p| p.0))
            .collect();
        assert_eq!(
            cells,
            [
                "'=1+2",
                "'+SUM(A1)",
                "'-2+3",
                "'@cmd",
                "'\tx",
                "\"'\rx\"",
                "plain",
                "a=b"
            ]
        );
        assert!(text.lines().skip(1).all(|l| l.ends_with(",-3")), "{text}");
    }
}
