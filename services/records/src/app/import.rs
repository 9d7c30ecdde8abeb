//! Bulk import of subjects: who may import, checking each row against the subject rules
//! and identity, and committing a batch — its subjects, their classifications and
//! timelines, and one audit event — in one transaction.
//!
//! Each person is verified with identity as `CreateSubject` does, but as records' own
//! service account (purpose `identity_verification`): an importer declares no purpose and
//! may not read people, and identity audits every lookup under the service account. Rows
//! whose subject already exists are skipped before any lookup, so re-running an import asks
//! identity nothing.

use super::classify::contradiction;
use super::identity::{Asker, PersonSnapshot};
use super::model::{
    ClassStatus, DATE, NewClass, PersonRef, SubjectClass, TimelineKind, class_to_row,
};
use super::subject_cases::SERVICE;
use super::subjects::{actor, authorization};
use super::{Classification, IdentityDirectory, RecordsError, Source};
use crate::store::{ImportedSubject, RecordsStore, SubjectRow, TimelineEntryRow};
use chrono::NaiveDate;
use dancu_audit_client::event::{Authorization, Touched, new_event_with};
use dancu_audit_client::{AuditOutbox, TokenSource};
use dancu_domain::{AreaTable, PersonalId};
use dancu_kit::call::CallContext;
use dancu_policy::{AccessRequest, Action, Authorizer, Resource};
use std::sync::Arc;
use tonic::Code;

/// Resource type of the audit event of a committed batch (and of a refused import).
pub const IMPORT_RESOURCE: &str = "subject_import";
/// Identity lookups in flight at once.
const LOOKUPS_IN_FLIGHT: usize = 16;

/// One classification of a row, as decoded from the wire.
#[derive(Debug, Clone)]
pub struct ImportClass {
    /// The class.
    pub classification: Classification,
    /// First day in force.
    pub start: NaiveDate,
    /// Last day in force, if any.
    pub end: Option<NaiveDate>,
    /// Legal basis.
    pub legal_basis: String,
    /// Source.
    pub source: Source,
}

/// One timeline entry of a row, as decoded from the wire.
#[derive(Debug, Clone)]
pub struct ImportEntry {
    /// Kind of event.
    pub kind: TimelineKind,
    /// Day of the event.
    pub occurred: NaiveDate,
    /// What happened.
    pub summary: String,
    /// Source.
    pub source: Source,
}

/// A decoded, valid subject row waiting for its batch.
#[derive(Debug, Clone)]
pub struct SubjectCandidate {
    /// Line number in the caller's file.
    pub line: u64,
    /// The citizen.
    pub personal_id: PersonalId,
    /// Owning unit code.
    pub owning_unit: String,
    /// Where the decision to manage the person came from.
    pub source: Source,
    /// Classifications.
    pub classes: Vec<ImportClass>,
    /// Timeline, oldest first.
    pub timeline: Vec<ImportEntry>,
}

pub use dancu_kit::import_stream::{BatchOutcome, RowError};

/// Where an owning unit sits: its area code (commune or province) and province code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitArea {
    /// Area code deciding who may read the unit's subjects.
    pub area: String,
    /// Province code.
    pub province: String,
}

/// The area of a provincial (`CAT-<province>`) or commune (`CAX-<commune>`) police unit,
/// as identity seeds its unit tree from the area table; `None` for any other code.
pub fn unit_area(code: &str, areas: &AreaTable) -> Option<UnitArea> {
    if let Some(province) = code.strip_prefix("CAT-") {
        let province = areas.province(province)?;
        return Some(UnitArea {
            area: province.code.clone(),
            province: province.code.clone(),
        });
    }
    let commune = areas.commune(code.strip_prefix("CAX-")?)?;
    Some(UnitArea {
        area: commune.code.clone(),
        province: commune.province_code.clone(),
    })
}

/// The import use case.
pub struct SubjectImporter {
    store: RecordsStore,
    identity: IdentityDirectory,
    outbox: Arc<AuditOutbox>,
    policy: Arc<Authorizer>,
    tokens: Arc<dyn TokenSource>,
}

impl SubjectImporter {
    /// Imports into `store`, verifying people with `identity` as the service account behind
    /// `tokens`, auditing through `outbox`, deciding with `policy`.
    pub fn new(
        store: RecordsStore,
        identity: IdentityDirectory,
        outbox: Arc<AuditOutbox>,
        policy: Arc<Authorizer>,
        tokens: Arc<dyn TokenSource>,
    ) -> Self {
        Self {
            store,
            identity,
            outbox,
            policy,
            tokens,
        }
    }

    /// The policy decision on the caller importing subjects, as recorded in audit events;
    /// a refusal is audited and returned as `Denied`.
    pub async fn authorize(&self, ctx: &CallContext) -> Result<Authorization, RecordsError> {
        let decision = self.policy.authorize(&AccessRequest {
            actor: actor(ctx),
            action: Action::ImportSubjects,
            // Records does not hold identity's unit tree: the caller's unit stands alone.
            resource: Resource::Unit {
                path: vec![ctx.principal.unit.clone()],
            },
            purpose: None,
            case_reference: None,
            break_glass_justification: None,
        })?;
        let granted = authorization(ctx, &decision);
        if decision.allowed {
            return Ok(granted);
        }
        self.outbox
            .record(new_event_with(
                SERVICE,
                ctx,
                touched(None),
                Code::PermissionDenied,
                &granted,
            ))
            .await?;
        Err(RecordsError::Denied)
    }

    /// Records the failure of an import stream (e.g. a malformed stream) with `outcome`.
    pub async fn audit_failure(
        &self,
        ctx: &CallContext,
        granted: &Authorization,
        outcome: Code,
    ) -> Result<(), RecordsError> {
        self.outbox
            .record(new_event_with(
                SERVICE,
                ctx,
                touched(None),
                outcome,
                granted,
            ))
            .await?;
        Ok(())
    }

    /// Commits one batch: the `candidates` whose classifications agree, whose person is not
    /// yet a subject of the owning unit and whom identity knows are imported; `rejected`
    /// (rows the caller could not decode) are reported with the others. One audit event
    /// (resource id `<import_id>:<first line>-<last line>`) records the batch in the same
    /// transaction. Identity, storage or audit failing fails the whole batch.
    pub async fn commit_batch(
        &self,
        ctx: &CallContext,
        granted: &Authorization,
        import_id: &str,
        lines: (u64, u64),
        candidates: Vec<SubjectCandidate>,
        mut rejected: Vec<RowError>,
    ) -> Result<BatchOutcome, RecordsError> {
        let today = dancu_kit::convert::today_in_vietnam();
        let mut valid = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            match check_classes(&candidate, today) {
                Ok(()) => valid.push(candidate),
                Err((field, reason)) => rejected.push(RowError {
                    line: candidate.line,
                    field,
                    reason,
                }),
            }
        }
        let keys: Vec<(String, String)> = valid
            .iter()
            .map(|c| {
                (
                    PersonRef::Citizen(c.personal_id.clone()).key(),
                    c.owning_unit.clone(),
                )
            })
            .collect();
        let mut taken = self.store.existing_subject_keys(&keys).await?;
        let mut skipped = 0u32;
        let mut fresh = Vec::with_capacity(valid.len());
        for (candidate, key) in valid.into_iter().zip(keys) {
            // A key repeated in the batch is new only the first time.
            if taken.contains(&key) {
                skipped += 1;
            } else {
                taken.insert(key);
                fresh.push(candidate);
            }
        }
        let snapshots = self.look_up(&fresh).await?;
        let now = chrono::Utc::now().timestamp_micros();
        let mut subjects = Vec::with_capacity(fresh.len());
        for (candidate, snapshot) in fresh.into_iter().zip(snapshots) {
            match snapshot {
                Some(snapshot) => subjects.push(imported(ctx, candidate, snapshot, today, now)),
                None => rejected.push(RowError {
                    line: candidate.line,
                    field: "personal_id".to_owned(),
                    reason: "is not in the population register".to_owned(),
                }),
            }
        }
        let resource_id = format!("{import_id}:{}-{}", lines.0, lines.1);
        let event = new_event_with(SERVICE, ctx, touched(Some(&resource_id)), Code::Ok, granted);
        let txn = self.store.begin().await?;
        let mut imported_count = 0u32;
        for subject in subjects {
            if self.store.import_subject(&txn, subject).await? {
                imported_count += 1;
            } else {
                // Created concurrently since the check above.
                skipped += 1;
            }
        }
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        rejected.sort_by_key(|e| e.line);
        Ok(BatchOutcome {
            imported: imported_count,
            skipped,
            errors: rejected,
        })
    }

    /// Identity's snapshot of each candidate's person (`None`: unknown to identity), asked
    /// as the service account, a few lookups at a time.
    async fn look_up(
        &self,
        candidates: &[SubjectCandidate],
    ) -> Result<Vec<Option<PersonSnapshot>>, RecordsError> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let token: Arc<str> = self
            .tokens
            .token()
            .await
            .map_err(|_| RecordsError::IdentityUnavailable)?
            .into();
        let mut found = vec![None; candidates.len()];
        let mut tasks = tokio::task::JoinSet::new();
        let mut next = 0;
        while next < candidates.len() || !tasks.is_empty() {
            while next < candidates.len() && tasks.len() < LOOKUPS_IN_FLIGHT {
                let identity = self.identity.clone();
                let token = token.clone();
                let personal_id = candidates[next].personal_id.clone();
                let index = next;
                tasks.spawn(async move {
                    let answer = identity
                        .citizen(&Asker::Service(&token), &personal_id)
                        .await;
                    (index, answer)
                });
                next += 1;
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let (index, answer) = joined.map_err(|_| RecordsError::IdentityUnavailable)?;
            match answer {
                Ok(snapshot) => found[index] = Some(snapshot),
                Err(RecordsError::PersonUnknown) => {}
                Err(error) => {
                    // A refusal of the service account is a deployment fault, not the
                    // importer's: the batch is not committed and the import can resume.
                    tracing::warn!(
                        error = error.category(),
                        "identity lookup for an import failed"
                    );
                    return Err(RecordsError::IdentityUnavailable);
                }
            }
        }
        Ok(found)
    }
}

/// The audit touch of an import batch (no person: one event covers many).
fn touched(resource_id: Option<&str>) -> Touched<'_> {
    Touched {
        resource_type: IMPORT_RESOURCE,
        subject: None,
        resource_id,
    }
}

/// The first classification of `candidate` that contradicts an earlier one of the same row,
/// as (field, reason), as `AddClassification` would refuse it.
fn check_classes(candidate: &SubjectCandidate, today: NaiveDate) -> Result<(), (String, String)> {
    let mut held: Vec<SubjectClass> = Vec::with_capacity(candidate.classes.len());
    for (i, class) in candidate.classes.iter().enumerate() {
        let new = NewClass {
            subject_id: String::new(),
            classification: class.classification,
            start: class.start,
            end: class.end,
            legal_basis: class.legal_basis.clone(),
            source: class.source.clone(),
        };
        if let Some((field, _)) = contradiction(&held, &new) {
            let reason = if field == "start_date" {
                "overlaps an earlier classification of the same class in this row"
            } else {
                "contradicts an earlier classification in this row: one supervision regime at a time"
            };
            return Err((format!("classifications[{i}].{field}"), reason.to_owned()));
        }
        held.push(SubjectClass {
            id: format!("classifications[{i}]"),
            subject_id: String::new(),
            classification: class.classification,
            start: class.start,
            end: class.end,
            legal_basis: String::new(),
            owning_unit: String::new(),
            status: class_status(class.end, today),
            source: class.source.clone(),
            created_by: String::new(),
            created_us: 0,
        });
    }
    Ok(())
}

fn class_status(end: Option<NaiveDate>, today: NaiveDate) -> ClassStatus {
    if end.is_some_and(|end| end < today) {
        ClassStatus::Ended
    } else {
        ClassStatus::Active
    }
}

/// The rows of an imported subject, as CreateSubject, AddClassification and
/// AppendTimelineEntry by an officer of the owning unit would have stored them.
fn imported(
    ctx: &CallContext,
    candidate: SubjectCandidate,
    snapshot: PersonSnapshot,
    today: NaiveDate,
    now: i64,
) -> ImportedSubject {
    // Decoding accepted the unit only if it has an area.
    let unit = unit_area(&candidate.owning_unit, AreaTable::builtin()).unwrap_or(UnitArea {
        area: dancu_policy::NATION.to_owned(),
        province: dancu_policy::NATION.to_owned(),
    });
    let subject_id = uuid::Uuid::now_v7().to_string();
    let actor_id = &ctx.principal.id;
    let classifications = candidate
        .classes
        .into_iter()
        .map(|class| {
            class_to_row(&SubjectClass {
                id: uuid::Uuid::now_v7().to_string(),
                subject_id: subject_id.clone(),
                classification: class.classification,
                start: class.start,
                end: class.end,
                legal_basis: class.legal_basis,
                owning_unit: candidate.owning_unit.clone(),
                status: class_status(class.end, today),
                source: class.source,
                created_by: actor_id.clone(),
                created_us: now,
            })
        })
        .collect();
    let timeline = candidate
        .timeline
        .into_iter()
        .map(|entry| TimelineEntryRow {
            id: uuid::Uuid::now_v7().to_string(),
            subject_id: subject_id.clone(),
            kind: entry.kind.code().to_owned(),
            occur_date: entry.occurred.format(DATE).to_string(),
            summary: entry.summary,
            source_kind: entry.source.kind.code().to_owned(),
            source_reference: entry.source.reference,
            source_issuing_unit: entry.source.issuing_unit,
            corrects_entry_id: None,
            created_by: actor_id.clone(),
            created_us: now,
        })
        .collect();
    ImportedSubject {
        subject: SubjectRow {
            id: subject_id,
            kind: "citizen".to_owned(),
            person_key: PersonRef::Citizen(candidate.personal_id.clone()).key(),
            personal_id: candidate.personal_id.as_str().to_owned(),
            passport_number: String::new(),
            nationality: String::new(),
            foreigner_id: snapshot.foreigner_id,
            snapshot_full_name: snapshot.full_name,
            snapshot_birth_date: snapshot.date_of_birth.format(DATE).to_string(),
            snapshot_commune: snapshot.commune,
            snapshot_life_status: snapshot.life_status.to_owned(),
            snapshot_refreshed_us: now,
            owning_unit: candidate.owning_unit,
            owning_area: unit.area,
            owning_province: unit.province,
            source_kind: candidate.source.kind.code().to_owned(),
            source_reference: candidate.source.reference,
            source_issuing_unit: candidate.source.issuing_unit,
            created_by: actor_id.clone(),
            created_us: now,
            updated_us: now,
        },
        classifications,
        timeline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_of_the_seeded_tree_have_areas() {
        let areas = AreaTable::builtin();
        assert_eq!(
            unit_area("CAT-01", areas),
            Some(UnitArea {
                area: "01".to_owned(),
                province: "01".to_owned()
            })
        );
        assert_eq!(
            unit_area("CAX-01001", areas),
            Some(UnitArea {
                area: "01001".to_owned(),
                province: "01".to_owned()
            })
        );
        assert_eq!(unit_area("CAT-99", areas), None);
        assert_eq!(unit_area("CAX-99999", areas), None);
        assert_eq!(unit_area("BCA-C06", areas), None);
        assert_eq!(unit_area("01001", areas), None);
    }
}
