//! The accounts behind access tokens, kept in memory so that an authenticated request does
//! not read its account from the database every time.
//!
//! A disabled account, a revoked token generation or a changed role must still stop working
//! at once, on every instance. So:
//!
//! - every change to an account that authentication reads is followed, in the changing
//!   instance, by [`AccountCache::invalidate`] after its commit, and, on PostgreSQL, by a
//!   `NOTIFY` sent inside the changing transaction (`repo::accounts::notify_changed`), which
//!   every instance's listener (`jobs::account_events`) turns into the same invalidation when
//!   the change commits;
//! - an entry is only served while that listener is connected (on SQLite, which has one
//!   serving process, always); the cache is emptied whenever the listener (re)connects,
//!   since notifications may have been missed in between;
//! - a read that raced with an invalidation is not stored (the generation check below);
//! - entries also expire after `auth.account_cache_secs`, a bound for changes made behind
//!   the application's back (SQL by hand, another process on a SQLite file). 0 turns the
//!   cache off.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use crate::repo::accounts::AccountRow;

/// How many accounts are kept at most (a province's staff and its active citizens).
const CAPACITY: u64 = 100_000;

/// Accounts by id; see the module documentation for when an entry may be served.
pub struct AccountCache {
    entries: Option<Cache<Uuid, Arc<AccountRow>>>,
    /// Bumped by every invalidation, so that a read begun before it is not stored after it.
    generation: AtomicU64,
    /// Whether invalidations from other instances are being received.
    listening: AtomicBool,
}

impl AccountCache {
    /// A cache whose entries live `ttl` at most (`None`: no cache, every call reads).
    /// `single_instance`: no other instance can change accounts (SQLite), so entries are
    /// served without a listener.
    pub fn new(ttl: Option<Duration>, single_instance: bool) -> Self {
        AccountCache {
            entries: ttl.map(|ttl| {
                Cache::builder()
                    .max_capacity(CAPACITY)
                    .time_to_live(ttl)
                    .build()
            }),
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(single_instance),
        }
    }

    /// The account, from memory when that is safe, otherwise from the database.
    pub async fn get<C: ConnectionTrait>(
        &self,
        db: &C,
        keys: &crate::security::data_key::DataKeys,
        id: Uuid,
    ) -> Result<Option<Arc<AccountRow>>, DbErr> {
        let Some(entries) = &self.entries else {
            return Ok(crate::repo::accounts::find_by_id(db, keys, id)
                .await?
                .map(Arc::new));
        };
        let serving = self.listening.load(Ordering::Acquire);
        if serving {
            if let Some(hit) = entries.get(&id) {
                return Ok(Some(hit));
            }
        }
        let before = self.generation.load(Ordering::Acquire);
        let found = crate::repo::accounts::find_by_id(db, keys, id)
            .await?
            .map(Arc::new);
        if let Some(account) = &found {
            // Stored only if no invalidation happened since the read began: otherwise the
            // row read may predate the change.
            if serving
                && self.listening.load(Ordering::Acquire)
                && self.generation.load(Ordering::Acquire) == before
            {
                entries.insert(id, account.clone());
            }
        }
        Ok(found)
    }

    /// Forget one account (it changed).
    pub fn invalidate(&self, id: Uuid) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate(&id);
        }
    }

    /// Forget every account (invalidations may have been missed).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }

    /// Whether other instances' changes reach this one: entries are served only then.
    /// Either way the cache is emptied, since changes may have been missed.
    pub fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Release);
        self.clear();
    }

    /// Whether this account would be answered from memory.
    pub fn serves(&self, id: Uuid) -> bool {
        self.is_listening()
            && self
                .entries
                .as_ref()
                .is_some_and(|entries| entries.contains_key(&id))
    }

    /// Whether entries are being served.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }
}
