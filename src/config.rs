//! Layered configuration.
//!
//! Sources, later ones winning: `config/default.toml` (compiled in, so the binary runs from any
//! directory), the file given by `--config`/`MOTCUA_CONFIG`, environment variables
//! `MOTCUA__SECTION__KEY`, then command-line flags.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Everything the service reads from its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub intake: IntakeSettings,
    pub sla: SlaSettings,
    pub stats: StatsSettings,
    pub outbox: OutboxSettings,
    pub national: NationalSettings,
    pub notify: NotifySettings,
    pub open311: Open311Settings,
    pub calendar: CalendarSettings,
    pub metrics: MetricsSettings,
    pub web: WebSettings,
    pub storage: StorageSettings,
    pub security: SecuritySettings,
}

/// Keys that seal personal data at rest (see `security::data_key`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// 64 hex characters; empty: the key file.
    pub data_key: SecretString,
    pub data_key_file: String,
    /// Comma-separated keys accepted for opening only.
    pub extra_data_keys: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    pub cors_allowed_origins: Vec<String>,
    /// The proxies whose forwarded client addresses are believed (addresses or CIDR ranges).
    pub trusted_proxies: TrustedProxies,
    /// The header those proxies set: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub forwarded_header: ForwardedHeader,
    pub shutdown_grace_secs: u64,
    /// Send `Strict-Transport-Security` (only where clients reach the service over TLS).
    pub hsts: bool,
}

/// Database settings. The URL may hold a password, so `Debug` hides it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout_secs: u64,
    /// PostgreSQL: a pooled connection idle for longer than this is pinged before use.
    pub ping_if_idle_secs: u64,
    pub sqlite_busy_timeout_ms: u64,
    /// PostgreSQL: a streaming replica for reads that tolerate a moment's delay (see
    /// `crate::replica`). Empty: every read goes to `url`.
    pub read_url: SecretString,
    /// The replica serves those reads only while it is at most this far behind.
    pub read_max_lag_ms: u64,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout_secs", &self.acquire_timeout_secs)
            .field("ping_if_idle_secs", &self.ping_if_idle_secs)
            .field("sqlite_busy_timeout_ms", &self.sqlite_busy_timeout_ms)
            .field("read_url", &redact_url(self.read_url.expose_secret()))
            .field("read_max_lag_ms", &self.read_max_lag_ms)
            .finish()
    }
}

/// A database URL with any password replaced, fit for logs.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/... → scheme://user:***@host/...
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((creds, host)) = rest.split_once('@') {
            if let Some((user, _)) = creds.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Secret: `SecretString` keeps it out of `Debug` output.
    pub jwt_secret: SecretString,
    pub key_file: String,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// How long an account read for a token may be reused, at most (0: read every time).
    /// Changes made through the application invalidate it at once on every instance.
    pub account_cache_secs: u64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub throttle: ThrottleSettings,
}

/// The proxies in front of the service, whose forwarded addresses are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether the address is one of the trusted proxies.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TrustedProxies {
    /// Addresses (`10.0.0.1`, `::1`) or CIDR ranges (`10.0.0.0/8`); empty items are skipped.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        items
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "server.trusted_proxies: {s:?} is neither an address nor a CIDR range"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        TrustedProxies::parse(items.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

/// The header in which trusted proxies pass the client's address on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ForwardedHeader {
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=...`.
    #[serde(rename = "forwarded")]
    Forwarded,
}

/// Failed-login throttling (OWASP's authentication guidance): per account and client
/// address first, then per account from anywhere at a higher bound with a short fixed lock,
/// and per client address across accounts at a bound only credential stuffing reaches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSettings {
    /// Failures of one account from one address before that pair is locked.
    pub max_failures: u32,
    /// The pair's first lock; doubles with each further failure up to `max_delay_secs`.
    pub base_delay_secs: u64,
    pub max_delay_secs: u64,
    /// Failures older than this are forgotten (every key).
    pub window_secs: u64,
    /// Failures of one account from any address before the account is locked everywhere.
    pub account_max_failures: u32,
    /// How long, fixed (not doubling), so that its owner is not locked out for long.
    pub account_lock_secs: u64,
    /// Failures from one address over any accounts before the address is locked.
    pub address_max_failures: u32,
    pub address_lock_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    pub form_max_bytes: usize,
}

/// Where files are stored and how many a dossier may hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// `file://folder` (relative: beside the SQLite file) or `s3://bucket/prefix`.
    pub url: String,
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: SecretString,
    pub max_file_bytes: u64,
    pub max_dossier_bytes: u64,
    pub max_files: usize,
    /// Uploads no dossier took are deleted after this long (seconds).
    pub orphan_after_secs: u64,
    /// Run the cleanup of unattached uploads inside `serve`, this often (seconds).
    pub cleanup_enabled: bool,
    pub cleanup_interval_secs: u64,
    /// Time limit of a request that sends files (multipart), in seconds, in place of
    /// `server.request_timeout_secs`: a file takes as long as the client's link needs.
    pub upload_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    pub sweeper_enabled: bool,
    pub sweep_interval_secs: u64,
    pub batch_size: u64,
    /// Pause between two batches of one sweep.
    pub batch_pause_ms: u64,
    pub at_risk_ratio: f64,
    pub payment_pauses_clock: bool,
}

/// Supervisors' reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSettings {
    /// How often the country's bottleneck report is computed in advance; 0: computed on
    /// every request.
    pub bottlenecks_refresh_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    pub dispatcher_enabled: bool,
    pub poll_interval_secs: u64,
    pub batch_size: u64,
    /// How many dossiers' notifications are delivered at once.
    pub delivery_concurrency: usize,
    pub max_attempts: i32,
    pub webhook_url: String,
    pub webhook_secret: SecretString,
    pub webhook_timeout_secs: u64,
}

/// The Open311 GeoReport v2 facade (`/open311/v2/`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Settings {
    /// Requests per API key and minute, in each instance.
    pub requests_per_minute: u32,
    /// Who answers for the facade (its discovery document's `contact`).
    pub contact: String,
}

/// Messages to applicants about their dossiers' steps (`services::tell`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// `smtp://host:port` (STARTTLS when the server offers it), `smtps://host:port` (TLS
    /// from the start), with `user:password@` when the server wants them; empty: no e-mail.
    pub smtp_url: SecretString,
    /// A PEM file of certificate authorities trusted for the mail server's TLS, besides the
    /// public ones (a relay with an internal CA); empty: the public ones only.
    pub smtp_ca_file: String,
    /// The sender, `Name <address>` or an address.
    pub email_from: String,
    /// The SMS gateway: a URL with `{phone}` and `{text}` (URL-encoded in place), posted to;
    /// empty: no SMS.
    pub sms_url: String,
    /// A header sent to the gateway, `Name: value` (its key, usually); empty: none.
    pub sms_auth_header: SecretString,
    pub poll_interval_secs: u64,
    /// Failed attempts before a message is given up (shown as failed on the dossier).
    pub max_attempts: i32,
    /// How long one delivery may take (seconds).
    pub timeout_secs: u64,
}

/// Synchronisation with the national public-service portal (`services::national`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalSettings {
    pub enabled: bool,
    /// The portal's base URL: records go to `{url}/DongBoHoSoMC` and `{url}/CapNhatTienDoHoSoMC`.
    pub url: String,
    /// Where the credentials are posted for a session token.
    pub auth_url: String,
    pub username: String,
    pub password: SecretString,
    pub timeout_secs: u64,
    pub poll_interval_secs: u64,
    /// Failed attempts before a dossier waits for `motcua sync national`.
    pub max_attempts: i32,
}

/// `GET /metrics`: for administrators, or a scraper holding `token`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// A bearer token for a Prometheus scraper; empty: administrators' tokens only.
    pub token: SecretString,
}

/// The web app's browser sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// A session unused this long ends (seconds).
    pub session_idle_secs: u64,
    /// A session ends this long after sign-in however it is used (seconds).
    pub session_max_secs: u64,
    /// Mark cookies `Secure` (sent over HTTPS only). Also on when `server.hsts` is.
    pub secure_cookies: bool,
    /// The address citizens reach the service at (`https://dichvucong.example.gov.vn`), for
    /// addresses printed on paper; empty: the request's own host.
    pub public_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    pub dir: String,
    pub default_working_hours: String,
}

/// Values given on the command line; they win over every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub bind: Option<String>,
    pub database_url: Option<String>,
}

/// Where to read configuration from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The file named by `--config` or `MOTCUA_CONFIG`.
    pub file: Option<PathBuf>,
    /// Environment to read `MOTCUA__*` variables from; `None` reads the process environment.
    pub env: Option<HashMap<String, String>>,
    pub overrides: Overrides,
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Load the layered configuration and check it.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Some(path) = &sources.file {
            builder = builder.add_source(File::from(path.as_path()).required(true));
        }
        let env = Environment::with_prefix("MOTCUA")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("server.cors_allowed_origins")
            .with_list_parse_key("server.trusted_proxies")
            .source(sources.env.clone());
        builder = builder.add_source(env);
        if let Some(bind) = &sources.overrides.bind {
            builder = builder.set_override("server.bind", bind.clone())?;
        }
        if let Some(url) = &sources.overrides.database_url {
            builder = builder.set_override("database.url", url.clone())?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let secret = self.auth.jwt_secret.expose_secret();
        if !secret.is_empty() && secret.len() < 32 {
            return Err(ConfigError::Invalid(
                "auth.jwt_secret must be at least 32 bytes (or empty to generate one)".into(),
            ));
        }
        if self.auth.argon2_memory_kib < 19456
            || self.auth.argon2_iterations < 2
            || self.auth.argon2_parallelism < 1
        {
            return Err(ConfigError::Invalid(
                "argon2 parameters may not go below OWASP's minimum (m=19456 KiB, t=2, p=1)".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.sla.at_risk_ratio) || self.sla.at_risk_ratio <= 0.0 {
            return Err(ConfigError::Invalid(
                "sla.at_risk_ratio must be between 0 and 1".into(),
            ));
        }
        let url = self.database.url.expose_secret();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "database.url must be a sqlite: or postgres:// URL".into(),
            ));
        }
        let read = self.database.read_url.expose_secret();
        if !read.is_empty() {
            if url.starts_with("sqlite:")
                || !(read.starts_with("postgres://") || read.starts_with("postgresql://"))
            {
                return Err(ConfigError::Invalid(
                    "database.read_url must be a postgres:// URL, with a PostgreSQL database.url"
                        .into(),
                ));
            }
            if self.database.read_max_lag_ms == 0 {
                return Err(ConfigError::Invalid(
                    "database.read_max_lag_ms must be positive".into(),
                ));
            }
        }
        let metrics = self.metrics.token.expose_secret();
        if !metrics.is_empty() && metrics.len() < 32 {
            return Err(ConfigError::Invalid(
                "metrics.token must be at least 32 characters (or empty for none)".into(),
            ));
        }
        let t = &self.auth.throttle;
        if t.max_failures == 0 || t.account_max_failures == 0 || t.address_max_failures == 0 {
            return Err(ConfigError::Invalid(
                "auth.throttle: max_failures, account_max_failures and address_max_failures must be positive".into(),
            ));
        }
        if self.web.session_idle_secs == 0 || self.web.session_idle_secs > self.web.session_max_secs
        {
            return Err(ConfigError::Invalid(
                "web: session_idle_secs must be positive and at most session_max_secs".into(),
            ));
        }
        let public = &self.web.public_url;
        if !(public.is_empty() || public.starts_with("https://") || public.starts_with("http://")) {
            return Err(ConfigError::Invalid(
                "web.public_url must be empty or an http(s):// address".into(),
            ));
        }
        let st = &self.storage;
        if !(st.url.starts_with("file://") || st.url.starts_with("s3://")) {
            return Err(ConfigError::Invalid(
                "storage.url must be file://folder or s3://bucket/prefix".into(),
            ));
        }
        if st.max_file_bytes == 0
            || st.max_dossier_bytes < st.max_file_bytes
            || st.max_files == 0
            || st.cleanup_interval_secs == 0
            || st.upload_timeout_secs == 0
        {
            return Err(ConfigError::Invalid(
                "storage: max_file_bytes, max_files, cleanup_interval_secs and upload_timeout_secs must be positive and max_dossier_bytes at least max_file_bytes".into(),
            ));
        }
        if self.server.body_limit_bytes == 0 || self.server.request_timeout_secs == 0 {
            return Err(ConfigError::Invalid(
                "server.body_limit_bytes and server.request_timeout_secs must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The SQLite database file, when the database is SQLite and file-backed.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = self.database.url.expose_secret();
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// Where the data key is kept when `security.data_key` is empty: configured, else beside
    /// the JWT key.
    pub fn data_key_file_path(&self) -> PathBuf {
        if !self.security.data_key_file.is_empty() {
            return PathBuf::from(&self.security.data_key_file);
        }
        let jwt = self.key_file_path();
        let name = jwt.file_name().unwrap_or_default().to_string_lossy();
        let name = match name.strip_suffix(".jwt.key") {
            Some(stem) => format!("{stem}.data.key"),
            None => format!("{name}.data.key"),
        };
        jwt.with_file_name(name)
    }

    /// Where a generated JWT key is kept: configured, else beside the SQLite file, else the
    /// working directory.
    pub fn key_file_path(&self) -> PathBuf {
        if !self.auth.key_file.is_empty() {
            return PathBuf::from(&self.auth.key_file);
        }
        match self.sqlite_path() {
            Some(db) => {
                let mut name = db.file_name().unwrap_or_default().to_os_string();
                name.push(".jwt.key");
                db.with_file_name(name)
            }
            None => Path::new("motcua.jwt.key").to_path_buf(),
        }
    }
}
