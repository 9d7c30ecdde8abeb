//! Queries of the verifiable log: appending events with their leaves (and the alerts they
//! raise) in one transaction, reading leaves and entries by index, archiving, alerts.

use super::append::PreparedAppend;
use super::entity::{alert, event, leaf, lookup};
use super::{AuditStore, NewEvent, StoredAlert, StoredEvent, StoredLeaf};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::collections::HashSet;

/// An event placed in the log: its leaf index and leaf hash.
#[derive(Clone, Debug)]
pub struct PlacedEvent {
    /// The event.
    pub event: NewEvent,
    /// Its leaf index.
    pub leaf_index: i64,
    /// Its leaf hash.
    pub leaf_hash: [u8; 32],
}

impl AuditStore {
    /// Which of `ids` are already stored.
    pub async fn existing_ids(&self, ids: &[String]) -> Result<HashSet<String>, DbErr> {
        super::append::existing_ids(self.db(), ids).await
    }

    /// Prepares placed events, their leaves and the alerts they raised for
    /// [`AuditStore::commit_append`], without touching the database.
    pub fn prepare_append(
        &self,
        events: Vec<PlacedEvent>,
        accept_time_us: i64,
        alerts: Vec<StoredAlert>,
    ) -> PreparedAppend {
        super::append::prepare(
            self.db().get_database_backend(),
            events,
            accept_time_us,
            alerts,
        )
    }

    /// Stores a prepared batch in one transaction.
    pub async fn commit_append(&self, prepared: PreparedAppend) -> Result<(), DbErr> {
        super::append::commit(self.db(), self.writer(), prepared).await
    }

    /// Every leaf hash, in leaf order.
    pub async fn all_leaves(&self) -> Result<Vec<StoredLeaf>, DbErr> {
        leaf::Entity::find()
            .order_by_asc(leaf::Column::LeafIndex)
            .all(self.db())
            .await
    }

    /// Events stored before the log existed (no leaf index), in acceptance order.
    pub async fn unplaced_events(&self) -> Result<Vec<StoredEvent>, DbErr> {
        event::Entity::find()
            .filter(event::Column::LeafIndex.is_null())
            .order_by_asc(event::Column::Seq)
            .all(self.db())
            .await
    }

    /// Places already-stored events into the log: sets their leaf index and stores their
    /// leaves, in one transaction.
    pub async fn place_existing(&self, placed: Vec<(i64, i64, [u8; 32])>) -> Result<(), DbErr> {
        let txn = self.db().begin().await?;
        for (seq, index, hash) in placed {
            event::Entity::update_many()
                .col_expr(
                    event::Column::LeafIndex,
                    sea_orm::sea_query::Expr::value(index),
                )
                .filter(event::Column::Seq.eq(seq))
                .exec(&txn)
                .await?;
            leaf::Entity::insert(leaf::ActiveModel {
                leaf_index: Set(index),
                leaf_hash: Set(hash.to_vec()),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await
    }

    /// Leaves `[start, end)`.
    pub async fn leaves(&self, start: i64, end: i64) -> Result<Vec<StoredLeaf>, DbErr> {
        leaf::Entity::find()
            .filter(leaf::Column::LeafIndex.gte(start))
            .filter(leaf::Column::LeafIndex.lt(end))
            .order_by_asc(leaf::Column::LeafIndex)
            .all(self.db())
            .await
    }

    /// Stored (not archived) events with leaf index in `[start, end)`.
    pub async fn events_by_leaf(&self, start: i64, end: i64) -> Result<Vec<StoredEvent>, DbErr> {
        event::Entity::find()
            .filter(event::Column::LeafIndex.gte(start))
            .filter(event::Column::LeafIndex.lt(end))
            .order_by_asc(event::Column::LeafIndex)
            .all(self.db())
            .await
    }

    /// The stored event with this id.
    pub async fn event_by_id(&self, event_id: &str) -> Result<Option<StoredEvent>, DbErr> {
        event::Entity::find()
            .filter(event::Column::EventId.eq(event_id))
            .one(self.db())
            .await
    }

    /// The latest (at most `limit`) events that occurred at or after `from_us`, oldest
    /// first (to warm the alert windows at start).
    pub async fn events_since(&self, from_us: i64, limit: u64) -> Result<Vec<StoredEvent>, DbErr> {
        let mut events = event::Entity::find()
            .filter(event::Column::OccurTimeUs.gte(from_us))
            .order_by_desc(event::Column::Seq)
            .limit(limit)
            .all(self.db())
            .await?;
        events.reverse();
        Ok(events)
    }

    /// Drops the bodies of events that occurred before `before_us`, with their lookup rows,
    /// in one transaction; their leaves stay.
    pub async fn archive_before(&self, before_us: i64) -> Result<u64, DbErr> {
        let expired = Condition::all()
            .add(event::Column::OccurTimeUs.lt(before_us))
            .add(event::Column::LeafIndex.is_not_null());
        let tx = self.db().begin().await?;
        lookup::Entity::delete_many()
            .filter(
                lookup::Column::Seq.in_subquery(
                    Query::select()
                        .column(event::Column::Seq)
                        .from(event::Entity)
                        .cond_where(expired.clone())
                        .to_owned(),
                ),
            )
            .exec(&tx)
            .await?;
        let archived = event::Entity::delete_many()
            .filter(expired)
            .exec(&tx)
            .await?
            .rows_affected;
        tx.commit().await?;
        Ok(archived)
    }

    /// Up to `limit` alerts after `after_id`, optionally of one kind, oldest first.
    pub async fn alerts(
        &self,
        kind: Option<&str>,
        after_id: i64,
        limit: u64,
    ) -> Result<Vec<StoredAlert>, DbErr> {
        let mut condition = Condition::all().add(alert::Column::AlertId.gt(after_id));
        if let Some(kind) = kind {
            condition = condition.add(alert::Column::Kind.eq(kind));
        }
        alert::Entity::find()
            .filter(condition)
            .order_by_asc(alert::Column::AlertId)
            .limit(limit)
            .all(self.db())
            .await
    }

    /// The highest alert id, 0 when there is none.
    pub async fn last_alert_id(&self) -> Result<i64, DbErr> {
        Ok(alert::Entity::find()
            .order_by_desc(alert::Column::AlertId)
            .one(self.db())
            .await?
            .map_or(0, |a| a.alert_id))
    }
}
