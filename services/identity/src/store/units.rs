//! Police units.

use super::entity_access::unit;
use super::{IdentityStore, InsertError, UnitRow};
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, PaginatorTrait, QueryOrder};

impl IdentityStore {
    /// Adds a unit.
    pub async fn insert_unit(&self, row: UnitRow) -> Result<(), InsertError> {
        unit::Entity::insert(unit::ActiveModel {
            code: Set(row.code),
            name: Set(row.name),
            parent_code: Set(row.parent_code),
            area_code: Set(row.area_code),
            created_us: Set(row.created_us),
        })
        .exec_without_returning(&self.writer)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// Every unit, by code. The tree is small (the Ministry, 34 provinces, some 3,300
    /// communes), so callers walk it in memory.
    pub async fn units(&self) -> Result<Vec<UnitRow>, DbErr> {
        unit::Entity::find()
            .order_by_asc(unit::Column::Code)
            .all(&self.db)
            .await
    }

    /// How many units exist.
    pub async fn unit_count(&self) -> Result<u64, DbErr> {
        unit::Entity::find().count(&self.db).await
    }
}
