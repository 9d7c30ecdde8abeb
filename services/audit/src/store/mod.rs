//! The audit service's own database: accepted events, the leaf hashes of the verifiable
//! log, alerts, and the service's secret settings. Nothing here knows about gRPC.

mod append;
mod entity;
mod log;
mod lookup;
mod migration;
mod migration_lookup;

pub use append::PreparedAppend;
pub use entity::alert::Model as StoredAlert;
pub use entity::event::Model as StoredEvent;
pub use entity::leaf::Model as StoredLeaf;
pub use log::PlacedEvent;
pub use migration::Migrator;

use entity::setting;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbBackend, DbErr, EntityTrait};
use std::sync::Arc;

/// A new event to store (the subject already hashed).
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// Sender-chosen unique id.
    pub event_id: String,
    /// When the audited call happened (Unix microseconds).
    pub occur_time_us: i64,
    /// Service that handled the call.
    pub service: String,
    /// Acting officer or service account.
    pub actor_id: String,
    /// The actor's unit.
    pub actor_unit: String,
    /// Full gRPC method.
    pub rpc: String,
    /// Type of resource touched.
    pub resource_type: String,
    /// Id of a non-person resource.
    pub resource_id: String,
    /// Keyed hash of the subject's personal ID, or empty.
    pub subject_hash: String,
    /// Declared purpose code.
    pub purpose: String,
    /// Case reference.
    pub case_reference: String,
    /// Outcome status code name.
    pub outcome: String,
    /// Trace id of the audited call.
    pub trace_id: String,
    /// Break-glass justification, or empty.
    pub break_glass: String,
    /// Authorization decision: `allow`, `deny` or empty.
    pub decision: String,
    /// Ids of the deciding policies.
    pub policy_ids: Vec<String>,
    /// The caller's network address.
    pub client_address: String,
}

/// Filters of a listing; `None` means any.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only this actor.
    pub actor_id: Option<String>,
    /// Only this subject hash.
    pub subject_hash: Option<String>,
    /// Only actors of this unit.
    pub actor_unit: Option<String>,
    /// Only this purpose code.
    pub purpose: Option<String>,
    /// Only events that occurred at or after (Unix microseconds).
    pub from_us: Option<i64>,
    /// Only events that occurred before (Unix microseconds).
    pub to_us: Option<i64>,
    /// Only events accepted after this sequence number (pagination cursor).
    pub after_seq: Option<i64>,
}

/// The audit store.
#[derive(Clone)]
pub struct AuditStore {
    db: DatabaseConnection,
    /// The dedicated append connection of a SQLite file (see `append.rs`).
    writer: Option<Arc<append::SqliteWriter>>,
}

impl AuditStore {
    /// Connects to `url` and runs pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let db = dancu_kit::db::open_migrated::<Migrator>(url, max_connections).await?;
        let writer = match db.get_database_backend() {
            DbBackend::Sqlite => append::SqliteWriter::open(url, db.get_sqlite_connection_pool())
                .await?
                .map(Arc::new),
            _ => None,
        };
        Ok(Self { db, writer })
    }

    /// The dedicated append connection, if any.
    fn writer(&self) -> Option<&append::SqliteWriter> {
        self.writer.as_deref()
    }

    /// The database connection (for the log's queries in `log.rs`).
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The value of a setting, if it exists.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, DbErr> {
        Ok(setting::Entity::find_by_id(name)
            .one(&self.db)
            .await?
            .map(|s| s.value))
    }

    /// The value of a setting, creating it with `init()` if it does not exist yet (the
    /// first writer wins when several start at once).
    pub async fn setting_or_init(
        &self,
        name: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, DbErr> {
        if let Some(found) = self.setting(name).await? {
            return Ok(found);
        }
        setting::Entity::insert(setting::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(init()),
        })
        .on_conflict(
            OnConflict::column(setting::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        self.setting(name)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("setting {name}")))
    }
}
