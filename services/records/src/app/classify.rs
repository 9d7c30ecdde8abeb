//! Classifications: several per subject, each with its period, legal basis, owning unit,
//! status and source. A class may not overlap itself in time, and a subject is under at
//! most one supervision regime at a time.

use super::RecordsError;
use super::model::{ClassStatus, NewClass, SubjectClass, class_from_row, class_to_row};
use super::subject_cases::{SERVICE, SubjectCases, touched};
use super::subjects::authorization;
use chrono::NaiveDate;
use dancu_audit_client::event::new_event_with;
use dancu_kit::call::CallContext;
use dancu_policy::Action;
use tonic::Code;

/// Why `new` contradicts `existing`, if it does.
pub fn contradiction(existing: &[SubjectClass], new: &NewClass) -> Option<(&'static str, String)> {
    for class in existing {
        if class.status == ClassStatus::Ended && class.end.is_none() {
            continue;
        }
        if !class.overlaps(new.start, new.end) {
            continue;
        }
        if class.classification == new.classification {
            return Some((
                "start_date",
                format!(
                    "overlaps classification {} of the same class (from {})",
                    class.id, class.start
                ),
            ));
        }
        if class.classification.is_supervision() && new.classification.is_supervision() {
            return Some((
                "classification",
                format!(
                    "contradicts classification {} ({}): a subject is under one supervision regime at a time",
                    class.id,
                    class.classification.code()
                ),
            ));
        }
    }
    None
}

impl SubjectCases {
    /// Adds a classification to a subject the caller may write, unless it overlaps or
    /// contradicts the subject's other classifications.
    pub async fn add_classification(
        &self,
        ctx: &CallContext,
        new: NewClass,
    ) -> Result<SubjectClass, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let (subject, decision) = self
            .authorized_subject(
                ctx,
                &new.subject_id,
                Action::CreateSubjectRecord,
                new.classification.code(),
            )
            .await?;
        let personal_id = Some(subject.personal_id.as_str()).filter(|p| !p.is_empty());
        let granted = authorization(ctx, &decision);
        let today = dancu_kit::convert::today_in_vietnam();
        let txn = self.store.begin().await?;
        let mut existing = Vec::new();
        for row in self
            .store
            .classifications_of(&txn, std::slice::from_ref(&subject.id))
            .await?
        {
            existing.push(class_from_row(row, today)?);
        }
        if let Some(violation) = contradiction(&existing, &new) {
            drop(txn);
            self.audit_decided(
                ctx,
                touched(personal_id, Some(&subject.id)),
                Code::InvalidArgument,
                &granted,
            )
            .await?;
            return Err(RecordsError::Invalid(vec![violation]));
        }
        let now = chrono::Utc::now().timestamp_micros();
        let class = SubjectClass {
            id: uuid::Uuid::now_v7().to_string(),
            subject_id: subject.id.clone(),
            classification: new.classification,
            start: new.start,
            end: new.end,
            legal_basis: new.legal_basis,
            owning_unit: ctx.principal.unit.clone(),
            status: if new.end.is_some_and(|end| end < today) {
                ClassStatus::Ended
            } else {
                ClassStatus::Active
            },
            source: new.source,
            created_by: ctx.principal.id.clone(),
            created_us: now,
        };
        let event = new_event_with(
            SERVICE,
            ctx,
            touched(personal_id, Some(&subject.id)),
            Code::Ok,
            &granted,
        );
        self.store
            .insert_classification(&txn, class_to_row(&class))
            .await?;
        self.store.touch_subject(&txn, &subject.id, now).await?;
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        Ok(class)
    }

    /// Ends an active classification on `end` (not before its start, not in the future).
    pub async fn end_classification(
        &self,
        ctx: &CallContext,
        id: &str,
        end: NaiveDate,
    ) -> Result<SubjectClass, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let Some(row) = self.store.classification(id).await? else {
            self.audit(ctx, None, Some(id), Code::NotFound).await?;
            return Err(RecordsError::Missing("classification"));
        };
        let today = dancu_kit::convert::today_in_vietnam();
        let class = class_from_row(row, today)?;
        let (subject, decision) = self
            .authorized_subject(
                ctx,
                &class.subject_id,
                Action::CreateSubjectRecord,
                class.classification.code(),
            )
            .await?;
        let personal_id = Some(subject.personal_id.as_str()).filter(|p| !p.is_empty());
        let granted = authorization(ctx, &decision);
        let violation = if class.status == ClassStatus::Ended {
            Some(("id", "the classification has already ended".to_owned()))
        } else if end < class.start {
            Some((
                "end_date",
                format!("must not be before the start date {}", class.start),
            ))
        } else if end > today {
            Some(("end_date", "must not be in the future".to_owned()))
        } else {
            None
        };
        if let Some(violation) = violation {
            self.audit_decided(
                ctx,
                touched(personal_id, Some(&subject.id)),
                Code::InvalidArgument,
                &granted,
            )
            .await?;
            return Err(RecordsError::Invalid(vec![violation]));
        }
        let now = chrono::Utc::now().timestamp_micros();
        let event = new_event_with(
            SERVICE,
            ctx,
            touched(personal_id, Some(&subject.id)),
            Code::Ok,
            &granted,
        );
        let txn = self.store.begin().await?;
        self.store
            .end_classification(&txn, id, &end.format(super::model::DATE).to_string())
            .await?;
        self.store.touch_subject(&txn, &subject.id, now).await?;
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        Ok(SubjectClass {
            end: Some(end),
            status: ClassStatus::Ended,
            ..class
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Classification, Source, SourceKind};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn source() -> Source {
        Source {
            kind: SourceKind::JudgmentEnforcement,
            reference: "1/QD".to_owned(),
            issuing_unit: "CAX-01001".to_owned(),
        }
    }

    fn held(class: Classification, start: NaiveDate, end: Option<NaiveDate>) -> SubjectClass {
        SubjectClass {
            id: "c1".to_owned(),
            subject_id: "s".to_owned(),
            classification: class,
            start,
            end,
            legal_basis: "x".to_owned(),
            owning_unit: "u".to_owned(),
            status: ClassStatus::Active,
            source: source(),
            created_by: "o".to_owned(),
            created_us: 0,
        }
    }

    fn new(class: Classification, start: NaiveDate, end: Option<NaiveDate>) -> NewClass {
        NewClass {
            subject_id: "s".to_owned(),
            classification: class,
            start,
            end,
            legal_basis: "x".to_owned(),
            source: source(),
        }
    }

    #[test]
    fn same_class_may_not_overlap_but_may_follow() {
        let existing = [held(
            Classification::Criminal,
            day(2024, 1, 1),
            Some(day(2024, 6, 30)),
        )];
        let overlapping = new(Classification::Criminal, day(2024, 6, 30), None);
        assert_eq!(
            contradiction(&existing, &overlapping).map(|v| v.0),
            Some("start_date")
        );
        let following = new(Classification::Criminal, day(2024, 7, 1), None);
        assert!(contradiction(&existing, &following).is_none());
        let other = new(Classification::DrugRelated, day(2024, 2, 1), None);
        assert!(contradiction(&existing, &other).is_none());
    }

    #[test]
    fn one_supervision_regime_at_a_time() {
        let existing = [held(
            Classification::PostRehabilitation,
            day(2024, 1, 1),
            None,
        )];
        let bail = new(Classification::Bail, day(2025, 1, 1), Some(day(2025, 2, 1)));
        assert_eq!(
            contradiction(&existing, &bail).map(|v| v.0),
            Some("classification")
        );
        let before = new(
            Classification::Probation,
            day(2023, 1, 1),
            Some(day(2023, 12, 31)),
        );
        assert!(contradiction(&existing, &before).is_none());
    }
}
