//! Store access for subjects, classifications, timelines, movement alerts and the feed
//! cursor.

use super::RecordsStore;
use super::entity::{classification, feed_cursor, movement_alert, subject, timeline_entry};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

pub use classification::Model as ClassificationRow;
pub use movement_alert::Model as MovementAlertRow;
pub use subject::Model as SubjectRow;
pub use timeline_entry::Model as TimelineEntryRow;

/// Name of identity's change feed in `feed_cursors`.
pub const IDENTITY_FEED: &str = "identity.changes";

/// Which subjects a list call may see and wants.
#[derive(Clone, Debug, Default)]
pub struct SubjectFilter {
    /// Only subjects owned inside this province (`None`: any).
    pub province: Option<String>,
    /// Only subjects whose owning area is this commune (`None`: any).
    pub area: Option<String>,
    /// Only subjects holding a classification of this code.
    pub classification: Option<String>,
    /// Only subjects holding a classification with this status (`active` / `ended`),
    /// evaluated on `today` (`YYYY-MM-DD`).
    pub status: Option<(String, String)>,
    /// Classification codes hidden from the caller: a subject is not listed because of a
    /// hidden class.
    pub hidden_classes: Vec<String>,
    /// Only subjects whose snapshot commune is this.
    pub commune: Option<String>,
    /// Only subjects of this owning unit.
    pub owning_unit: Option<String>,
}

impl RecordsStore {
    /// Adds a subject through `conn`.
    pub async fn insert_subject<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: SubjectRow,
    ) -> Result<(), DbErr> {
        subject::Entity::insert(row.into_active_model())
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// Whether any subject exists.
    pub async fn has_subjects(&self) -> Result<bool, DbErr> {
        Ok(subject::Entity::find().one(&self.db).await?.is_some())
    }

    /// The subject with this id.
    pub async fn subject<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
    ) -> Result<Option<SubjectRow>, DbErr> {
        subject::Entity::find_by_id(id).one(conn).await
    }

    /// The subject of `person_key` owned by `unit`, if any.
    pub async fn subject_of_person(
        &self,
        person_key: &str,
        unit: &str,
    ) -> Result<Option<SubjectRow>, DbErr> {
        subject::Entity::find()
            .filter(subject::Column::PersonKey.eq(person_key))
            .filter(subject::Column::OwningUnit.eq(unit))
            .one(&self.db)
            .await
    }

    /// All subjects of a citizen, in every unit.
    pub async fn subjects_of_citizen<C: ConnectionTrait>(
        &self,
        conn: &C,
        personal_id: &str,
    ) -> Result<Vec<SubjectRow>, DbErr> {
        subject::Entity::find()
            .filter(subject::Column::PersonalId.eq(personal_id))
            .filter(subject::Column::Kind.eq("citizen"))
            .order_by_asc(subject::Column::Id)
            .all(conn)
            .await
    }

    /// Saves a changed subject row through `conn`.
    pub async fn update_subject<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: SubjectRow,
    ) -> Result<(), DbErr> {
        let mut active = row.into_active_model();
        for column in [
            subject::Column::SnapshotFullName,
            subject::Column::SnapshotBirthDate,
            subject::Column::SnapshotCommune,
            subject::Column::SnapshotLifeStatus,
            subject::Column::SnapshotRefreshedUs,
            subject::Column::UpdatedUs,
        ] {
            active.reset(column);
        }
        subject::Entity::update(active).exec(conn).await?;
        Ok(())
    }

    /// Marks a subject changed at `now_us`.
    pub async fn touch_subject<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
        now_us: i64,
    ) -> Result<(), DbErr> {
        subject::Entity::update_many()
            .col_expr(subject::Column::UpdatedUs, Expr::value(now_us))
            .filter(subject::Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// One page of subjects matching `filter` after id `after`, in id (creation) order.
    pub async fn list_subjects(
        &self,
        filter: &SubjectFilter,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<SubjectRow>, DbErr> {
        let mut query = subject::Entity::find();
        if let Some(province) = &filter.province {
            query = query.filter(subject::Column::OwningProvince.eq(province.as_str()));
        }
        if let Some(area) = &filter.area {
            query = query.filter(subject::Column::OwningArea.eq(area.as_str()));
        }
        if let Some(commune) = &filter.commune {
            query = query.filter(subject::Column::SnapshotCommune.eq(commune.as_str()));
        }
        if let Some(unit) = &filter.owning_unit {
            query = query.filter(subject::Column::OwningUnit.eq(unit.as_str()));
        }
        if filter.classification.is_some() || filter.status.is_some() {
            let mut classes = Query::select();
            classes
                .column(classification::Column::SubjectId)
                .from(classification::Entity);
            if let Some(code) = &filter.classification {
                classes.and_where(classification::Column::Classification.eq(code.as_str()));
            }
            if !filter.hidden_classes.is_empty() {
                classes.and_where(
                    classification::Column::Classification
                        .is_not_in(filter.hidden_classes.iter().map(String::as_str)),
                );
            }
            if let Some((status, today)) = &filter.status {
                let in_force = Condition::all()
                    .add(classification::Column::Status.eq("active"))
                    .add(
                        Condition::any()
                            .add(classification::Column::EndDate.is_null())
                            .add(classification::Column::EndDate.gte(today.as_str())),
                    );
                classes.cond_where(if status == "active" {
                    in_force
                } else {
                    in_force.not()
                });
            }
            query = query.filter(subject::Column::Id.in_subquery(classes.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(subject::Column::Id.gt(after));
        }
        query
            .order_by_asc(subject::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// Adds a classification through `conn`.
    pub async fn insert_classification<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: ClassificationRow,
    ) -> Result<(), DbErr> {
        classification::Entity::insert(row.into_active_model())
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// The classification with this id.
    pub async fn classification(&self, id: &str) -> Result<Option<ClassificationRow>, DbErr> {
        classification::Entity::find_by_id(id).one(&self.db).await
    }

    /// Ends a classification through `conn`.
    pub async fn end_classification<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
        end_date: &str,
    ) -> Result<(), DbErr> {
        classification::Entity::update_many()
            .col_expr(classification::Column::EndDate, Expr::value(end_date))
            .col_expr(classification::Column::Status, Expr::value("ended"))
            .filter(classification::Column::Id.eq(id))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// The classifications of the subjects in `subject_ids`, oldest first.
    pub async fn classifications_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        subject_ids: &[String],
    ) -> Result<Vec<ClassificationRow>, DbErr> {
        if subject_ids.is_empty() {
            return Ok(Vec::new());
        }
        classification::Entity::find()
            .filter(classification::Column::SubjectId.is_in(subject_ids.iter().map(String::as_str)))
            .order_by_asc(classification::Column::Id)
            .all(conn)
            .await
    }

    /// Appends a timeline entry through `conn`.
    pub async fn insert_timeline_entry<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: TimelineEntryRow,
    ) -> Result<(), DbErr> {
        timeline_entry::Entity::insert(row.into_active_model())
            .exec_without_returning(conn)
            .await?;
        Ok(())
    }

    /// The timeline entry with this id.
    pub async fn timeline_entry(&self, id: &str) -> Result<Option<TimelineEntryRow>, DbErr> {
        timeline_entry::Entity::find_by_id(id).one(&self.db).await
    }

    /// One page of a subject's timeline after entry `after`, in recording order.
    pub async fn timeline(
        &self,
        subject_id: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<TimelineEntryRow>, DbErr> {
        let mut query =
            timeline_entry::Entity::find().filter(timeline_entry::Column::SubjectId.eq(subject_id));
        if let Some(after) = after {
            query = query.filter(timeline_entry::Column::Id.gt(after));
        }
        query
            .order_by_asc(timeline_entry::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// Adds a movement alert through `conn`, unless the same change already raised one
    /// for the subject. Returns whether it was added.
    pub async fn insert_alert<C: ConnectionTrait>(
        &self,
        conn: &C,
        row: MovementAlertRow,
    ) -> Result<bool, DbErr> {
        let inserted = movement_alert::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([
                    movement_alert::Column::SubjectId,
                    movement_alert::Column::FeedCursor,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        Ok(inserted > 0)
    }

    /// One page of the alerts of `unit` after alert `after`, oldest first.
    pub async fn alerts(
        &self,
        unit: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<MovementAlertRow>, DbErr> {
        let mut query =
            movement_alert::Entity::find().filter(movement_alert::Column::OwningUnit.eq(unit));
        if let Some(after) = after {
            query = query.filter(movement_alert::Column::Id.gt(after));
        }
        query
            .order_by_asc(movement_alert::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
    }

    /// The cursor of `feed`, empty when never advanced.
    pub async fn feed_cursor(&self, feed: &str) -> Result<String, DbErr> {
        Ok(feed_cursor::Entity::find_by_id(feed)
            .one(&self.db)
            .await?
            .map(|row| row.cursor)
            .unwrap_or_default())
    }

    /// Advances the cursor of `feed` through `conn` (the transaction holding what the
    /// change produced).
    pub async fn set_feed_cursor<C: ConnectionTrait>(
        &self,
        conn: &C,
        feed: &str,
        cursor: &str,
        now_us: i64,
    ) -> Result<(), DbErr> {
        feed_cursor::Entity::insert(feed_cursor::ActiveModel {
            feed: Set(feed.to_owned()),
            cursor: Set(cursor.to_owned()),
            updated_us: Set(now_us),
        })
        .on_conflict(
            OnConflict::column(feed_cursor::Column::Feed)
                .update_columns([feed_cursor::Column::Cursor, feed_cursor::Column::UpdatedUs])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
        Ok(())
    }
}

impl RecordsStore {
    /// Number of stored subjects, classifications and timeline entries (operators'
    /// check; tests use it to prove a failed call wrote nothing).
    pub async fn count_subject_facts(&self) -> Result<(u64, u64, u64), DbErr> {
        use sea_orm::PaginatorTrait;
        Ok((
            subject::Entity::find().count(&self.db).await?,
            classification::Entity::find().count(&self.db).await?,
            timeline_entry::Entity::find().count(&self.db).await?,
        ))
    }
}
