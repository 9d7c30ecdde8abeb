//! Configuration, layered: built-in defaults → optional TOML file → `DANCU_*` environment
//! variables (nested keys joined with `__`, e.g. `DANCU_IDENTITY__LISTEN`). Every key is
//! documented in `docs/configuration.md`.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration of a dancu deployment (all three services read the same shape).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Directory holding the SQLite databases and generated secrets.
    pub data_dir: PathBuf,
    /// The identity service.
    pub identity: ServiceConfig,
    /// The records service.
    pub records: ServiceConfig,
    /// The audit service.
    pub audit: ServiceConfig,
    /// Password of the bootstrap administrator created on identity's first start. When
    /// unset, a random one is generated and printed once to the console.
    pub bootstrap_admin_password: Option<String>,
    /// Secret shared by the services' own accounts (`svc-records`, ...). When unset it is
    /// read from, or generated into, `<data_dir>/service-secret` (mode 0600).
    pub service_secret: Option<String>,
    /// Lifetime of access tokens, in seconds.
    pub token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[serde(default = "default_refresh_ttl")]
    pub refresh_token_ttl_secs: u64,
    /// Log output: `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// Log filter in `RUST_LOG` syntax.
    pub log_level: String,
    /// The audit service's verifiable log and retention.
    #[serde(default)]
    pub audit_log: AuditLogConfig,
    /// Thresholds of the audit service's alerts.
    #[serde(default)]
    pub audit_alerts: AuditAlertsConfig,
    /// Bounds of the audit outbox in identity and records.
    #[serde(default)]
    pub audit_outbox: AuditOutboxConfig,
    /// Data-quality checks of the records service.
    pub records_quality: RecordsQualityConfig,
    /// Rows after which one transaction of identity's bulk import takes no more waiting
    /// batches. Larger groups import faster; other writes of the register wait for the group
    /// being committed. 0 counts as 1 (every batch alone).
    #[serde(default = "default_import_group_rows")]
    pub import_group_rows: u32,
}

/// The audit service's verifiable log.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditLogConfig {
    /// Origin line of checkpoints, also the signing key's name (no spaces or `+`).
    pub origin: String,
    /// Days after which event bodies are archived (leaf hashes stay); 0 keeps them forever.
    pub retention_days: u32,
}

impl Default for AuditLogConfig {
    fn default() -> Self {
        Self {
            origin: "dancu.audit/log".to_owned(),
            retention_days: 0,
        }
    }
}

/// Thresholds of the audit service's alerts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditAlertsConfig {
    /// Alert when one officer reads more distinct people than this within an hour.
    pub max_subjects_per_hour: u32,
    /// Alert when one officer is denied this many times within `denial_window_secs`.
    pub denials_threshold: u32,
    /// Window of the repeated-denials rule, in seconds.
    pub denial_window_secs: u64,
    /// Start of working hours (local hour, 0–23).
    pub working_hours_start: u32,
    /// End of working hours (local hour, 1–24, exclusive).
    pub working_hours_end: u32,
    /// Offset of local time from UTC, in hours (Việt Nam: 7).
    pub utc_offset_hours: i32,
    /// Whether Saturdays and Sundays count as outside working hours.
    pub weekends_outside_hours: bool,
    /// Resource types that belong to the "suspicious signs" class.
    pub suspicious_resource_types: Vec<String>,
}

impl Default for AuditAlertsConfig {
    fn default() -> Self {
        Self {
            max_subjects_per_hour: 50,
            denials_threshold: 5,
            denial_window_secs: 600,
            working_hours_start: 7,
            working_hours_end: 19,
            utc_offset_hours: 7,
            weekends_outside_hours: true,
            suspicious_resource_types: vec!["subject_record/suspicious_signs".to_owned()],
        }
    }
}

/// Bounds of the audit outbox.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditOutboxConfig {
    /// Unshipped events after which audited calls fail with `UNAVAILABLE`.
    pub max_backlog: u64,
    /// Longest wait between the relay's retries while audit is failing, in milliseconds.
    pub relay_max_backoff_ms: u64,
}

impl Default for AuditOutboxConfig {
    fn default() -> Self {
        Self {
            max_backlog: 100_000,
            relay_max_backoff_ms: 30_000,
        }
    }
}

/// Data-quality checks of the records service (the scorecard's "live" period and the
/// re-validation job).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordsQualityConfig {
    /// Days within which a subject must have been updated to count as live.
    pub live_period_days: u32,
    /// Seconds between two runs of the job re-validating every subject against identity;
    /// 0 runs it only on request (`RevalidateSubjects`).
    pub revalidate_every_secs: u64,
}

impl Default for RecordsQualityConfig {
    fn default() -> Self {
        Self {
            live_period_days: 180,
            revalidate_every_secs: 86_400,
        }
    }
}

/// Settings of one service.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceConfig {
    /// Address the gRPC server listens on.
    pub listen: SocketAddr,
    /// URL other services use to reach this one.
    pub endpoint: String,
    /// Database URL; `sqlite://...` or `postgres://...`. Unset: SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// Maximum number of pooled database connections.
    pub db_max_connections: u32,
    /// Page cache of the SQLite writer connection, in MiB; pages are allocated as they are
    /// used. Identity runs its writes on one dedicated connection to its SQLite file
    /// (`dancu_kit::db::connect_sqlite_writer`); records and audit ignore this setting.
    pub db_writer_cache_mib: u32,
}

/// Log output format.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, with the trace id of the current call.
    Json,
    /// Human-readable lines, for development.
    Pretty,
}

/// Which of the three services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// The population register and login.
    Identity,
    /// Subject records.
    Records,
    /// The audit log.
    Audit,
}

impl ServiceKind {
    /// All three, in start order.
    pub const ALL: [ServiceKind; 3] = [Self::Audit, Self::Identity, Self::Records];

    /// Lower-case name, used for database files, audit events and span attributes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Records => "records",
            Self::Audit => "audit",
        }
    }
}

impl ServiceConfig {
    fn local(port: u16) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            endpoint: format!("http://127.0.0.1:{port}"),
            database_url: None,
            db_max_connections: 8,
            db_writer_cache_mib: 1024,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            identity: ServiceConfig::local(50051),
            records: ServiceConfig::local(50052),
            audit: ServiceConfig::local(50053),
            bootstrap_admin_password: None,
            service_secret: None,
            token_ttl_secs: 900,
            refresh_token_ttl_secs: default_refresh_ttl(),
            log_format: LogFormat::Json,
            log_level: "info".to_owned(),
            audit_log: AuditLogConfig::default(),
            audit_alerts: AuditAlertsConfig::default(),
            audit_outbox: AuditOutboxConfig::default(),
            records_quality: RecordsQualityConfig::default(),
            import_group_rows: default_import_group_rows(),
        }
    }
}

/// 65,536 rows: at 1,000,000 citizens on 2 cores, such a group commits in about 2 s on
/// SQLite (`docs/import.md`).
fn default_import_group_rows() -> u32 {
    65_536
}

/// Refresh tokens live twelve hours (a shift) by default.
fn default_refresh_ttl() -> u64 {
    12 * 3600
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer held a malformed or ill-typed value.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// The service secret file could not be read or written.
    #[error("service secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Config {
    /// Loads defaults, then `file` if given (it must exist) or `./dancu.toml` if present,
    /// then `DANCU_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("dancu.toml")),
        }
        figment = figment.merge(Env::prefixed("DANCU_").split("__"));
        figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// Settings of one service.
    pub fn service(&self, kind: ServiceKind) -> &ServiceConfig {
        match kind {
            ServiceKind::Identity => &self.identity,
            ServiceKind::Records => &self.records,
            ServiceKind::Audit => &self.audit,
        }
    }

    /// The database URL of a service: the configured one, or a SQLite file
    /// `<data_dir>/<service>.db`.
    pub fn database_url(&self, kind: ServiceKind) -> String {
        match &self.service(kind).database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join(format!("{}.db", kind.name()));
                format!("sqlite://{}?mode=rwc", path.display())
            }
        }
    }

    /// Fixes the service secret: the configured one, or the content of
    /// `<data_dir>/service-secret`, generated (mode 0600) if missing. Call once before
    /// starting services that share a data directory.
    pub fn resolve_service_secret(&mut self) -> Result<String, ConfigError> {
        if let Some(secret) = &self.service_secret {
            return Ok(secret.clone());
        }
        let path = self.data_dir.join("service-secret");
        let io = |source| ConfigError::SecretFile {
            path: path.clone(),
            source,
        };
        let secret = match std::fs::read_to_string(&path) {
            Ok(existing) => existing.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.data_dir).map_err(io)?;
                let secret = crate::random_secret();
                write_private_file(&path, &secret).map_err(io)?;
                secret
            }
            Err(e) => return Err(io(e)),
        };
        self.service_secret = Some(secret.clone());
        Ok(secret)
    }
}

/// Writes `content` to a new file readable only by its owner.
fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_documented_ports() {
        let config = Config::default();
        assert_eq!(config.identity.listen.port(), 50051);
        assert_eq!(config.records.listen.port(), 50052);
        assert_eq!(config.audit.listen.port(), 50053);
        assert!(
            config
                .database_url(ServiceKind::Records)
                .ends_with("records.db?mode=rwc")
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "token_ttl_secs = 60\n[audit]\nlisten = \"127.0.0.1:6000\"\n",
            )?;
            jail.set_env("DANCU_TOKEN_TTL_SECS", "120");
            jail.set_env("DANCU_IMPORT_GROUP_ROWS", "2000");
            jail.set_env("DANCU_RECORDS__DATABASE_URL", "postgres://db/records");
            let config = Config::load(Some(Path::new("custom.toml"))).expect("loads");
            assert_eq!(config.token_ttl_secs, 120, "env beats file");
            assert_eq!(config.audit.listen.port(), 6000, "file beats default");
            assert_eq!(config.import_group_rows, 2000);
            assert_eq!(
                config.database_url(ServiceKind::Records),
                "postgres://db/records"
            );
            Ok(())
        });
    }

    #[test]
    fn service_secret_is_generated_once_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut first = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let secret = first.resolve_service_secret().expect("generated");
        let mut second = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        assert_eq!(second.resolve_service_secret().expect("read back"), secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("service-secret"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
