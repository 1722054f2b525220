//! The callers seen in the last few seconds, so that a read does not load the caller's user
//! row and session on every request.
//!
//! Only reads (`GET`, `HEAD`) may be answered from it: a write always loads the caller
//! fresh, so a deactivation, a role or department change, a password change or a logout
//! takes effect at once for everything that changes data. This instance forgets every
//! entry when it makes such a change itself, so its own reads follow at once too; another
//! instance's reads follow within [`Callers::TTL`].
//!
//! Entries are keyed by the token's user, session and password stamp, and only a token
//! whose signature and expiry were checked gets one, so the map cannot be filled by a
//! stranger; it is bounded all the same.

use std::time::{Duration, Instant};

use super::AuthUser;
use super::bounded::Bounded;

/// Which token a cached caller was loaded for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerKey {
    pub user_id: i64,
    pub session: String,
    pub password_stamp: i64,
}

pub struct Callers {
    ttl: Duration,
    entries: Bounded<CallerKey, (Instant, AuthUser)>,
}

impl Default for Callers {
    fn default() -> Self {
        Callers::new(Callers::TTL, 10_000)
    }
}

impl Callers {
    /// How long a read may trust what was loaded.
    pub const TTL: Duration = Duration::from_secs(5);

    pub fn new(ttl: Duration, capacity: usize) -> Callers {
        Callers {
            ttl,
            entries: Bounded::new(capacity),
        }
    }

    /// The caller loaded for `key` less than the TTL ago.
    pub fn get(&self, key: &CallerKey) -> Option<AuthUser> {
        self.entries.get(key, self.fresh()).map(|(_, user)| user)
    }

    pub fn put(&self, key: CallerKey, user: AuthUser) {
        self.entries.put(key, (Instant::now(), user), self.fresh());
    }

    /// Forgets everyone: called after a change to a user or a session.
    pub fn forget_all(&self) {
        self.entries.clear();
    }

    fn fresh(&self) -> impl Fn(&(Instant, AuthUser)) -> bool {
        let ttl = self.ttl;
        move |(at, _)| at.elapsed() < ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;

    fn user(id: i64) -> AuthUser {
        AuthUser {
            id,
            username: format!("u{id}"),
            role: Role::Observer,
            department_id: None,
            locale: "zh-CN".into(),
        }
    }

    fn key(id: i64) -> CallerKey {
        CallerKey {
            user_id: id,
            session: "s".into(),
            password_stamp: 1,
        }
    }

    #[test]
    fn a_caller_is_remembered_for_its_token_only_and_only_until_the_ttl() {
        let callers = Callers::new(Duration::from_millis(50), 10);
        callers.put(key(1), user(1));
        assert_eq!(callers.get(&key(1)).map(|u| u.id), Some(1));
        let other_stamp = CallerKey {
            password_stamp: 2,
            ..key(1)
        };
        assert!(callers.get(&other_stamp).is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(callers.get(&key(1)).is_none());
    }

    #[test]
    fn the_map_never_grows_past_its_capacity_and_forgets_everyone_on_demand() {
        let callers = Callers::new(Duration::from_secs(60), 3);
        for id in 0..10 {
            callers.put(key(id), user(id));
            assert!(callers.entries.len() <= 3);
        }
        assert!(callers.get(&key(9)).is_some());
        callers.forget_all();
        assert!(callers.get(&key(9)).is_none());
    }
}
