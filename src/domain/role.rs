//! The five roles and what each may do with users and departments.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Observer,
    DepartmentStaff,
    DepartmentHead,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Observer,
        Role::DepartmentStaff,
        Role::DepartmentHead,
        Role::Supervisor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Observer => "observer",
            Role::DepartmentStaff => "department_staff",
            Role::DepartmentHead => "department_head",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Department staff and heads belong to exactly one department; nobody else belongs to one.
    pub fn belongs_to_department(self) -> bool {
        matches!(self, Role::DepartmentStaff | Role::DepartmentHead)
    }

    /// Who may see every user and the whole organisation.
    pub fn sees_everyone(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// What the caller is, as far as authorisation rules care.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
    pub department_id: Option<i64>,
}

impl Actor {
    /// May the actor read this user's profile? Yourself, supervisors and admins, and a
    /// department head for the members of their department.
    pub fn may_read_user(&self, user_id: i64, user_department: Option<i64>) -> bool {
        self.id == user_id
            || self.role.sees_everyone()
            || (self.role == Role::DepartmentHead
                && self.department_id.is_some()
                && self.department_id == user_department)
    }

    pub fn may_manage_users(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn may_manage_departments(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn a_department_head_reads_only_their_own_departments_members() {
        let head = Actor {
            id: 1,
            role: Role::DepartmentHead,
            department_id: Some(7),
        };
        assert!(head.may_read_user(2, Some(7)));
        assert!(!head.may_read_user(2, Some(8)));
        assert!(!head.may_read_user(2, None));
        let staff = Actor {
            id: 3,
            role: Role::DepartmentStaff,
            department_id: Some(7),
        };
        assert!(!staff.may_read_user(2, Some(7)));
        assert!(staff.may_read_user(3, Some(7)));
    }
}
