//! Citizens of the population register: records, history, searches and resident counts.

use super::entity_register::{citizen, citizen_history};
use super::{CitizenHistoryRow, CitizenRow, IdentityStore, InsertError};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};

/// What a citizen search matches on.
#[derive(Debug, Clone, Default)]
pub struct CitizenSearch {
    /// Name search key (exact).
    pub name_key: String,
    /// Year of birth.
    pub birth_year: Option<i32>,
    /// Province of current residence.
    pub province: Option<String>,
    /// Commune of current residence.
    pub commune: Option<String>,
}

/// Where a page of a citizen search continues: after the person with this year of birth
/// and personal ID (searches list people in that order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchAfter {
    /// Year of birth of the last person of the previous page.
    pub birth_year: i32,
    /// Personal ID of the last person of the previous page.
    pub personal_id: String,
}

/// Current residents of one commune.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct CommuneResidents {
    /// Commune code.
    pub commune: String,
    /// Province code.
    pub province: String,
    /// Number of residents.
    pub residents: i64,
}

/// Whether a temporary residence is in force on `today` (`YYYY-MM-DD`).
fn temporary_in_force(today: &str) -> Condition {
    Condition::all()
        .add(citizen::Column::TempCommune.ne(""))
        .add(citizen::Column::TempUntil.gte(today))
}

/// People whose current residence (temporary in force, else permanent) matches `column`
/// of the temporary residence and `fallback` of the permanent one equal to `code`.
fn currently_in(
    temp: citizen::Column,
    perm: citizen::Column,
    code: &str,
    today: &str,
) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(temp.eq(code))
                .add(citizen::Column::TempUntil.gte(today)),
        )
        .add(
            Condition::all()
                .add(perm.eq(code))
                .add(temporary_in_force(today).not()),
        )
}

impl IdentityStore {
    /// Adds a citizen through `conn` (a transaction, so the audit event commits with it).
    pub async fn insert_citizen<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CitizenRow,
    ) -> Result<(), InsertError> {
        let model: citizen::ActiveModel = row.into();
        citizen::Entity::insert(model.reset_all())
            .exec_without_returning(conn)
            .await
            .map_err(InsertError::classify)?;
        Ok(())
    }

    /// Replaces a citizen row if its stored version is still `expected_version`; false when
    /// the row changed (or vanished) meanwhile.
    pub async fn replace_citizen<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CitizenRow,
        expected_version: i64,
    ) -> Result<bool, DbErr> {
        let personal_id = row.personal_id.clone();
        let model: citizen::ActiveModel = row.into();
        let result = citizen::Entity::update_many()
            .set(model.reset_all())
            .filter(citizen::Column::PersonalId.eq(personal_id))
            .filter(citizen::Column::Version.eq(expected_version))
            .exec(conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The citizen with this personal ID.
    pub async fn citizen(&self, personal_id: &str) -> Result<Option<CitizenRow>, DbErr> {
        self.citizen_in(&self.db, personal_id).await
    }

    /// The citizen with this personal ID, read through `conn`.
    pub async fn citizen_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        personal_id: &str,
    ) -> Result<Option<CitizenRow>, DbErr> {
        citizen::Entity::find_by_id(personal_id).one(conn).await
    }

    /// The citizens among `personal_ids` that exist, read through `conn`.
    pub async fn citizens_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        personal_ids: &[String],
    ) -> Result<Vec<CitizenRow>, DbErr> {
        citizen::Entity::find()
            .filter(citizen::Column::PersonalId.is_in(personal_ids.iter().cloned()))
            .all(conn)
            .await
    }

    /// Appends a history entry.
    pub async fn insert_history<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: CitizenHistoryRow,
    ) -> Result<(), DbErr> {
        let mut model: citizen_history::ActiveModel = row.into();
        model = model.reset_all();
        model.id = sea_orm::ActiveValue::NotSet;
        citizen_history::Entity::insert(model)
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// History entries of one citizen with a version above `after_version`, oldest first.
    pub async fn history(
        &self,
        personal_id: &str,
        after_version: i64,
        limit: u64,
    ) -> Result<Vec<CitizenHistoryRow>, DbErr> {
        citizen_history::Entity::find()
            .filter(citizen_history::Column::PersonalId.eq(personal_id))
            .filter(citizen_history::Column::Version.gt(after_version))
            .order_by_asc(citizen_history::Column::Version)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// Citizens matching `search`, with a personal ID above `after`, by personal ID.
    pub async fn search_citizens(
        &self,
        search: &CitizenSearch,
        today: &str,
        after: Option<&SearchAfter>,
        limit: u64,
    ) -> Result<Vec<CitizenRow>, DbErr> {
        search_query(search, today, after, limit)
            .all(&self.db)
            .await
    }

    /// The database's query plan for [`Self::search_citizens`] (one line per plan step),
    /// for the benchmark report.
    pub async fn explain_search(
        &self,
        search: &CitizenSearch,
        today: &str,
    ) -> Result<Vec<String>, DbErr> {
        self.explain(search_query(search, today, None, 50)).await
    }

    /// The database's query plan for a lookup by personal ID.
    pub async fn explain_get(&self, personal_id: &str) -> Result<Vec<String>, DbErr> {
        self.explain(citizen::Entity::find_by_id(personal_id)).await
    }

    /// The database's query plans for [`Self::residents`] (its two halves).
    pub async fn explain_residents(
        &self,
        commune: &str,
        today: &str,
    ) -> Result<Vec<String>, DbErr> {
        let mut lines = Vec::new();
        for query in residents_queries(commune, today, "", 100) {
            lines.extend(self.explain(query).await?);
        }
        Ok(lines)
    }

    async fn explain(&self, query: Select<citizen::Entity>) -> Result<Vec<String>, DbErr> {
        let backend = self.db.get_database_backend();
        let statement = query.build(backend);
        let prefix = match backend {
            DatabaseBackend::Sqlite => "EXPLAIN QUERY PLAN ",
            _ => "EXPLAIN ",
        };
        let explain = Statement::from_sql_and_values(
            backend,
            format!("{prefix}{}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let rows = self.db.query_all_raw(explain).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let column = match backend {
                    DatabaseBackend::Sqlite => "detail",
                    _ => "QUERY PLAN",
                };
                row.try_get::<String>("", column).unwrap_or_default()
            })
            .collect())
    }

    /// Adds many citizens in one multi-row statement through `conn` (bulk loading).
    pub async fn insert_citizens<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<CitizenRow>,
    ) -> Result<(), InsertError> {
        if rows.is_empty() {
            return Ok(());
        }
        let models = rows.into_iter().map(|row| {
            let model: citizen::ActiveModel = row.into();
            model.reset_all()
        });
        citizen::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await
            .map_err(InsertError::classify)?;
        Ok(())
    }
}

/// The search of [`IdentityStore::search_citizens`]: one range of
/// `idx_citizens_name_year (name_key, birth_year, personal_id)`, read in index order, by
/// name or by name and year alike.
fn search_query(
    search: &CitizenSearch,
    today: &str,
    after: Option<&SearchAfter>,
    limit: u64,
) -> Select<citizen::Entity> {
    let mut query =
        citizen::Entity::find().filter(citizen::Column::NameKey.eq(search.name_key.as_str()));
    if let Some(year) = search.birth_year {
        query = query.filter(citizen::Column::BirthYear.eq(year));
        if let Some(after) = after {
            // The year is fixed: the page continues within it (a row value here would
            // make SQLite scan the later years too, and sort).
            query = query.filter(citizen::Column::PersonalId.gt(after.personal_id.as_str()));
        }
    } else if let Some(after) = after {
        // A row-value comparison, which both planners turn into a range of the index.
        query = query.filter(
            Expr::tuple([
                Expr::col(citizen::Column::BirthYear),
                Expr::col(citizen::Column::PersonalId),
            ])
            .gt(Expr::tuple([
                Expr::val(after.birth_year),
                Expr::val(after.personal_id.as_str()),
            ])),
        );
    }
    if let Some(province) = &search.province {
        query = query.filter(currently_in(
            citizen::Column::TempProvince,
            citizen::Column::PermProvince,
            province,
            today,
        ));
    }
    if let Some(commune) = &search.commune {
        query = query.filter(currently_in(
            citizen::Column::TempCommune,
            citizen::Column::PermCommune,
            commune,
            today,
        ));
    }
    query
        .order_by_asc(citizen::Column::BirthYear)
        .order_by_asc(citizen::Column::PersonalId)
        .limit(limit)
}

/// The two halves of [`IdentityStore::residents`]: people with a temporary residence in
/// force in `commune`, and people with permanent residence there and no temporary
/// residence in force. Each half is one range of its own index (`temp_commune` or
/// `perm_commune`, then `personal_id`), read in index order, so neither needs a sort and
/// neither planner is tempted to walk the primary key.
fn residents_queries(
    commune: &str,
    today: &str,
    after: &str,
    limit: u64,
) -> [Select<citizen::Entity>; 2] {
    let half = |condition: Condition, column: citizen::Column| {
        citizen::Entity::find()
            .filter(column.eq(commune))
            .filter(condition)
            .filter(citizen::Column::LifeStatus.ne("deceased"))
            .filter(citizen::Column::PersonalId.gt(after))
            .order_by_asc(column)
            .order_by_asc(citizen::Column::PersonalId)
            .limit(limit)
    };
    [
        half(
            Condition::all()
                .add(citizen::Column::TempUntil.gte(today))
                // The condition of the partial index `idx_citizens_temp_commune`, written
                // as in its definition so that both planners may use it.
                .add(Expr::cust("temp_commune <> ''")),
            citizen::Column::TempCommune,
        ),
        half(
            temporary_in_force(today).not(),
            citizen::Column::PermCommune,
        ),
    ]
}

impl IdentityStore {
    /// People not recorded as deceased who currently reside in `commune`, with a personal
    /// ID above `after`, by personal ID.
    pub async fn residents(
        &self,
        commune: &str,
        today: &str,
        after: &str,
        limit: u64,
    ) -> Result<Vec<CitizenRow>, DbErr> {
        let [temporary, permanent] = residents_queries(commune, today, after, limit);
        let mut rows = temporary.all(&self.db).await?;
        rows.extend(permanent.all(&self.db).await?);
        // The halves are disjoint; merged by personal ID, the first `limit` are the page.
        rows.sort_by(|a, b| a.personal_id.cmp(&b.personal_id));
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(rows)
    }

    /// Current residents (not recorded as deceased) per commune, optionally within one
    /// province, ordered by commune code.
    pub async fn count_residents(
        &self,
        province: Option<&str>,
        today: &str,
    ) -> Result<Vec<CommuneResidents>, DbErr> {
        let in_force = || {
            Expr::col(citizen::Column::TempCommune)
                .ne("")
                .and(Expr::col(citizen::Column::TempUntil).gte(today))
        };
        let commune = Expr::case(in_force(), Expr::col(citizen::Column::TempCommune))
            .finally(Expr::col(citizen::Column::PermCommune));
        let province_expr = Expr::case(in_force(), Expr::col(citizen::Column::TempProvince))
            .finally(Expr::col(citizen::Column::PermProvince));
        let mut inner = Query::select();
        inner
            .expr_as(commune, Alias::new("commune"))
            .expr_as(province_expr, Alias::new("province"))
            .from(citizen::Entity)
            .and_where(citizen::Column::LifeStatus.ne("deceased"));
        let mut outer = Query::select();
        outer
            .column(Alias::new("commune"))
            .column(Alias::new("province"))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("residents"))
            .from_subquery(inner, Alias::new("current"))
            .and_where(Expr::col(Alias::new("commune")).ne(""))
            .group_by_col(Alias::new("commune"))
            .group_by_col(Alias::new("province"))
            .order_by(Alias::new("commune"), sea_orm::Order::Asc);
        if let Some(province) = province {
            outer.and_where(Expr::col(Alias::new("province")).eq(province));
        }
        let statement = self.db.get_database_backend().build(&outer);
        CommuneResidents::find_by_statement(statement)
            .all(&self.db)
            .await
    }
}
