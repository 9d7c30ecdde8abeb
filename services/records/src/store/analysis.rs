//! Store queries behind the analysis: counts grouped by commune for hotspots, the subjects
//! of a unit for the scorecard, and the re-validation results. Counting happens in the
//! database (GROUP BY), so a hotspot report never loads subject rows.

use super::RecordsStore;
use super::entity::{classification, subject, timeline_entry};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, OnConflict, Query, SelectStatement,
};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

/// Where a hotspot query looks: subjects living in this commune, in communes of this
/// province, or anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every commune.
    Nation,
    /// Communes of a province (2-digit code).
    Province(String),
    /// One commune.
    Commune(String),
}

/// A count of rows grouped by commune and a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCount {
    /// Commune of residence of the subjects (empty when unknown).
    pub commune: String,
    /// The code grouped on (classification, or source kind), empty when not grouped.
    pub code: String,
    /// The day grouped on (`YYYY-MM-DD`), empty when not grouped.
    pub day: String,
    /// The count.
    pub count: u64,
}

/// The stored result of a subject's last re-validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationRow {
    /// The subject.
    pub subject_id: String,
    /// `match`, `mismatch` or `unknown_person`.
    pub verification: String,
    /// When it ran (Unix microseconds).
    pub checked_us: i64,
}

fn validations() -> Alias {
    Alias::new("subject_validations")
}

fn scoped(query: &mut SelectStatement, scope: &Scope) {
    match scope {
        Scope::Nation => {}
        Scope::Province(code) => {
            query.and_where(
                Expr::col((subject::Entity, subject::Column::SnapshotCommune))
                    .like(format!("{code}%")),
            );
        }
        Scope::Commune(code) => {
            query.and_where(
                Expr::col((subject::Entity, subject::Column::SnapshotCommune)).eq(code.as_str()),
            );
        }
    }
}

fn group_count(row: &QueryResult, code: bool, day: bool) -> Result<GroupCount, DbErr> {
    let count: i64 = row.try_get("", "n")?;
    Ok(GroupCount {
        commune: row.try_get("", "commune")?,
        code: if code {
            row.try_get("", "code")?
        } else {
            String::new()
        },
        day: if day {
            row.try_get("", "day")?
        } else {
            String::new()
        },
        count: u64::try_from(count).unwrap_or(0),
    })
}

impl RecordsStore {
    async fn grouped(
        &self,
        query: &SelectStatement,
        code: bool,
        day: bool,
    ) -> Result<Vec<GroupCount>, DbErr> {
        let backend = self.db.get_database_backend();
        self.db
            .query_all_raw(backend.build(query))
            .await?
            .iter()
            .map(|row| group_count(row, code, day))
            .collect()
    }

    /// Classifications in force on `day` (`YYYY-MM-DD`) in `scope`: distinct subjects per
    /// commune and classification when `by_class`, else distinct subjects per commune.
    pub async fn active_subjects(
        &self,
        scope: &Scope,
        day: &str,
        by_class: bool,
        hidden: &[String],
    ) -> Result<Vec<GroupCount>, DbErr> {
        let commune = Expr::col((subject::Entity, subject::Column::SnapshotCommune));
        let mut query = Query::select();
        query
            .expr_as(commune.clone(), Alias::new("commune"))
            .expr_as(
                Func::count_distinct(Expr::col((subject::Entity, subject::Column::Id))),
                Alias::new("n"),
            )
            .from(classification::Entity)
            .inner_join(
                subject::Entity,
                Expr::col((subject::Entity, subject::Column::Id))
                    .equals((classification::Entity, classification::Column::SubjectId)),
            )
            .and_where(
                Expr::col((classification::Entity, classification::Column::StartDate)).lte(day),
            )
            .and_where(
                Expr::col((classification::Entity, classification::Column::EndDate))
                    .is_null()
                    .or(
                        Expr::col((classification::Entity, classification::Column::EndDate))
                            .gte(day),
                    ),
            )
            .add_group_by([commune]);
        if !hidden.is_empty() {
            query.and_where(
                Expr::col((
                    classification::Entity,
                    classification::Column::Classification,
                ))
                .is_not_in(hidden.iter().map(String::as_str)),
            );
        }
        if by_class {
            let class = Expr::col((
                classification::Entity,
                classification::Column::Classification,
            ));
            query
                .expr_as(class.clone(), Alias::new("code"))
                .add_group_by([class]);
        }
        scoped(&mut query, scope);
        self.grouped(&query, by_class, false).await
    }

    /// New facts from `from` to `to` (inclusive, `YYYY-MM-DD`) in `scope`, counted per
    /// commune, source kind and day: classifications (except `hidden` ones) by their first
    /// day, and timeline entries by the day they occurred (corrections are not new facts).
    pub async fn new_facts(
        &self,
        scope: &Scope,
        from: &str,
        to: &str,
        hidden: &[String],
    ) -> Result<Vec<GroupCount>, DbErr> {
        let commune = Expr::col((subject::Entity, subject::Column::SnapshotCommune));
        let mut classes = Query::select();
        let source = Expr::col((classification::Entity, classification::Column::SourceKind));
        let start = Expr::col((classification::Entity, classification::Column::StartDate));
        classes
            .expr_as(commune.clone(), Alias::new("commune"))
            .expr_as(source.clone(), Alias::new("code"))
            .expr_as(start.clone(), Alias::new("day"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .from(classification::Entity)
            .inner_join(
                subject::Entity,
                Expr::col((subject::Entity, subject::Column::Id))
                    .equals((classification::Entity, classification::Column::SubjectId)),
            )
            .and_where(start.clone().gte(from))
            .and_where(start.clone().lte(to))
            .add_group_by([commune.clone(), source, start]);
        if !hidden.is_empty() {
            classes.and_where(
                Expr::col((
                    classification::Entity,
                    classification::Column::Classification,
                ))
                .is_not_in(hidden.iter().map(String::as_str)),
            );
        }
        scoped(&mut classes, scope);
        let mut entries = Query::select();
        let source = Expr::col((timeline_entry::Entity, timeline_entry::Column::SourceKind));
        let occurred = Expr::col((timeline_entry::Entity, timeline_entry::Column::OccurDate));
        entries
            .expr_as(commune.clone(), Alias::new("commune"))
            .expr_as(source.clone(), Alias::new("code"))
            .expr_as(occurred.clone(), Alias::new("day"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .from(timeline_entry::Entity)
            .inner_join(
                subject::Entity,
                Expr::col((subject::Entity, subject::Column::Id))
                    .equals((timeline_entry::Entity, timeline_entry::Column::SubjectId)),
            )
            .and_where(occurred.clone().gte(from))
            .and_where(occurred.clone().lte(to))
            .and_where(
                Expr::col((
                    timeline_entry::Entity,
                    timeline_entry::Column::CorrectsEntryId,
                ))
                .is_null(),
            )
            .add_group_by([commune, source, occurred]);
        scoped(&mut entries, scope);
        let mut counts = self.grouped(&classes, true, true).await?;
        counts.extend(self.grouped(&entries, true, true).await?);
        Ok(counts)
    }

    /// Up to `limit` subjects of any unit after id `after`, ordered by id (the
    /// re-validation job walks them page by page).
    pub async fn subjects_after(
        &self,
        after: &str,
        limit: u64,
    ) -> Result<Vec<super::SubjectRow>, DbErr> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        subject::Entity::find()
            .filter(subject::Column::Id.gt(after))
            .order_by_asc(subject::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// Every subject `unit` owns, ordered by id.
    pub async fn subjects_of_unit(&self, unit: &str) -> Result<Vec<super::SubjectRow>, DbErr> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        subject::Entity::find()
            .filter(subject::Column::OwningUnit.eq(unit))
            .order_by_asc(subject::Column::Id)
            .all(&self.db)
            .await
    }

    /// Per person key among `unit`'s subjects, how many other units keep that person too.
    pub async fn other_units_per_person(
        &self,
        unit: &str,
    ) -> Result<std::collections::HashMap<String, u64>, DbErr> {
        let key = Expr::col((subject::Entity, subject::Column::PersonKey));
        let mut own = Query::select();
        own.column(subject::Column::PersonKey)
            .from(subject::Entity)
            .and_where(Expr::col(subject::Column::OwningUnit).eq(unit));
        let mut query = Query::select();
        query
            .expr_as(key.clone(), Alias::new("person_key"))
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .from(subject::Entity)
            .and_where(key.clone().in_subquery(own))
            .and_where(Expr::col((subject::Entity, subject::Column::OwningUnit)).ne(unit))
            .add_group_by([key]);
        let backend = self.db.get_database_backend();
        let mut others = std::collections::HashMap::new();
        for row in self.db.query_all_raw(backend.build(&query)).await? {
            let count: i64 = row.try_get("", "n")?;
            others.insert(
                row.try_get("", "person_key")?,
                u64::try_from(count).unwrap_or(0),
            );
        }
        Ok(others)
    }

    /// The last re-validation of each of `unit`'s subjects that has one.
    pub async fn validations_of_unit(&self, unit: &str) -> Result<Vec<ValidationRow>, DbErr> {
        let mut own = Query::select();
        own.column(subject::Column::Id)
            .from(subject::Entity)
            .and_where(Expr::col(subject::Column::OwningUnit).eq(unit));
        let mut query = Query::select();
        query
            .columns([
                Alias::new("subject_id"),
                Alias::new("verification"),
                Alias::new("checked_us"),
            ])
            .from(validations())
            .and_where(Expr::col(Alias::new("subject_id")).in_subquery(own));
        let backend = self.db.get_database_backend();
        self.db
            .query_all_raw(backend.build(&query))
            .await?
            .iter()
            .map(|row| {
                Ok(ValidationRow {
                    subject_id: row.try_get("", "subject_id")?,
                    verification: row.try_get("", "verification")?,
                    checked_us: row.try_get("", "checked_us")?,
                })
            })
            .collect()
    }

    /// Records (replacing any earlier one) the re-validation of a subject.
    pub async fn save_validation(&self, row: &ValidationRow) -> Result<(), DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table(validations())
            .columns([
                Alias::new("subject_id"),
                Alias::new("verification"),
                Alias::new("checked_us"),
            ])
            .values_panic([
                row.subject_id.clone().into(),
                row.verification.clone().into(),
                row.checked_us.into(),
            ])
            .on_conflict(
                OnConflict::column(Alias::new("subject_id"))
                    .update_columns([Alias::new("verification"), Alias::new("checked_us")])
                    .to_owned(),
            );
        let backend = self.db.get_database_backend();
        self.db.execute_raw(backend.build(&insert)).await?;
        Ok(())
    }
}
