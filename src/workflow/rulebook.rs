//! The rules a filing follows, as last read: the business calendar (every stored year over
//! the shipped ones), the SLA policies and the routing rules. They change rarely, and a
//! filing needs all three.
//!
//! A read showing clocks trusts what is held for [`Rulebook::TTL`] without asking the
//! database. A write ([`Rulebook::fresh`]) first reads the rules' token
//! (`db::rules_token`) in its own transaction: one indexed read instead of the three
//! tables. A change made through any instance renews the token in the transaction that
//! makes it, so it is never missed; the rules are read and parsed again only then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::sla::PolicyRow;
use crate::db::{self, DbConn};
use crate::domain::calendar::Calendar;
use crate::domain::routing;
use crate::error::AppError;
use crate::workflow::sla;

/// The rules as read at one token.
pub struct Rules {
    pub calendar: Calendar,
    /// By (category, priority).
    policies: HashMap<(String, String), PolicyRow>,
    /// Every routing rule, by id.
    routes: Vec<routing::Rule>,
}

impl Rules {
    fn read(c: &mut DbConn) -> Result<Rules, AppError> {
        Ok(Rules {
            calendar: sla::calendar(c)?,
            policies: db::sla::policies(c)?
                .into_iter()
                .map(|p| ((p.category.clone(), p.priority.clone()), p))
                .collect(),
            routes: db::routing_rules::all(c)?
                .into_iter()
                .map(|r| routing::Rule {
                    id: r.id,
                    category: r.category,
                    park: r.park,
                    milestone_kind: r.milestone_kind,
                    department_id: r.department_id,
                })
                .collect(),
        })
    }

    /// The policy of this category and priority; a built-in one if a supervisor removed it.
    pub fn policy(&self, category: &str, priority: &str) -> PolicyRow {
        self.policies
            .get(&(category.to_string(), priority.to_string()))
            .cloned()
            .unwrap_or_else(|| sla::default_policy(category, priority))
    }

    /// Every routing rule, by id (`domain::routing::route` picks those of a category).
    pub fn routes(&self) -> &[routing::Rule] {
        &self.routes
    }
}

/// What one instance holds: the rules and the token they were read at.
#[derive(Default)]
pub struct Rulebook {
    held: Mutex<Option<Held>>,
}

struct Held {
    at: Instant,
    token: i64,
    rules: Arc<Rules>,
}

impl Rulebook {
    pub const TTL: Duration = Duration::from_secs(5);

    /// The rules for showing clocks: at most [`Rulebook::TTL`] old.
    pub fn current(&self, c: &mut DbConn) -> Result<Arc<Rules>, AppError> {
        if let Ok(held) = self.held.lock()
            && let Some(h) = held.as_ref()
            && h.at.elapsed() < Self::TTL
        {
            return Ok(h.rules.clone());
        }
        self.fresh(c)
    }

    /// The rules as stored now, for routing an issue and computing its deadlines.
    pub fn fresh(&self, c: &mut DbConn) -> Result<Arc<Rules>, AppError> {
        let token = db::rules_token::token(c)?;
        if let Ok(mut held) = self.held.lock()
            && let Some(h) = held.as_mut()
            && h.token == token
        {
            h.at = Instant::now();
            return Ok(h.rules.clone());
        }
        let rules = Arc::new(Rules::read(c)?);
        if let Ok(mut held) = self.held.lock() {
            *held = Some(Held {
                at: Instant::now(),
                token,
                rules: rules.clone(),
            });
        }
        Ok(rules)
    }

    /// Drops what is held: called after this instance changed the rules, so that its own
    /// reads show the change at once rather than within [`Rulebook::TTL`].
    pub fn forget(&self) {
        if let Ok(mut held) = self.held.lock() {
            *held = None;
        }
    }
}
