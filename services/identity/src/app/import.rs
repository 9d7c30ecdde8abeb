//! Bulk import of citizens: who may import, checking each row's residences, and committing
//! a batch — its citizens, history, change-feed entries, residence events and one audit
//! event — in one transaction.

use super::citizen_record::{Citizen, day_text, to_row, today};
use super::journal::Journal;
use super::officers::actor;
use super::{AccessError, IdentityError, UnitTree};
use crate::store::{CitizenRow, ImportRow, ResidenceEventRow};
use dancu_domain::{AreaTable, ResidenceKind};
use dancu_kit::call::CallContext;
use dancu_policy::{AccessRequest, Action, Authorizer, Resource};
use std::sync::Arc;
use tonic::Code;

/// Resource type of the audit event of a committed batch.
pub const IMPORT_RESOURCE: &str = "citizen_import";
/// Reason recorded in the first history entry of an imported citizen.
const HISTORY_REASON: &str = "bulk import";

/// One residence of a row, as decoded from the wire.
#[derive(Debug, Clone)]
pub struct ImportResidence {
    /// Permanent or temporary.
    pub kind: ResidenceKind,
    /// Commune code.
    pub commune: String,
    /// Address.
    pub address: String,
    /// First day.
    pub start: chrono::NaiveDate,
    /// Last day, if any.
    pub end: Option<chrono::NaiveDate>,
}

/// A decoded, valid citizen row waiting for its batch.
#[derive(Debug, Clone)]
pub struct ImportCandidate {
    /// Line number in the caller's file.
    pub line: u64,
    /// The citizen.
    pub citizen: Citizen,
    /// Residence history, oldest first.
    pub residences: Vec<ImportResidence>,
}

pub use dancu_kit::import_stream::{BatchOutcome, RowError};

/// The import use case.
pub struct Importer {
    journal: Arc<Journal>,
    units: Arc<UnitTree>,
    policy: Arc<Authorizer>,
}

impl Importer {
    /// Imports through `journal`'s store, deciding with `policy` over `units`.
    pub fn new(journal: Arc<Journal>, units: Arc<UnitTree>, policy: Arc<Authorizer>) -> Self {
        Self {
            journal,
            units,
            policy,
        }
    }

    /// Refuses (audited) unless the caller may import citizens.
    pub async fn authorize(&self, ctx: &CallContext) -> Result<(), IdentityError> {
        let allowed = match self.units.path(&ctx.principal.unit) {
            None => false,
            Some(path) => {
                self.policy
                    .authorize(&AccessRequest {
                        actor: actor(&ctx.principal, &self.units),
                        action: Action::ImportCitizens,
                        resource: Resource::Unit { path },
                        purpose: None,
                        case_reference: None,
                        break_glass_justification: None,
                    })?
                    .allowed
            }
        };
        if allowed {
            return Ok(());
        }
        let error: IdentityError = AccessError::Denied.into();
        self.journal
            .record(ctx, IMPORT_RESOURCE, &[], None, Code::PermissionDenied)
            .await?;
        Err(error)
    }

    /// Records the failure of an import stream (e.g. a malformed stream) with `outcome`.
    pub async fn audit_failure(
        &self,
        ctx: &CallContext,
        outcome: Code,
    ) -> Result<(), IdentityError> {
        self.journal
            .record(ctx, IMPORT_RESOURCE, &[], None, outcome)
            .await
    }

    /// Commits one batch: the `candidates` whose residences check out and whose personal
    /// ID is not yet registered are registered; `rejected` (rows the caller could not
    /// decode) are reported with the others. One audit event (resource id
    /// `<import_id>:<first line>-<last line>`) records the batch in the same transaction.
    pub async fn commit_batch(
        &self,
        ctx: &CallContext,
        import_id: &str,
        lines: (u64, u64),
        candidates: Vec<ImportCandidate>,
        mut rejected: Vec<RowError>,
    ) -> Result<BatchOutcome, IdentityError> {
        let areas = self.units.areas();
        let now = chrono::Utc::now().timestamp_micros();
        let today = today();
        let mut rows = Vec::with_capacity(candidates.len());
        let mut lines_of_ids = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            match import_row(&candidate, areas, today, &ctx.principal.id, now) {
                Ok(row) => {
                    lines_of_ids.push(row.citizen.personal_id.clone());
                    rows.push(row);
                }
                Err((field, reason)) => rejected.push(RowError {
                    line: candidate.line,
                    field: field.to_owned(),
                    reason,
                }),
            }
        }
        let store = self.journal.store();
        let txn = store.begin_write().await?;
        let inserted = store
            .import_citizens(&txn, rows, &ctx.principal.id, now, HISTORY_REASON)
            .await?;
        let resource_id = format!("{import_id}:{}-{}", lines.0, lines.1);
        let events = self
            .journal
            .stage(
                &txn,
                ctx,
                IMPORT_RESOURCE,
                &[],
                Some(&resource_id),
                Code::Ok,
            )
            .await?;
        self.journal
            .commit(txn, events, !inserted.is_empty())
            .await?;
        rejected.sort_by_key(|e| e.line);
        let imported = u32::try_from(inserted.len()).unwrap_or(u32::MAX);
        let offered = u32::try_from(lines_of_ids.len()).unwrap_or(u32::MAX);
        Ok(BatchOutcome {
            imported,
            skipped: offered - imported,
            errors: rejected,
        })
    }
}

/// The store row of a candidate, with its current residence derived from its history, or
/// the first problem found: (field, reason).
fn import_row(
    candidate: &ImportCandidate,
    areas: &AreaTable,
    today: chrono::NaiveDate,
    actor_id: &str,
    now: i64,
) -> Result<ImportRow, (&'static str, String)> {
    let mut citizen = candidate.citizen.clone();
    citizen.created_us = now;
    citizen.updated_us = now;
    citizen.version = 1;
    let mut row = to_row(
        &citizen,
        CitizenRow {
            created_by: actor_id.to_owned(),
            updated_by: actor_id.to_owned(),
            ..CitizenRow::default()
        },
    );
    let mut events = Vec::with_capacity(candidate.residences.len());
    for residence in &candidate.residences {
        let Some(commune) = areas.commune(&residence.commune) else {
            return Err((
                "residences.commune_code",
                "is not a known commune".to_owned(),
            ));
        };
        if let Some(end) = residence.end
            && end < residence.start
        {
            return Err(("residences.end_date", "is before the start date".to_owned()));
        }
        if residence.start > today {
            return Err(("residences.start_date", "is in the future".to_owned()));
        }
        match residence.kind {
            ResidenceKind::Permanent if residence.end.is_none() => {
                row.perm_commune = commune.code.clone();
                row.perm_province = commune.province_code.clone();
            }
            ResidenceKind::Permanent => {}
            ResidenceKind::Temporary => {
                let Some(end) = residence.end else {
                    return Err((
                        "residences.end_date",
                        "is required for a temporary residence".to_owned(),
                    ));
                };
                row.temp_commune = commune.code.clone();
                row.temp_province = commune.province_code.clone();
                row.temp_until = day_text(end);
            }
            ResidenceKind::Stay | ResidenceKind::Absence => {
                return Err((
                    "residences.kind",
                    "only permanent and temporary residences are imported".to_owned(),
                ));
            }
        }
        events.push(ResidenceEventRow {
            seq: 0,
            event_id: uuid::Uuid::now_v7().to_string(),
            personal_id: row.personal_id.clone(),
            kind: residence.kind.as_str().to_owned(),
            commune_code: commune.code.clone(),
            province_code: commune.province_code.clone(),
            address: residence.address.clone(),
            start_date: day_text(residence.start),
            end_date: residence.end.map(day_text).unwrap_or_default(),
            host_name: String::new(),
            supervision: dancu_domain::Supervision::None.as_str().to_owned(),
            destination: String::new(),
            mandatory: false,
            recorded_us: now,
            recorded_by: actor_id.to_owned(),
        });
    }
    Ok(ImportRow {
        citizen: std::mem::take(&mut row),
        residences: events,
    })
}
