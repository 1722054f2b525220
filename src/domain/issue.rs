//! What an issue is made of: its statuses, categories, priorities, and the project and
//! milestone vocabularies it refers to.

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $( $variant:ident = $text:literal ),* $(,)? }) => {
        $(#[$meta])*
        // Text in the database: the conversions are `db::text`'s, the only place that reads
        // or writes these columns.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[derive(::diesel::AsExpression, ::diesel::FromSqlRow)]
        #[diesel(sql_type = ::diesel::sql_types::Text)]
        pub enum $name { $( #[serde(rename = $text)] $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $( $text => Some($name::$variant), )* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// Where an issue is in its life.
    Status {
        Submitted = "submitted",
        Unassigned = "unassigned",
        Assigned = "assigned",
        InProgress = "in_progress",
        AwaitingInfo = "awaiting_info",
        Resolved = "resolved",
        Closed = "closed",
        Withdrawn = "withdrawn",
    }
}

impl Status {
    /// Closed and withdrawn issues are finished; everything else is open.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Withdrawn)
    }
}

text_enum! {
    Category {
        ApprovalDelay = "approval_delay",
        LandSupply = "land_supply",
        UtilitySupply = "utility_supply",
        PolicyNotApplied = "policy_not_applied",
        InspectionDisturbance = "inspection_disturbance",
        ServiceConduct = "service_conduct",
        PaymentArrears = "payment_arrears",
        Other = "other",
    }
}

text_enum! {
    Priority {
        Normal = "normal",
        Urgent = "urgent",
    }
}

text_enum! {
    /// Where a project is.
    Stage {
        Signed = "signed",
        PreConstruction = "pre_construction",
        UnderConstruction = "under_construction",
        InProduction = "in_production",
    }
}

text_enum! {
    /// The kinds of pre-construction and construction milestones (节点).
    MilestoneKind {
        ProjectApproval = "project_approval",
        LandPreReview = "land_pre_review",
        PlanningPermit = "planning_permit",
        ConstructionPermit = "construction_permit",
        EnvironmentalAssessment = "environmental_assessment",
        EnergyAssessment = "energy_assessment",
        PowerConnection = "power_connection",
        WaterConnection = "water_connection",
        GasConnection = "gas_connection",
        CompletionAcceptance = "completion_acceptance",
        Other = "other",
    }
}

text_enum! {
    MilestoneStatus {
        Planned = "planned",
        InProgress = "in_progress",
        Done = "done",
        Blocked = "blocked",
    }
}

/// The human number of an issue: the year in the county's calendar and a sequence
/// within it, `2026-000123`.
pub fn issue_number(year: i32, seq: i64) -> String {
    format!("{year}-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Status::parse("open"), None);
    }

    #[test]
    fn numbers_are_zero_padded() {
        assert_eq!(issue_number(2026, 123), "2026-000123");
        assert_eq!(issue_number(2027, 1_234_567), "2027-1234567");
    }
}
