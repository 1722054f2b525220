//! A map of what a request may reuse for a while, within a number of entries: the callers
//! loaded lately (`auth::callers`) and the access tokens verified lately (`auth::tokens`).
//! Each entry says itself whether it is still good (`alive`); a full map first forgets the
//! entries that are not, and everything if that is not enough.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct Bounded<K, V> {
    capacity: usize,
    entries: Mutex<HashMap<K, V>>,
}

impl<K: Eq + Hash, V: Clone> Bounded<K, V> {
    pub fn new(capacity: usize) -> Self {
        Bounded {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for `key`, if `alive` says it is still good.
    pub fn get<Q>(&self, key: &Q, alive: impl Fn(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|v| alive(v)).cloned()
    }

    /// Keeps `value` for `key`. When the map is full, the entries `alive` refuses go first,
    /// and every entry if that leaves it full.
    pub fn put(&self, key: K, value: V, alive: impl Fn(&V) -> bool) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, v| alive(v));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, value);
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_forgets_what_is_no_longer_good_first_and_never_passes_its_capacity() {
        // Values are "good" when even.
        let map: Bounded<u32, u32> = Bounded::new(3);
        let even = |v: &u32| v.is_multiple_of(2);
        map.put(1, 1, even);
        map.put(2, 2, even);
        map.put(3, 4, even);
        assert_eq!(map.get(&1, |_| true), Some(1));
        assert_eq!(
            map.get(&1, even),
            None,
            "an entry no longer good is not answered"
        );
        // Full: the odd value goes, the even ones stay.
        map.put(4, 6, even);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&1, |_| true), None);
        assert_eq!(map.get(&2, even), Some(2));
        // Full of good entries: everything goes.
        map.put(5, 8, even);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get(&5, even), Some(8));
        // Replacing a key of a full map forgets nothing.
        map.put(6, 10, even);
        map.put(7, 12, even);
        map.put(7, 14, even);
        assert_eq!(map.len(), 3);
        map.clear();
        assert!(map.is_empty());
    }
}
