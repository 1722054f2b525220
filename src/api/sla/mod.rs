//! SLA policies and business calendars: everyone signed in reads them; supervisors and
//! admins change them.

pub mod calendar;
pub mod policies;
