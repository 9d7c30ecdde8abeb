//! The deferred lookup index: which events have a given actor, subject, unit or purpose.
//!
//! Those four columns take values in random order (a keyed hash, one of hundreds of
//! officers), so indexing them on the event table made every append batch rewrite about one
//! page per event and index — half the writer's time per event. Instead, `audit_lookup`
//! (kind, key, seq) is filled behind the appends, in batches of many thousands of events
//! sorted by key ([`AuditStore::index_lookups`]): each page is rewritten once per batch
//! rather than once per event. A watermark (`audit_settings`, written in the same
//! transaction as the rows it covers) says up to which `seq` the table is complete.
//!
//! A listing by one of those columns reads the lookup rows up to the watermark, joined to
//! their events, then the events above the watermark directly (the tail not yet indexed,
//! found by `seq`). So a query sees every committed event, indexed or not.

use super::append::{PgPool, SqliteConnection, db_err, run_pooled};
use super::entity::{event, lookup};
use super::{AuditStore, EventFilter, StoredEvent};
use sea_orm::sqlx::{self, AssertSqlSafe, Connection};
use sea_orm::{
    ColumnTrait, Condition, DbBackend, DbErr, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};

/// The indexed event columns, with the `kind` stored for each. Migration 3 fills the table
/// from these: never renumber a kind.
pub(super) const LOOKUP_COLUMNS: [(i32, &str); 4] = [
    (1, "actor_id"),
    (2, "subject_hash"),
    (3, "actor_unit"),
    (4, "purpose"),
];

/// Name of the setting holding the highest `seq` the lookup table covers.
pub(super) const WATERMARK_SETTING: &str = "lookup_indexed_seq";

/// The lookup a listing can start from, most selective first: its kind and key.
fn lookup_of(filter: &EventFilter) -> Option<(i32, &str)> {
    let [actor, subject, unit, purpose] = LOOKUP_COLUMNS.map(|(kind, _)| kind);
    [
        (subject, &filter.subject_hash),
        (actor, &filter.actor_id),
        (unit, &filter.actor_unit),
        (purpose, &filter.purpose),
    ]
    .into_iter()
    .find_map(|(kind, key)| key.as_deref().map(|key| (kind, key)))
}

/// The filter's conditions on event columns, except the pagination cursor.
fn column_conditions(filter: &EventFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(actor) = &filter.actor_id {
        condition = condition.add(event::Column::ActorId.eq(actor.as_str()));
    }
    if let Some(subject) = &filter.subject_hash {
        condition = condition.add(event::Column::SubjectHash.eq(subject.as_str()));
    }
    if let Some(unit) = &filter.actor_unit {
        condition = condition.add(event::Column::ActorUnit.eq(unit.as_str()));
    }
    if let Some(purpose) = &filter.purpose {
        condition = condition.add(event::Column::Purpose.eq(purpose.as_str()));
    }
    if let Some(from) = filter.from_us {
        condition = condition.add(event::Column::OccurTimeUs.gte(from));
    }
    if let Some(to) = filter.to_us {
        condition = condition.add(event::Column::OccurTimeUs.lt(to));
    }
    condition
}

impl AuditStore {
    /// Up to `limit` events matching `filter`, in acceptance order.
    pub async fn list(&self, filter: &EventFilter, limit: u64) -> Result<Vec<StoredEvent>, DbErr> {
        let after = filter.after_seq.unwrap_or(0);
        let Some((kind, key)) = lookup_of(filter) else {
            return self
                .events_after(column_conditions(filter), after, limit)
                .await;
        };
        let watermark = self.lookup_watermark().await?;
        let mut events = Vec::new();
        if after < watermark {
            events = event::Entity::find()
                .join(JoinType::InnerJoin, lookup::Relation::Event.def().rev())
                .filter(lookup::Column::Kind.eq(kind))
                .filter(lookup::Column::LookupKey.eq(key))
                .filter(lookup::Column::Seq.gt(after))
                .filter(lookup::Column::Seq.lte(watermark))
                .filter(column_conditions(filter))
                .order_by_asc(lookup::Column::Seq)
                .limit(limit)
                .all(self.db())
                .await?;
        }
        let found = events.len() as u64;
        if found < limit {
            let tail = self
                .events_after(
                    column_conditions(filter),
                    after.max(watermark),
                    limit - found,
                )
                .await?;
            events.extend(tail);
        }
        Ok(events)
    }

    /// Up to `limit` events after `after` meeting `condition`, in acceptance order.
    async fn events_after(
        &self,
        condition: Condition,
        after: i64,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, DbErr> {
        event::Entity::find()
            .filter(condition.add(event::Column::Seq.gt(after)))
            .order_by_asc(event::Column::Seq)
            .limit(limit)
            .all(self.db())
            .await
    }

    /// The highest `seq` the lookup table covers.
    pub async fn lookup_watermark(&self) -> Result<i64, DbErr> {
        parse_watermark(self.setting(WATERMARK_SETTING).await?)
    }

    /// Adds the events after the watermark, at most `max_events` of them, to the lookup
    /// table, and moves the watermark, in one transaction. Returns how many events it
    /// covered (0: the table is complete). On SQLite it runs on the log's writer
    /// connection, between two appends.
    pub async fn index_lookups(&self, max_events: i64) -> Result<i64, DbErr> {
        let max_events = max_events.max(1);
        match self.db().get_database_backend() {
            DbBackend::Postgres => {
                index_postgres(self.db().get_postgres_connection_pool(), max_events).await
            }
            _ => match self.writer() {
                Some(writer) => {
                    writer
                        .run(async |conn| index_sqlite(conn, max_events).await)
                        .await
                }
                None => {
                    run_pooled(self.db().get_sqlite_connection_pool(), async |conn| {
                        index_sqlite(conn, max_events).await
                    })
                    .await
                }
            },
        }
    }
}

/// The stored watermark as a number (0 before the first indexing).
fn parse_watermark(stored: Option<String>) -> Result<i64, DbErr> {
    stored.map_or(Ok(0), |value| {
        value
            .parse()
            .map_err(|_| DbErr::Custom(format!("setting {WATERMARK_SETTING} is not a number")))
    })
}

/// Where an indexing run ends: after `from`, at most `max_events` further, and not past
/// the highest stored `seq`. `None` when there is nothing to index.
fn indexing_end(from: i64, highest_seq: i64, max_events: i64) -> Option<i64> {
    let to = highest_seq.min(from.saturating_add(max_events));
    (to > from).then_some(to)
}

/// The statement adding the events in `seq` range (first parameter, second parameter] with
/// a non-empty `column` to the lookup table, sorted by key. No row can conflict (the
/// watermark moves with the rows); ignoring conflicts lets SQLite skip the statement
/// journal. Only constants enter the text.
fn lookup_insert_sql(backend: DbBackend, kind: i32, column: &str) -> AssertSqlSafe<String> {
    let (verb, from, to, on_conflict) = match backend {
        DbBackend::Postgres => ("INSERT", "$1", "$2", " ON CONFLICT DO NOTHING"),
        _ => ("INSERT OR IGNORE", "?", "?", ""),
    };
    AssertSqlSafe(format!(
        "{verb} INTO audit_lookup (kind, lookup_key, seq) \
         SELECT {kind}, {column}, seq FROM audit_events \
         WHERE seq > {from} AND seq <= {to} AND {column} <> '' ORDER BY 2, 3{on_conflict}"
    ))
}

/// The statement moving the watermark (parameters: setting name, value).
fn watermark_upsert_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "INSERT INTO audit_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        }
        _ => {
            "INSERT INTO audit_settings (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        }
    }
}

/// In the open transaction `$tx` of `$backend`: inserts the lookup rows of the events
/// above `$from` up to `$to`, moves the watermark to `$to`, commits, and evaluates to the
/// number of events indexed. A macro, not a function: the SQLite and PostgreSQL
/// transactions are different sqlx types, and a function generic over both would need more
/// trait bounds than these lines.
macro_rules! index_and_commit {
    ($tx:ident, $backend:expr, $from:expr, $to:expr) => {{
        for (kind, column) in LOOKUP_COLUMNS {
            sqlx::query(lookup_insert_sql($backend, kind, column))
                .bind($from)
                .bind($to)
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query(watermark_upsert_sql($backend))
            .bind(WATERMARK_SETTING)
            .bind($to.to_string())
            .execute(&mut *$tx)
            .await
            .map_err(db_err)?;
        $tx.commit().await.map_err(db_err)?;
        Ok($to - $from)
    }};
}

/// [`AuditStore::index_lookups`] on a SQLite connection (on a file: the writer, so no
/// append runs meanwhile).
async fn index_sqlite(conn: &mut SqliteConnection, max_events: i64) -> Result<i64, DbErr> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    let (stored, highest): (Option<String>, i64) = sqlx::query_as(
        "SELECT (SELECT value FROM audit_settings WHERE name = ?), \
         COALESCE((SELECT MAX(seq) FROM audit_events), 0)",
    )
    .bind(WATERMARK_SETTING)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    let from = parse_watermark(stored)?;
    let Some(to) = indexing_end(from, highest, max_events) else {
        return Ok(0);
    };
    index_and_commit!(tx, DbBackend::Sqlite, from, to)
}

/// [`AuditStore::index_lookups`] on PostgreSQL. Appends commit one at a time in `seq`
/// order (the log's committer lock), so no event at or below the highest committed `seq`
/// can still appear. The watermark's row lock serialises indexers (a second instance on
/// the same database).
async fn index_postgres(pool: &PgPool, max_events: i64) -> Result<i64, DbErr> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    let stored: Option<(String,)> =
        sqlx::query_as("SELECT value FROM audit_settings WHERE name = $1 FOR UPDATE")
            .bind(WATERMARK_SETTING)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    let from = parse_watermark(stored.map(|(value,)| value))?;
    let (highest,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit_events")
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    let Some(to) = indexing_end(from, highest, max_events) else {
        return Ok(0);
    };
    index_and_commit!(tx, DbBackend::Postgres, from, to)
}
