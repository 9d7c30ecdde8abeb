//! Timelines: append-only facts about a subject; a correction is a new entry naming the
//! entry it corrects.

use super::RecordsError;
use super::model::{DATE, Entry, NewEntry, entry_from_row};
use super::subject_cases::{Page, SERVICE, SubjectCases, touched};
use super::subjects::authorization;
use crate::store::TimelineEntryRow;
use dancu_audit_client::event::new_event_with;
use dancu_kit::call::CallContext;
use dancu_policy::Action;
use tonic::Code;

impl SubjectCases {
    /// Appends an entry to the timeline of a subject the caller may write.
    pub async fn append_entry(
        &self,
        ctx: &CallContext,
        new: NewEntry,
    ) -> Result<Entry, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let (subject, decision) = self
            .authorized_subject(ctx, &new.subject_id, Action::CreateSubjectRecord, "")
            .await?;
        let personal_id = Some(subject.personal_id.as_str()).filter(|p| !p.is_empty());
        let granted = authorization(ctx, &decision);
        if let Some(corrected) = &new.corrects {
            let belongs = self
                .store
                .timeline_entry(corrected)
                .await?
                .is_some_and(|entry| entry.subject_id == subject.id);
            if !belongs {
                self.audit_decided(
                    ctx,
                    touched(personal_id, Some(&subject.id)),
                    Code::InvalidArgument,
                    &granted,
                )
                .await?;
                return Err(RecordsError::Invalid(vec![(
                    "corrects_entry_id",
                    "names no entry of this subject's timeline".to_owned(),
                )]));
            }
        }
        let now = chrono::Utc::now().timestamp_micros();
        let entry = Entry {
            id: uuid::Uuid::now_v7().to_string(),
            entry: new,
            created_by: ctx.principal.id.clone(),
            created_us: now,
        };
        let row = TimelineEntryRow {
            id: entry.id.clone(),
            subject_id: subject.id.clone(),
            kind: entry.entry.kind.code().to_owned(),
            occur_date: entry.entry.occurred.format(DATE).to_string(),
            summary: entry.entry.summary.clone(),
            source_kind: entry.entry.source.kind.code().to_owned(),
            source_reference: entry.entry.source.reference.clone(),
            source_issuing_unit: entry.entry.source.issuing_unit.clone(),
            corrects_entry_id: entry.entry.corrects.clone(),
            created_by: entry.created_by.clone(),
            created_us: now,
        };
        let event = new_event_with(
            SERVICE,
            ctx,
            touched(personal_id, Some(&subject.id)),
            Code::Ok,
            &granted,
        );
        let txn = self.store.begin().await?;
        self.store.insert_timeline_entry(&txn, row).await?;
        self.store.touch_subject(&txn, &subject.id, now).await?;
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        Ok(entry)
    }

    /// One page of a subject's timeline, in recording order.
    pub async fn timeline(
        &self,
        ctx: &CallContext,
        subject_id: &str,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Page<Entry>, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let (subject, decision) = self
            .authorized_subject(ctx, subject_id, Action::ReadSubjectRecord, "")
            .await?;
        let rows = self.store.timeline(subject_id, after, limit).await?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        let items = rows
            .into_iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.audit_decided(
            ctx,
            touched(
                Some(subject.personal_id.as_str()).filter(|p| !p.is_empty()),
                Some(subject_id),
            ),
            Code::Ok,
            &authorization(ctx, &decision),
        )
        .await?;
        Ok(Page { items, next })
    }
}
