//! The SLA vocabulary: the kinds of moment a clock keeps as a stored timer.

use crate::domain::issue::text_enum;

text_enum! {
    /// A moment still to come on an issue's clocks.
    TimerKind {
        AckWarn = "ack_warn",
        AckBreach = "ack_breach",
        ResolveWarn = "resolve_warn",
        ResolveBreach = "resolve_breach",
        Escalate = "escalate",
        AutoClose = "auto_close",
    }
}

impl TimerKind {
    /// The acknowledgement clock's timers.
    pub const ACK: &'static [TimerKind] = &[TimerKind::AckWarn, TimerKind::AckBreach];
    /// The resolution clock's timers, the escalations after a breach included.
    pub const RESOLVE: &'static [TimerKind] = &[
        TimerKind::ResolveWarn,
        TimerKind::ResolveBreach,
        TimerKind::Escalate,
    ];
}
