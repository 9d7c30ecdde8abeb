//! Households and their members.

use super::entity_register::{citizen, household, household_member};
use super::{HouseholdMemberRow, HouseholdRow, IdentityStore, InsertError};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

impl IdentityStore {
    /// Adds a household.
    pub async fn insert_household<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: HouseholdRow,
    ) -> Result<(), DbErr> {
        let model: household::ActiveModel = row.into();
        household::Entity::insert(model.reset_all())
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// The household with this id, read through `conn`.
    pub async fn household<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
    ) -> Result<Option<HouseholdRow>, DbErr> {
        household::Entity::find_by_id(id).one(conn).await
    }

    /// Members of a household, read through `conn`.
    pub async fn household_members<C: ConnectionTrait>(
        &self,
        conn: &C,
        household_id: &str,
    ) -> Result<Vec<HouseholdMemberRow>, DbErr> {
        household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.eq(household_id))
            .all(conn)
            .await
    }

    /// A person's membership, if any, read through `conn`.
    pub async fn membership<C: ConnectionTrait>(
        &self,
        conn: &C,
        personal_id: &str,
    ) -> Result<Option<HouseholdMemberRow>, DbErr> {
        household_member::Entity::find_by_id(personal_id)
            .one(conn)
            .await
    }

    /// Makes a person a member (removing any earlier membership) and records the
    /// household on the citizen row. A second head fails with `Duplicate`.
    pub async fn set_membership<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: HouseholdMemberRow,
    ) -> Result<(), InsertError> {
        household_member::Entity::delete_by_id(row.personal_id.as_str())
            .exec(conn)
            .await?;
        citizen::Entity::update_many()
            .col_expr(
                citizen::Column::HouseholdId,
                row.household_id.clone().into(),
            )
            .filter(citizen::Column::PersonalId.eq(row.personal_id.as_str()))
            .exec(conn)
            .await?;
        let model: household_member::ActiveModel = row.into();
        household_member::Entity::insert(model.reset_all())
            .exec_without_returning(conn)
            .await
            .map_err(InsertError::classify)?;
        Ok(())
    }
}
