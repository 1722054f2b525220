//! Where a new issue goes: an explicit rule (category × park / milestone kind) wins, else
//! the milestone's responsible department, else the project's lead department, else the
//! supervisors' queue.

use serde::Serialize;

/// A routing rule as the decision needs it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub category: String,
    pub park: Option<String>,
    pub milestone_kind: Option<String>,
    pub department_id: i64,
}

/// What is known about the issue when it is filed.
#[derive(Debug, Clone, Default)]
pub struct Target<'a> {
    pub category: &'a str,
    pub park: Option<&'a str>,
    pub milestone_kind: Option<&'a str>,
    pub milestone_department: Option<i64>,
    pub project_lead_department: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Decision {
    Rule {
        rule_id: i64,
        department_id: i64,
    },
    Milestone {
        department_id: i64,
    },
    Project {
        department_id: i64,
    },
    /// An inspection the observer reported matches this filing: its department answers.
    Inspection {
        inspection_id: i64,
        department_id: i64,
    },
    /// An inspection no filing matches, by a department the observer named: it answers.
    UnfiledInspection {
        department_id: i64,
    },
    /// No owner found: the supervisors dispatch it by hand (an unfiled inspection whose
    /// department is not known goes there too).
    Unassigned,
}

impl Decision {
    pub fn department_id(self) -> Option<i64> {
        match self {
            Decision::Rule { department_id, .. }
            | Decision::Milestone { department_id }
            | Decision::Project { department_id }
            | Decision::Inspection { department_id, .. }
            | Decision::UnfiledInspection { department_id } => Some(department_id),
            Decision::Unassigned => None,
        }
    }
}

/// A rule matches when its category is the and each of its optional conditions
/// holds. The most specific matching rule wins (both conditions over one over none); among
/// equals, the oldest.
pub fn route(target: &Target<'_>, rules: &[Rule]) -> Decision {
    let best = rules
        .iter()
        .filter(|r| r.category == target.category)
        .filter(|r| r.park.as_deref().is_none_or(|p| Some(p) == target.park))
        .filter(|r| {
            r.milestone_kind
                .as_deref()
                .is_none_or(|k| Some(k) == target.milestone_kind)
        })
        .max_by_key(|r| {
            let specificity =
                usize::from(r.park.is_some()) + usize::from(r.milestone_kind.is_some());
            (specificity, std::cmp::Reverse(r.id))
        });
    if let Some(rule) = best {
        return Decision::Rule {
            rule_id: rule.id,
            department_id: rule.department_id,
        };
    }
    if let Some(d) = target.milestone_department {
        return Decision::Milestone { department_id: d };
    }
    if let Some(d) = target.project_lead_department {
        return Decision::Project { department_id: d };
    }
    Decision::Unassigned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, category: &str, park: Option<&str>, kind: Option<&str>, dept: i64) -> Rule {
        Rule {
            id,
            category: category.into(),
            park: park.map(Into::into),
            milestone_kind: kind.map(Into::into),
            department_id: dept,
        }
    }

    fn target<'a>() -> Target<'a> {
        Target {
            category: "utility_supply",
            park: Some("SME park"),
            milestone_kind: Some("power_connection"),
            milestone_department: Some(20),
            project_lead_department: Some(30),
        }
    }

    #[test]
    fn the_most_specific_rule_wins_then_the_oldest() {
        let rules = vec![
            rule(1, "utility_supply", None, None, 101),
            rule(2, "utility_supply", Some("SME park"), None, 102),
            rule(
                3,
                "utility_supply",
                Some("SME park"),
                Some("power_connection"),
                103,
            ),
            rule(
                4,
                "utility_supply",
                Some("SME park"),
                Some("power_connection"),
                104,
            ),
        ];
        assert_eq!(
            route(&target(), &rules),
            Decision::Rule {
                rule_id: 3,
                department_id: 103
            }
        );
        assert_eq!(
            route(&target(), &rules[..2]),
            Decision::Rule {
                rule_id: 2,
                department_id: 102
            }
        );
    }

    #[test]
    fn rules_for_other_categories_parks_or_kinds_do_not_match() {
        let rules = vec![
            rule(1, "land_supply", None, None, 101),
            rule(2, "utility_supply", Some("agriculture park"), None, 102),
            rule(3, "utility_supply", None, Some("water_connection"), 103),
        ];
        assert_eq!(
            route(&target(), &rules),
            Decision::Milestone { department_id: 20 }
        );
    }

    #[test]
    fn fallbacks_go_milestone_then_project_then_unassigned() {
        let mut t = target();
        assert_eq!(route(&t, &[]), Decision::Milestone { department_id: 20 });
        t.milestone_department = None;
        assert_eq!(route(&t, &[]), Decision::Project { department_id: 30 });
        t.project_lead_department = None;
        assert_eq!(route(&t, &[]), Decision::Unassigned);
    }
}
