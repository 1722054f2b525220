//! County lists from the spreadsheets an office keeps: files read into rows (`sheet`), rows
//! into checked records (`records`). Applying them is `workflow::import`'s.

pub mod records;
pub mod sheet;
