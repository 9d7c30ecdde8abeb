//! Bulk import of subjects: which natural keys are already taken, and one subject with its
//! classifications and timeline written through the caller's transaction.
//!
//! Subjects are unique by (person key, owning unit) through `idx_subjects_person_unit`; the
//! insert is `ON CONFLICT DO NOTHING` on both backends, so a subject created concurrently
//! (or repeated in a batch) is skipped without failing the transaction.

use super::entity::{classification, subject, timeline_entry};
use super::{ClassificationRow, RecordsStore, SubjectRow, TimelineEntryRow};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};
use std::collections::HashSet;

/// Person keys per `IN (…)` query.
const KEYS_PER_QUERY: usize = 500;

/// A subject to import with its facts.
#[derive(Debug, Clone)]
pub struct ImportedSubject {
    /// The subject row (its natural key: `person_key`, `owning_unit`).
    pub subject: SubjectRow,
    /// Its classifications.
    pub classifications: Vec<ClassificationRow>,
    /// Its timeline entries, in recording order.
    pub timeline: Vec<TimelineEntryRow>,
}

impl RecordsStore {
    /// The natural keys (person key, owning unit) of `keys` that are already subjects.
    pub async fn existing_subject_keys(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashSet<(String, String)>, DbErr> {
        let wanted: HashSet<&(String, String)> = keys.iter().collect();
        let mut people: Vec<&str> = keys.iter().map(|(person, _)| person.as_str()).collect();
        people.sort_unstable();
        people.dedup();
        let mut found = HashSet::new();
        for chunk in people.chunks(KEYS_PER_QUERY) {
            let rows: Vec<(String, String)> = subject::Entity::find()
                .select_only()
                .column(subject::Column::PersonKey)
                .column(subject::Column::OwningUnit)
                .filter(subject::Column::PersonKey.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            found.extend(rows.into_iter().filter(|key| wanted.contains(key)));
        }
        Ok(found)
    }

    /// Writes `imported` through `conn` (a transaction) unless its natural key is taken;
    /// returns whether it was written (with its classifications and timeline).
    pub async fn import_subject<C: ConnectionTrait>(
        &self,
        conn: &C,
        imported: ImportedSubject,
    ) -> Result<bool, DbErr> {
        let inserted = subject::Entity::insert(imported.subject.into_active_model())
            .on_conflict(
                OnConflict::columns([subject::Column::PersonKey, subject::Column::OwningUnit])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        if !imported.classifications.is_empty() {
            classification::Entity::insert_many(
                imported
                    .classifications
                    .into_iter()
                    .map(IntoActiveModel::into_active_model),
            )
            .exec_without_returning(conn)
            .await?;
        }
        if !imported.timeline.is_empty() {
            timeline_entry::Entity::insert_many(
                imported
                    .timeline
                    .into_iter()
                    .map(IntoActiveModel::into_active_model),
            )
            .exec_without_returning(conn)
            .await?;
        }
        Ok(true)
    }
}
