//! Residence events and the derived current residence kept on the citizen row.

use super::entity_register::{citizen, residence_event};
use super::{IdentityStore, ResidenceEventRow};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Which residence of a citizen an event replaces.
#[derive(Debug, Clone)]
pub enum ResidenceUpdate {
    /// New permanent residence.
    Permanent {
        /// Commune code.
        commune: String,
        /// Province code.
        province: String,
    },
    /// New temporary residence, in force until `until` (`YYYY-MM-DD`).
    Temporary {
        /// Commune code.
        commune: String,
        /// Province code.
        province: String,
        /// Last day.
        until: String,
    },
}

impl IdentityStore {
    /// Appends a residence event.
    pub async fn insert_residence_event<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: ResidenceEventRow,
    ) -> Result<(), DbErr> {
        let mut model: residence_event::ActiveModel = row.into();
        model = model.reset_all();
        model.seq = sea_orm::ActiveValue::NotSet;
        residence_event::Entity::insert(model)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// Updates the current residence kept on the citizen row.
    pub async fn set_residence<C: ConnectionTrait>(
        &self,
        conn: &C,
        personal_id: &str,
        update: ResidenceUpdate,
    ) -> Result<(), DbErr> {
        let query =
            citizen::Entity::update_many().filter(citizen::Column::PersonalId.eq(personal_id));
        let query = match update {
            ResidenceUpdate::Permanent { commune, province } => query
                .col_expr(citizen::Column::PermCommune, commune.into())
                .col_expr(citizen::Column::PermProvince, province.into()),
            ResidenceUpdate::Temporary {
                commune,
                province,
                until,
            } => query
                .col_expr(citizen::Column::TempCommune, commune.into())
                .col_expr(citizen::Column::TempProvince, province.into())
                .col_expr(citizen::Column::TempUntil, until.into()),
        };
        query.exec(conn).await?;
        Ok(())
    }

    /// Residence events of one person recorded after `after_seq`, oldest first.
    pub async fn residence_events(
        &self,
        personal_id: &str,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<ResidenceEventRow>, DbErr> {
        residence_event::Entity::find()
            .filter(residence_event::Column::PersonalId.eq(personal_id))
            .filter(residence_event::Column::Seq.gt(after_seq))
            .order_by_asc(residence_event::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await
    }
}
