//! Foreign nationals and accommodation declarations.

use super::entity_foreigners::{declaration, foreigner};
use super::{DeclarationRow, ForeignerRow, IdentityStore, InsertError};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Filters of a foreigner listing.
#[derive(Debug, Default, Clone)]
pub struct ForeignerFilter {
    /// Only this nationality.
    pub nationality: Option<String>,
    /// Only this passport number.
    pub passport_number: Option<String>,
    /// Only ids after this one (the previous page's last id).
    pub after_id: Option<String>,
}

impl IdentityStore {
    /// Adds a foreigner; [`InsertError::Duplicate`] if the nationality and passport
    /// number are taken.
    pub async fn insert_foreigner<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: ForeignerRow,
    ) -> Result<(), InsertError> {
        foreigner::Entity::insert(foreigner::ActiveModel {
            id: Set(row.id),
            nationality: Set(row.nationality),
            passport_number: Set(row.passport_number),
            full_name: Set(row.full_name),
            name_key: Set(row.name_key),
            sex: Set(row.sex),
            birth_date: Set(row.birth_date),
            document_kind: Set(row.document_kind),
            document_number: Set(row.document_number),
            document_valid_from: Set(row.document_valid_from),
            document_valid_until: Set(row.document_valid_until),
            created_by: Set(row.created_by),
            created_us: Set(row.created_us),
            version: Set(row.version),
        })
        .exec_without_returning(conn)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// The foreigner with this id, read through `conn`.
    pub async fn foreigner<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
    ) -> Result<Option<ForeignerRow>, DbErr> {
        foreigner::Entity::find_by_id(id).one(conn).await
    }

    /// At most `limit` foreigners matching `filter`, in id (registration) order.
    pub async fn list_foreigners(
        &self,
        filter: ForeignerFilter,
        limit: u64,
    ) -> Result<Vec<ForeignerRow>, DbErr> {
        let mut query = foreigner::Entity::find();
        if let Some(nationality) = filter.nationality {
            query = query.filter(foreigner::Column::Nationality.eq(nationality));
        }
        if let Some(passport) = filter.passport_number {
            query = query.filter(foreigner::Column::PassportNumber.eq(passport));
        }
        if let Some(after) = filter.after_id {
            query = query.filter(foreigner::Column::Id.gt(after));
        }
        query
            .order_by_asc(foreigner::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// The foreigners with these ids (in no particular order).
    pub async fn foreigners_by_ids(&self, ids: Vec<String>) -> Result<Vec<ForeignerRow>, DbErr> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        foreigner::Entity::find()
            .filter(foreigner::Column::Id.is_in(ids))
            .all(&self.db)
            .await
    }

    /// Adds an accommodation declaration.
    pub async fn insert_declaration<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: DeclarationRow,
    ) -> Result<(), InsertError> {
        declaration::Entity::insert(declaration::ActiveModel {
            id: Set(row.id),
            foreigner_id: Set(row.foreigner_id),
            host_name: Set(row.host_name),
            commune_code: Set(row.commune_code),
            address: Set(row.address),
            arrival_us: Set(row.arrival_us),
            planned_departure_us: Set(row.planned_departure_us),
            end_us: Set(row.end_us),
            remote_area: Set(row.remote_area),
            received_us: Set(row.received_us),
            late: Set(row.late),
            checked_out_us: Set(row.checked_out_us),
            declared_by: Set(row.declared_by),
        })
        .exec_without_returning(conn)
        .await
        .map_err(InsertError::classify)?;
        Ok(())
    }

    /// The declaration with this id, read through `conn`.
    pub async fn declaration<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
    ) -> Result<Option<DeclarationRow>, DbErr> {
        declaration::Entity::find_by_id(id).one(conn).await
    }

    /// Records a check-out at `at_us` if the declaration is not checked out yet; returns
    /// whether it was not (false: checked out in between).
    pub async fn check_out<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
        at_us: i64,
    ) -> Result<bool, DbErr> {
        let result = declaration::Entity::update_many()
            .col_expr(declaration::Column::CheckedOutUs, Some(at_us).into())
            .col_expr(declaration::Column::EndUs, at_us.into())
            .filter(declaration::Column::Id.eq(id))
            .filter(declaration::Column::CheckedOutUs.is_null())
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// At most `limit` declarations in `commune_code` covering the instant `now_us`
    /// (arrival ≤ now < end), in id order, after `after_id`.
    pub async fn current_stays(
        &self,
        commune_code: &str,
        now_us: i64,
        after_id: Option<String>,
        limit: u64,
    ) -> Result<Vec<DeclarationRow>, DbErr> {
        let mut query = declaration::Entity::find()
            .filter(declaration::Column::CommuneCode.eq(commune_code))
            .filter(declaration::Column::ArrivalUs.lte(now_us))
            .filter(declaration::Column::EndUs.gt(now_us));
        if let Some(after) = after_id {
            query = query.filter(declaration::Column::Id.gt(after));
        }
        query
            .order_by_asc(declaration::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }
}
