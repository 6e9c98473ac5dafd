//! The shared state of one app instance: what every request, job and command reads (the
//! connection, configuration, keys, in-memory indexes). Above the services: it hands each
//! service the narrow pieces it uses, and no service names it.

use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::domain::geography::Gazetteer;
use crate::domain::routing::UnitDirectory;
use crate::security::jwt::JwtKeys;
use crate::security::password::PasswordHasher;
use crate::services;
use crate::services::calendar::CalendarHandle;
use crate::services::geography::DirectoryHandle;
use crate::services::routing::{CatalogHandle, RoutingCatalog};

/// Shared, cheaply cloned state of one app instance. Holds nothing that another instance
/// would need to agree with: all coordination goes through the database.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

impl AppState {
    pub fn new(inner: AppInner) -> Self {
        AppState(Arc::new(inner))
    }
}

/// The contents of [`AppState`].
pub struct AppInner {
    pub db: DatabaseConnection,
    /// The streaming replica for reads that tolerate a moment's delay (`database.read_url`);
    /// see [`AppInner::read_db`].
    pub reads: crate::replica::Reads,
    pub settings: Settings,
    pub jwt: JwtKeys,
    pub hasher: PasswordHasher,
    /// The official units of both eras, for lookups and address resolution.
    pub gazetteer: Arc<Gazetteer>,
    /// Units for routing; reloaded when units change.
    pub directory: DirectoryHandle,
    /// Working calendars; rebuilt when announcements change.
    pub calendars: CalendarHandle,
    /// Procedure versions and routing overrides; reloaded when they change.
    pub catalog: CatalogHandle,
    /// The accounts behind access tokens (see `services::account_cache`).
    pub accounts: crate::services::account_cache::AccountCache,
    /// Intakes waiting to be written, grouped into shared transactions (see
    /// `services::intake_writer`).
    pub intakes: crate::services::intake_writer::IntakeWriter,
    /// The dossiers' files.
    pub storage: crate::storage::Storage,
    /// The keys that seal personal data at rest.
    pub data_keys: crate::security::data_key::DataKeys,
    /// The Open311 facade's requests per API key and minute.
    pub open311_throttle: crate::services::open311::Throttle,
}

impl AppInner {
    /// Where a read that tolerates a moment's delay goes: the replica while it keeps up, else
    /// the primary (`db` itself, so that a service can tell the two apart).
    pub fn read_db(&self) -> &DatabaseConnection {
        self.reads.replica().unwrap_or(&self.db)
    }

    /// The current unit directory (a cheap shared snapshot).
    pub fn directory(&self) -> UnitDirectory {
        self.directory.current()
    }

    /// Reload the unit directory from the database (after a unit changed).
    pub async fn reload_directory(&self) -> Result<(), sea_orm::DbErr> {
        self.directory.reload(&self.db).await
    }

    /// The current routing catalog (a cheap shared snapshot).
    pub fn catalog(&self) -> Arc<RoutingCatalog> {
        self.catalog.current()
    }

    /// Reload the routing catalog from the database (see [`CatalogHandle::reload`]).
    pub async fn reload_catalog(&self) {
        self.catalog.reload(&self.db).await
    }
}

/// The narrow pieces each service takes, borrowed from the state.
impl AppInner {
    pub fn auth(&self) -> services::auth::Deps<'_> {
        services::auth::Deps {
            db: &self.db,
            settings: &self.settings.auth,
            jwt: &self.jwt,
            hasher: &self.hasher,
            accounts: &self.accounts,
            directory: &self.directory,
            keys: &self.data_keys,
        }
    }

    pub fn units(&self) -> services::units::Deps<'_> {
        services::units::Deps {
            db: &self.db,
            gazetteer: &self.gazetteer,
            calendar: &self.settings.calendar,
            directory: &self.directory,
        }
    }

    pub fn stats(&self) -> services::stats::Deps<'_> {
        services::stats::Deps {
            db: &self.db,
            read: self.read_db(),
            calendars: &self.calendars,
            directory: &self.directory,
            gazetteer: &self.gazetteer,
            catalog: &self.catalog,
            bottlenecks_refresh_secs: self.settings.stats.bottlenecks_refresh_secs,
        }
    }

    pub fn dossiers(&self) -> services::cases::Deps<'_> {
        services::cases::Deps {
            db: &self.db,
            read: self.read_db(),
            gazetteer: &self.gazetteer,
            directory: &self.directory,
            catalog: &self.catalog,
            calendars: &self.calendars,
            intakes: &self.intakes,
            sla: &self.settings.sla,
            intake: &self.settings.intake,
            throttle: &self.settings.auth.throttle,
            calendar: &self.settings.calendar,
            storage: &self.storage,
            files: &self.settings.storage,
            keys: &self.data_keys,
        }
    }

    pub fn overrides(&self) -> services::routing::Deps<'_> {
        services::routing::Deps {
            db: &self.db,
            gazetteer: &self.gazetteer,
            catalog: &self.catalog,
        }
    }
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}
