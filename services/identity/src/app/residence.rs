//! Residence and movement: immutable residence events, the current residence derived from
//! them (kept on the citizen row in the same transaction), and the person's history.

use super::CitizenAccess;
use super::IdentityError;
use super::citizen_record::{day_text, from_row, province_of, today};
use super::citizens::{authorization, change_row};
use super::journal::Journal;
use crate::store::{ResidenceEventRow, ResidenceUpdate};
use chrono::NaiveDate;
use dancu_domain::residence::{absence_mandatory, check_period, covers};
use dancu_domain::{AreaTable, PersonalId, ResidenceKind, Supervision};
use dancu_kit::call::CallContext;
use dancu_policy::View;
use std::sync::Arc;
use tonic::Code;

/// Resource type in audit events.
const RESOURCE: &str = "residence";
/// Most events considered when deriving where a person lives.
const MAX_EVENTS_PER_PERSON: u64 = 10_000;

/// A residence declaration, validated field by field.
#[derive(Clone, Debug)]
pub struct Declaration {
    /// The person.
    pub personal_id: PersonalId,
    /// Kind of event.
    pub kind: ResidenceKind,
    /// Commune code, or empty (absences: the permanent commune).
    pub commune: String,
    /// Address in the commune.
    pub address: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: Option<NaiveDate>,
    /// Host (stays).
    pub host_name: String,
    /// Supervision (absences).
    pub supervision: Supervision,
    /// Destination (absences).
    pub destination: String,
}

/// Where a person lives today.
#[derive(Clone, Debug, Default)]
pub struct ResidenceNow {
    /// Permanent residence in force.
    pub permanent: Option<ResidenceEventRow>,
    /// Temporary residence in force.
    pub temporary: Option<ResidenceEventRow>,
    /// Absence in force.
    pub absence: Option<ResidenceEventRow>,
    /// Stays in force.
    pub stays: Vec<ResidenceEventRow>,
}

/// Residence registration.
pub struct Residences {
    journal: Arc<Journal>,
    areas: &'static AreaTable,
    access: Arc<CitizenAccess>,
}

impl Residences {
    /// Residence registration over `journal`'s store, with communes from `areas`; where a
    /// person lives is shown as `access` decides.
    pub fn new(
        journal: Arc<Journal>,
        areas: &'static AreaTable,
        access: Arc<CitizenAccess>,
    ) -> Self {
        Self {
            journal,
            areas,
            access,
        }
    }

    /// Records the rejection of a call that ended before reaching the register.
    pub async fn audit(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
        outcome: Code,
    ) -> Result<(), IdentityError> {
        self.journal.reject(ctx, RESOURCE, subject, outcome).await
    }

    /// Records a residence event, updates the current residence and appends to the change
    /// feed, all in one transaction with the audit event.
    pub async fn declare(
        &self,
        ctx: &CallContext,
        declaration: Declaration,
    ) -> Result<ResidenceEventRow, IdentityError> {
        let store = self.journal.store();
        let subject = declaration.personal_id.as_str().to_owned();
        let subjects = [subject.as_str()];
        let fail = |txn, error| self.journal.fail(txn, ctx, RESOURCE, &subjects, error);
        let txn = store.begin_write().await?;
        let Some(citizen) = store.citizen_in(&txn, &subject).await? else {
            return Err(fail(
                Some(txn),
                IdentityError::precondition("the person is not registered"),
            )
            .await);
        };
        if citizen.life_status == "deceased" {
            return Err(fail(
                Some(txn),
                IdentityError::precondition("the person is recorded as deceased"),
            )
            .await);
        }
        let commune = match (declaration.kind, declaration.commune.is_empty()) {
            (ResidenceKind::Absence, true) if citizen.perm_commune.is_empty() => {
                return Err(fail(
                    Some(txn),
                    IdentityError::precondition(
                        "the person has no permanent residence to be absent from",
                    ),
                )
                .await);
            }
            (ResidenceKind::Absence, true) => citizen.perm_commune.clone(),
            _ => declaration.commune.clone(),
        };
        let province = match province_of(self.areas, &commune, "commune_code") {
            Ok(p) => p,
            Err(e) => return Err(fail(Some(txn), e).await),
        };
        if declaration.kind == ResidenceKind::Temporary && commune == citizen.perm_commune {
            return Err(fail(
                Some(txn),
                IdentityError::invalid(
                    "commune_code",
                    "temporary residence must be outside the commune of permanent residence",
                ),
            )
            .await);
        }
        if let Err(e) = check_period(declaration.kind, declaration.start, declaration.end) {
            return Err(fail(Some(txn), IdentityError::invalid("end_date", e.to_string())).await);
        }
        let now = chrono::Utc::now().timestamp_micros();
        let row = ResidenceEventRow {
            seq: 0,
            event_id: uuid::Uuid::now_v7().to_string(),
            personal_id: subject.clone(),
            kind: declaration.kind.as_str().to_owned(),
            commune_code: commune.clone(),
            province_code: province.clone(),
            address: declaration.address,
            start_date: day_text(declaration.start),
            end_date: declaration.end.map(day_text).unwrap_or_default(),
            host_name: declaration.host_name,
            supervision: declaration.supervision.as_str().to_owned(),
            destination: declaration.destination,
            mandatory: declaration.kind == ResidenceKind::Absence
                && absence_mandatory(declaration.supervision, declaration.start, declaration.end),
            recorded_us: now,
            recorded_by: ctx.principal.id.clone(),
        };
        store.insert_residence_event(&txn, row.clone()).await?;
        let update = match declaration.kind {
            ResidenceKind::Permanent => Some(ResidenceUpdate::Permanent {
                commune: commune.clone(),
                province,
            }),
            ResidenceKind::Temporary => Some(ResidenceUpdate::Temporary {
                commune: commune.clone(),
                province,
                until: row.end_date.clone(),
            }),
            ResidenceKind::Stay | ResidenceKind::Absence => None,
        };
        if let Some(update) = update {
            store.set_residence(&txn, &subject, update).await?;
        }
        let mut change = change_row(&subject, "residence", now, "");
        change.residence_kind = row.kind.clone();
        change.commune_code = commune;
        change.reference_id = row.event_id.clone();
        store.append_change(&txn, change).await?;
        let events = self
            .journal
            .stage(
                &txn,
                ctx,
                RESOURCE,
                &subjects,
                Some(&row.event_id),
                Code::Ok,
            )
            .await?;
        self.journal.commit(txn, events, true).await?;
        Ok(row)
    }

    /// Where a person lives today, derived from their events.
    pub async fn current(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<ResidenceNow, IdentityError> {
        let subject = personal_id.as_str();
        let events = self
            .events_checked(ctx, subject, 0, MAX_EVENTS_PER_PERSON)
            .await?;
        Ok(derive(events, today()))
    }

    /// The person's residence events after `after_seq`, oldest first.
    pub async fn history(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<ResidenceEventRow>, IdentityError> {
        self.events_checked(ctx, personal_id.as_str(), after_seq, limit)
            .await
    }

    async fn events_checked(
        &self,
        ctx: &CallContext,
        subject: &str,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<ResidenceEventRow>, IdentityError> {
        let store = self.journal.store();
        let subjects = [subject];
        let fail = |error| self.journal.fail(None, ctx, RESOURCE, &subjects, error);
        let Some(row) = store.citizen(subject).await? else {
            return Err(fail(IdentityError::NotFound).await);
        };
        // Where a person lives belongs to the full view: inside the officer's jurisdiction,
        // or with break-glass.
        let decision = match self
            .access
            .view(ctx, from_row(row, &day_text(today()))?)
            .await
        {
            Ok((_, decision)) => decision,
            Err(error) => return Err(fail(error).await),
        };
        if !matches!(decision.view, View::Full) {
            return Err(fail(IdentityError::PermissionDenied(
                "residence is shown only inside your jurisdiction (or with break-glass)".to_owned(),
            ))
            .await);
        }
        let events = store.residence_events(subject, after_seq, limit).await?;
        self.journal
            .record_decided(
                ctx,
                RESOURCE,
                &[(subject, authorization(ctx, &decision))],
                Code::Ok,
            )
            .await?;
        Ok(events)
    }
}

/// Where a person lives on `today`, from their events in recording order: the latest
/// permanent residence; the latest temporary residence if its period covers today (an
/// expired one no longer counts); the latest absence covering today; stays covering today.
pub fn derive(events: Vec<ResidenceEventRow>, today: NaiveDate) -> ResidenceNow {
    let in_force = |e: &ResidenceEventRow| {
        let start = NaiveDate::parse_from_str(&e.start_date, "%Y-%m-%d").ok();
        let end = NaiveDate::parse_from_str(&e.end_date, "%Y-%m-%d").ok();
        start.is_some_and(|start| covers(start, end, today))
    };
    let mut now = ResidenceNow::default();
    for event in events {
        match ResidenceKind::parse(&event.kind) {
            Some(ResidenceKind::Permanent) => now.permanent = Some(event),
            Some(ResidenceKind::Temporary) => now.temporary = Some(event),
            Some(ResidenceKind::Absence) => now.absence = Some(event),
            Some(ResidenceKind::Stay) if in_force(&event) => now.stays.push(event),
            _ => {}
        }
    }
    now.temporary = now.temporary.filter(in_force);
    now.absence = now.absence.filter(in_force);
    now
}
