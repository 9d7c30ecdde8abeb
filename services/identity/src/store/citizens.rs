//! Citizens of the population register.

use super::entity::citizen;
use super::{CitizenRow, IdentityStore, InsertError};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

impl IdentityStore {
    /// Adds a citizen through `conn` (a transaction, so the audit event commits with it).
    pub async fn insert_citizen<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CitizenRow,
    ) -> Result<(), InsertError> {
        citizen::Entity::insert(citizen::ActiveModel {
            personal_id: Set(row.personal_id),
            full_name: Set(row.full_name),
            name_key: Set(row.name_key),
            sex: Set(row.sex),
            birth_date: Set(row.birth_date),
            place_of_birth: Set(row.place_of_birth),
            created_by: Set(row.created_by),
            created_us: Set(row.created_us),
            version: Set(row.version),
        })
        .exec_without_returning(conn)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// The citizen with this personal ID.
    pub async fn citizen(&self, personal_id: &str) -> Result<Option<CitizenRow>, DbErr> {
        citizen::Entity::find_by_id(personal_id).one(&self.db).await
    }
}
