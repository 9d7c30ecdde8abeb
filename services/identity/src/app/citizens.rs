//! The citizen register: registration, lookup, updates with history, searches and
//! resident lists — each audited, each write committed with its history, its change-feed
//! entry and its audit event in one transaction.

use super::CitizenAccess;
use super::IdentityError;
use super::citizen_record::{Citizen, LifeStatus, day_text, from_row, to_row, today};
use super::journal::Journal;
use crate::store::{
    ChangeRow, CitizenHistoryRow, CitizenRow, CitizenSearch, CommuneResidents, InsertError,
    SearchAfter,
};
use dancu_audit_client::event::Authorization;
use dancu_domain::PersonalId;
use dancu_kit::call::CallContext;
use dancu_policy::Decision;
use std::sync::Arc;
use tonic::Code;

/// Resource type in audit events.
const RESOURCE: &str = "citizen";
/// Draws of a random personal ID before giving up (each collides with probability
/// below the share of the million serials already used for that province, sex and year).
const MAX_ID_DRAWS: usize = 16;

/// A requested change to a citizen record.
pub struct CitizenUpdate {
    /// The record holding the new values (only `fields` are taken from it).
    pub values: Citizen,
    /// Names of the fields to change (validated names of `Citizen` proto fields).
    pub fields: Vec<String>,
    /// The version the caller read.
    pub expected_version: i64,
    /// Why.
    pub reason: String,
}

/// One entry of a citizen's history.
pub struct HistoryEntry {
    /// Version produced.
    pub version: i64,
    /// When (Unix microseconds).
    pub changed_us: i64,
    /// Officer id.
    pub changed_by: String,
    /// Fields changed (empty for the registration).
    pub fields: Vec<String>,
    /// Why.
    pub reason: String,
}

/// The citizen register.
pub struct Citizens {
    journal: Arc<Journal>,
    access: Arc<CitizenAccess>,
}

impl Citizens {
    /// The register over `journal`'s store, showing people as `access` decides.
    pub fn new(journal: Arc<Journal>, access: Arc<CitizenAccess>) -> Self {
        Self { journal, access }
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

    /// Registers a citizen; the record, its first history entry, its change-feed entry and
    /// its audit event commit together. With `assign_from` (a birth-registration province
    /// code), the personal ID was drawn by the caller and is drawn again while taken.
    pub async fn register(
        &self,
        ctx: &CallContext,
        mut citizen: Citizen,
        assign_from: Option<String>,
    ) -> Result<Citizen, IdentityError> {
        let Some(code) = assign_from else {
            return self.insert(ctx, citizen).await;
        };
        for _ in 0..MAX_ID_DRAWS {
            match self.insert(ctx, citizen.clone()).await {
                Err(IdentityError::AlreadyExists) => {
                    citizen.personal_id = PersonalId::generate(
                        &code,
                        citizen.sex,
                        citizen.date_of_birth.year(),
                        &mut rand::thread_rng(),
                    )
                    .map_err(|_| {
                        IdentityError::invalid("birth_registration_code", "cannot assign")
                    })?;
                }
                other => return other,
            }
        }
        Err(IdentityError::precondition(
            "no unused personal ID found for this province, sex and year; retry",
        ))
    }

    async fn insert(
        &self,
        ctx: &CallContext,
        mut citizen: Citizen,
    ) -> Result<Citizen, IdentityError> {
        let store = self.journal.store();
        let now = chrono::Utc::now().timestamp_micros();
        citizen.created_us = now;
        citizen.updated_us = now;
        citizen.version = 1;
        let subject = citizen.personal_id.as_str().to_owned();
        let base = CitizenRow {
            created_by: ctx.principal.id.clone(),
            updated_by: ctx.principal.id.clone(),
            ..CitizenRow::default()
        };
        let txn = store.begin_write().await?;
        match store.insert_citizen(&txn, to_row(&citizen, base)).await {
            Ok(()) => {}
            Err(InsertError::Duplicate) => {
                return Err(self
                    .journal
                    .fail(
                        Some(txn),
                        ctx,
                        RESOURCE,
                        &[&subject],
                        IdentityError::AlreadyExists,
                    )
                    .await);
            }
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
        store
            .insert_history(&txn, history_row(&subject, 1, now, ctx, "", "registration"))
            .await?;
        store
            .append_change(&txn, change_row(&subject, "registered", now, ""))
            .await?;
        let events = self
            .journal
            .stage(&txn, ctx, RESOURCE, &[&subject], None, Code::Ok)
            .await?;
        self.journal.commit(txn, events, true).await?;
        Ok(citizen)
    }

    /// Looks a citizen up; the lookup is audited (found or not) before the answer leaves.
    pub async fn get(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<(Citizen, Decision), IdentityError> {
        let Some(row) = self.journal.store().citizen(personal_id.as_str()).await? else {
            self.journal
                .record(ctx, RESOURCE, &[personal_id.as_str()], None, Code::NotFound)
                .await?;
            return Err(IdentityError::NotFound);
        };
        let mut shown = self.read_many(ctx, vec![row], &day_text(today())).await?;
        shown.pop().ok_or(IdentityError::NotFound)
    }

    /// Changes the named fields of a citizen if the caller's version is current.
    pub async fn update(
        &self,
        ctx: &CallContext,
        update: CitizenUpdate,
    ) -> Result<Citizen, IdentityError> {
        let store = self.journal.store();
        let subject = update.values.personal_id.as_str().to_owned();
        let subjects = [subject.as_str()];
        let fail = |txn, error| self.journal.fail(txn, ctx, RESOURCE, &subjects, error);
        let txn = store.begin_write().await?;
        let Some(row) = store.citizen_in(&txn, &subject).await? else {
            return Err(fail(Some(txn), IdentityError::NotFound).await);
        };
        if row.version != update.expected_version {
            return Err(fail(Some(txn), IdentityError::Stale).await);
        }
        let today = today();
        let current = from_row(row.clone(), &day_text(today))?;
        let was = current.life_status;
        let changed = match apply(current, &update.values, &update.fields) {
            Ok(changed) => changed,
            Err(error) => return Err(fail(Some(txn), error).await),
        };
        let mut next = changed;
        if let Err(error) = check_consistency(&next, today) {
            return Err(fail(Some(txn), error).await);
        }
        let now = chrono::Utc::now().timestamp_micros();
        next.version = row.version + 1;
        next.updated_us = now;
        let base = CitizenRow {
            updated_by: ctx.principal.id.clone(),
            ..row.clone()
        };
        if !store
            .replace_citizen(&txn, to_row(&next, base), row.version)
            .await?
        {
            return Err(fail(Some(txn), IdentityError::Stale).await);
        }
        let fields = update.fields.join(",");
        store
            .insert_history(
                &txn,
                history_row(&subject, next.version, now, ctx, &fields, &update.reason),
            )
            .await?;
        store
            .append_change(&txn, change_row(&subject, "updated", now, &fields))
            .await?;
        let became = match (was, next.life_status) {
            (LifeStatus::Deceased(_), LifeStatus::Deceased(_))
            | (LifeStatus::Missing(_), LifeStatus::Missing(_)) => None,
            (_, LifeStatus::Deceased(_)) => Some("deceased"),
            (_, LifeStatus::Missing(_)) => Some("missing"),
            _ => None,
        };
        if let Some(kind) = became {
            store
                .append_change(&txn, change_row(&subject, kind, now, ""))
                .await?;
        }
        let events = self
            .journal
            .stage(&txn, ctx, RESOURCE, &[&subject], None, Code::Ok)
            .await?;
        self.journal.commit(txn, events, true).await?;
        Ok(next)
    }

    /// The history of a citizen after `after_version`, oldest first.
    pub async fn history(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
        after_version: i64,
        limit: u64,
    ) -> Result<Vec<HistoryEntry>, IdentityError> {
        let store = self.journal.store();
        let subject = personal_id.as_str();
        if store.citizen(subject).await?.is_none() {
            return Err(self
                .journal
                .fail(None, ctx, RESOURCE, &[subject], IdentityError::NotFound)
                .await);
        }
        let rows = store.history(subject, after_version, limit).await?;
        self.journal
            .record(ctx, RESOURCE, &[subject], None, Code::Ok)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryEntry {
                version: r.version,
                changed_us: r.changed_us,
                changed_by: r.changed_by,
                fields: r
                    .fields
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect(),
                reason: r.reason,
            })
            .collect())
    }

    /// Citizens matching `search`, by year of birth then personal ID, continuing `after`
    /// the given person, with where the next page would continue (the last person's year
    /// and ID, read before any masking); every person returned is audited as accessed.
    pub async fn search(
        &self,
        ctx: &CallContext,
        search: &CitizenSearch,
        after: Option<&SearchAfter>,
        limit: u64,
    ) -> Result<(Vec<Citizen>, Option<SearchAfter>), IdentityError> {
        let today = day_text(today());
        let rows = self
            .journal
            .store()
            .search_citizens(search, &today, after, limit)
            .await?;
        let last = rows.last().map(|row| SearchAfter {
            birth_year: row.birth_year,
            personal_id: row.personal_id.clone(),
        });
        Ok((shown_only(self.read_many(ctx, rows, &today).await?), last))
    }

    /// Current residents of `commune` after personal ID `after`; every person returned is
    /// audited as accessed.
    pub async fn residents(
        &self,
        ctx: &CallContext,
        commune: &str,
        after: &str,
        limit: u64,
    ) -> Result<Vec<Citizen>, IdentityError> {
        let today = day_text(today());
        let rows = self
            .journal
            .store()
            .residents(commune, &today, after, limit)
            .await?;
        Ok(shown_only(self.read_many(ctx, rows, &today).await?))
    }

    /// Resident counts per commune (no personal data; audited without a subject).
    pub async fn count_residents(
        &self,
        ctx: &CallContext,
        province: Option<&str>,
    ) -> Result<Vec<CommuneResidents>, IdentityError> {
        let counts = self
            .journal
            .store()
            .count_residents(province, &day_text(today()))
            .await?;
        self.journal
            .record(ctx, "resident_count", &[], province, Code::Ok)
            .await?;
        Ok(counts)
    }

    /// The people of `rows` as the caller may see them, each with its decision; every one
    /// is audited with that decision before the answer leaves (an empty result as one
    /// event without a subject; a refusal as a denial, naming nobody).
    async fn read_many(
        &self,
        ctx: &CallContext,
        rows: Vec<CitizenRow>,
        today: &str,
    ) -> Result<Vec<(Citizen, Decision)>, IdentityError> {
        let mut shown = Vec::with_capacity(rows.len());
        for row in rows {
            let subject = row.personal_id.clone();
            match self.access.view(ctx, from_row(row, today)?).await {
                Ok(view) => shown.push(view),
                Err(error) => {
                    return Err(self
                        .journal
                        .fail(None, ctx, RESOURCE, &[&subject], error)
                        .await);
                }
            }
        }
        let decided: Vec<(&str, Authorization)> = shown
            .iter()
            .map(|(citizen, decision)| (citizen.personal_id.as_str(), authorization(ctx, decision)))
            .collect();
        self.journal
            .record_decided(ctx, RESOURCE, &decided, Code::Ok)
            .await?;
        Ok(shown)
    }
}

fn shown_only(views: Vec<(Citizen, Decision)>) -> Vec<Citizen> {
    views.into_iter().map(|(citizen, _)| citizen).collect()
}

/// What the audit event of a decided read records: allow/deny, the deciding policies, and
/// the break-glass justification when break-glass was used.
pub(super) fn authorization(ctx: &CallContext, decision: &Decision) -> Authorization {
    Authorization {
        decision: Some(decision.allowed),
        policy_ids: decision.policy_ids.clone(),
        break_glass: decision
            .break_glass
            .then(|| ctx.break_glass_justification.clone())
            .flatten(),
    }
}

/// `current` with the named `fields` taken from `values`.
fn apply(
    mut current: Citizen,
    values: &Citizen,
    fields: &[String],
) -> Result<Citizen, IdentityError> {
    for field in fields {
        let v = values.clone();
        match field.as_str() {
            "full_name" => current.full_name = v.full_name,
            "other_names" => current.other_names = v.other_names,
            "sex" => current.sex = v.sex,
            "date_of_birth" => current.date_of_birth = v.date_of_birth,
            "place_of_birth" => current.place_of_birth = v.place_of_birth,
            "place_of_birth_registration" => {
                current.place_of_birth_registration = v.place_of_birth_registration;
            }
            "home_town" => current.home_town = v.home_town,
            "ethnicity" => current.ethnicity = v.ethnicity,
            "religion" => current.religion = v.religion,
            "nationality" => current.nationality = v.nationality,
            "blood_type" => current.blood_type = v.blood_type,
            "old_id_number" => current.old_id_number = v.old_id_number,
            "family" => current.family = v.family,
            "marital_status" => current.marital_status = v.marital_status,
            "phone" => current.phone = v.phone,
            "email" => current.email = v.email,
            "life_status" => current.life_status = v.life_status,
            _ => {
                return Err(IdentityError::invalid(
                    "update_mask",
                    "names a field that cannot be changed",
                ));
            }
        }
    }
    Ok(current)
}

/// Rules across fields that an update can break: sex and year of birth against the
/// personal ID, a death or disappearance not before birth nor in the future, no
/// self-links in the family.
pub fn check_consistency(citizen: &Citizen, today: chrono::NaiveDate) -> Result<(), IdentityError> {
    if let Err(mismatch) = citizen
        .personal_id
        .check_consistent(citizen.sex, citizen.date_of_birth.year())
    {
        return Err(IdentityError::invalid(
            "citizen.personal_id",
            mismatch.to_string(),
        ));
    }
    if let Err(e) = citizen.date_of_birth.validate_birth(today) {
        return Err(IdentityError::invalid(
            "citizen.date_of_birth",
            e.to_string(),
        ));
    }
    if let Some(date) = citizen.life_status.date() {
        if date.certainly_before(&citizen.date_of_birth) {
            return Err(IdentityError::invalid(
                "citizen.life_status_date",
                "is before the date of birth",
            ));
        }
        if date.earliest() > today {
            return Err(IdentityError::invalid(
                "citizen.life_status_date",
                "is in the future",
            ));
        }
    }
    let family = &citizen.family;
    let me = &citizen.personal_id;
    let links = [
        &family.father,
        &family.mother,
        &family.spouse,
        &family.legal_representative,
    ];
    if links.iter().any(|l| l.as_ref() == Some(me)) || family.children.contains(me) {
        return Err(IdentityError::invalid(
            "citizen.family",
            "a person cannot be linked to themselves",
        ));
    }
    Ok(())
}

fn history_row(
    subject: &str,
    version: i64,
    now: i64,
    ctx: &CallContext,
    fields: &str,
    reason: &str,
) -> CitizenHistoryRow {
    CitizenHistoryRow {
        id: 0,
        personal_id: subject.to_owned(),
        version,
        changed_us: now,
        changed_by: ctx.principal.id.clone(),
        fields: fields.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A change-feed entry about `subject`.
pub fn change_row(subject: &str, kind: &str, now: i64, fields: &str) -> ChangeRow {
    ChangeRow {
        seq: 0,
        personal_id: subject.to_owned(),
        kind: kind.to_owned(),
        change_us: now,
        fields: fields.to_owned(),
        residence_kind: String::new(),
        commune_code: String::new(),
        reference_id: String::new(),
    }
}
