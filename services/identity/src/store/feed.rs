//! The change feed: one row per register change, numbered in commit order.

use super::entity_register::change_event;
use super::{ChangeRow, IdentityStore};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

/// Advisory-lock key that serialises feed appends on PostgreSQL ("dancu feed").
pub(super) const FEED_LOCK_KEY: i64 = 0x6461_6e63_7566_6565;

impl IdentityStore {
    /// Appends a change inside the caller's transaction `txn`.
    ///
    /// Readers resume after the highest sequence number they saw, so numbers must become
    /// visible in order. SQLite has one writer at a time, so they do; on PostgreSQL two
    /// transactions could commit out of order, so appends take a transaction-scoped
    /// advisory lock, which holds until commit and serialises appenders.
    pub async fn append_change<C: ConnectionTrait>(
        &self,
        txn: &C,
        row: ChangeRow,
    ) -> Result<(), DbErr> {
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({FEED_LOCK_KEY})"))
                .await?;
        }
        let mut model: change_event::ActiveModel = row.into();
        model = model.reset_all();
        model.seq = sea_orm::ActiveValue::NotSet;
        change_event::Entity::insert(model)
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }

    /// Changes after `after_seq`, in order.
    pub async fn changes_after(&self, after_seq: i64, limit: u64) -> Result<Vec<ChangeRow>, DbErr> {
        change_event::Entity::find()
            .filter(change_event::Column::Seq.gt(after_seq))
            .order_by_asc(change_event::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await
    }
}
