//! Identity cards and their events.

use super::entity_cards::{card, card_event};
use super::{CardEventRow, CardRow, IdentityStore, InsertError};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

impl IdentityStore {
    /// The card numbered `personal_id`, read through `conn`.
    pub async fn card<C: ConnectionTrait>(
        &self,
        conn: &C,
        personal_id: &str,
    ) -> Result<Option<CardRow>, DbErr> {
        card::Entity::find_by_id(personal_id).one(conn).await
    }

    /// Adds a card (the first for its holder).
    pub async fn insert_card<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CardRow,
    ) -> Result<(), InsertError> {
        card::Entity::insert(card::ActiveModel {
            personal_id: Set(row.personal_id),
            status: Set(row.status),
            issue_date: Set(row.issue_date),
            expire_date: Set(row.expire_date),
            updated_us: Set(row.updated_us),
            version: Set(row.version),
        })
        .exec_without_returning(conn)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// Replaces a card's state if it is still at `expected_version`; returns whether it
    /// was (false: someone changed it in between).
    pub async fn update_card<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CardRow,
        expected_version: i64,
    ) -> Result<bool, DbErr> {
        let result = card::Entity::update_many()
            .col_expr(card::Column::Status, row.status.into())
            .col_expr(card::Column::IssueDate, row.issue_date.into())
            .col_expr(card::Column::ExpireDate, row.expire_date.into())
            .col_expr(card::Column::UpdatedUs, row.updated_us.into())
            .col_expr(card::Column::Version, row.version.into())
            .filter(card::Column::PersonalId.eq(row.personal_id))
            .filter(card::Column::Version.eq(expected_version))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Appends a card event.
    pub async fn insert_card_event<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CardEventRow,
    ) -> Result<(), InsertError> {
        card_event::Entity::insert(card_event::ActiveModel {
            id: Set(row.id),
            personal_id: Set(row.personal_id),
            sequence: Set(row.sequence),
            kind: Set(row.kind),
            at_us: Set(row.at_us),
            actor_id: Set(row.actor_id),
            issue_date: Set(row.issue_date),
            expire_date: Set(row.expire_date),
            reason: Set(row.reason),
        })
        .exec_without_returning(conn)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// Every event of the card numbered `personal_id`, oldest first.
    pub async fn card_events(&self, personal_id: &str) -> Result<Vec<CardEventRow>, DbErr> {
        card_event::Entity::find()
            .filter(card_event::Column::PersonalId.eq(personal_id))
            .order_by_asc(card_event::Column::Sequence)
            .all(&self.db)
            .await
    }
}
