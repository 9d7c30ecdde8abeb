//! Foreign nationals and accommodation declarations: registration, lookup, listing,
//! declarations with lateness, check-out, and who stays in a commune now — each audited.

use super::audited::Audited;
use super::{IdentityError, RegisterError};
use crate::store::{DeclarationRow, ForeignerFilter, ForeignerRow, IdentityStore, InsertError};
use chrono::NaiveDate;
use dancu_audit_client::event::Touched;
use dancu_domain::Sex;
use dancu_domain::foreigner::{CLOCK_SKEW_US, EntryDocumentKind, is_late_declaration};
use dancu_kit::call::CallContext;
use std::collections::HashMap;

/// Resource type of foreigners in audit events.
const FOREIGNER: &str = "foreigner";
/// Resource type of declarations in audit events.
const DECLARATION: &str = "accommodation_declaration";
/// Resource type of the "who stays in a commune" listing (resource id: the commune).
const STAYS: &str = "foreigner_stays";

/// A visa or residence card.
#[derive(Clone, Debug)]
pub struct EntryDocument {
    /// Kind.
    pub kind: EntryDocumentKind,
    /// Number.
    pub number: String,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity; `None` for an open-ended permanent residence card.
    pub valid_until: Option<NaiveDate>,
}

/// A foreign national, validated.
#[derive(Clone, Debug)]
pub struct Foreigner {
    /// Id (set by the register).
    pub id: String,
    /// ISO 3166-1 alpha-3, upper-case.
    pub nationality: String,
    /// Passport number, upper-case.
    pub passport_number: String,
    /// Full name, NFC.
    pub full_name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Visa or residence card.
    pub document: EntryDocument,
    /// Registration time (set by the register).
    pub created_us: i64,
    /// Version (set by the register).
    pub version: i64,
}

/// An accommodation declaration.
#[derive(Clone, Debug)]
pub struct Declaration {
    /// Id (set by the register).
    pub id: String,
    /// The guest.
    pub foreigner_id: String,
    /// Host or establishment.
    pub host_name: String,
    /// Commune code.
    pub commune_code: String,
    /// Street address.
    pub address: String,
    /// Arrival (Unix microseconds).
    pub arrival_us: i64,
    /// Planned departure (Unix microseconds).
    pub planned_departure_us: i64,
    /// Remote area.
    pub remote_area: bool,
    /// Server receive time (set by the register).
    pub received_us: i64,
    /// Received after the deadline (set by the register).
    pub late: bool,
    /// Check-out, if any.
    pub checked_out_us: Option<i64>,
}

/// One page of a listing.
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Id after which the next page starts; `None` on the last page.
    pub next_after: Option<String>,
}

/// The foreigner register.
pub struct Foreigners {
    store: IdentityStore,
    audited: Audited,
}

impl Foreigners {
    /// The register over `store`, audited through `audited`.
    pub fn new(store: IdentityStore, audited: Audited) -> Self {
        Self { store, audited }
    }

    /// Registers a foreigner; registration and audit event commit together.
    pub async fn register(
        &self,
        ctx: &CallContext,
        mut foreigner: Foreigner,
    ) -> Result<Foreigner, IdentityError> {
        foreigner.id = uuid::Uuid::now_v7().to_string();
        foreigner.created_us = chrono::Utc::now().timestamp_micros();
        foreigner.version = 1;
        let id = foreigner.id.clone();
        let txn = self.store.begin_write().await?;
        let result = match self
            .store
            .insert_foreigner(&txn, to_row(&foreigner, &ctx.principal.id))
            .await
        {
            Ok(()) => Ok(foreigner),
            Err(InsertError::Duplicate) => Err(RegisterError::ForeignerExists.into()),
            Err(InsertError::Db(e)) => Err(e.into()),
        };
        // A refused duplicate names no new resource.
        let resource = result.as_ref().ok().map(|_| id.as_str());
        self.audited
            .finish(ctx, touched(FOREIGNER, resource), txn, result)
            .await
    }

    /// The foreigner with this id; audited.
    pub async fn get(&self, ctx: &CallContext, id: &str) -> Result<Foreigner, IdentityError> {
        let result = match self.store.foreigner(self.store.connection(), id).await {
            Ok(Some(row)) => from_row(row),
            Ok(None) => Err(RegisterError::ForeignerNotFound.into()),
            Err(e) => Err(e.into()),
        };
        self.audited
            .read(ctx, touched(FOREIGNER, Some(id)), result)
            .await
    }

    /// One page of foreigners matching `filter`; audited.
    pub async fn list(
        &self,
        ctx: &CallContext,
        filter: ForeignerFilter,
        page_size: u64,
    ) -> Result<Page<Foreigner>, IdentityError> {
        let result = async {
            let rows = self.store.list_foreigners(filter, page_size + 1).await?;
            let items = rows
                .into_iter()
                .map(from_row)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(paginate(items, page_size, |f| f.id.clone()))
        }
        .await;
        self.audited
            .read(ctx, touched(FOREIGNER, None), result)
            .await
    }

    /// Records a declaration received now; flags it late past the deadline.
    pub async fn declare(
        &self,
        ctx: &CallContext,
        mut declaration: Declaration,
    ) -> Result<Declaration, IdentityError> {
        declaration.id = uuid::Uuid::now_v7().to_string();
        declaration.received_us = chrono::Utc::now().timestamp_micros();
        declaration.late = is_late_declaration(
            declaration.arrival_us,
            declaration.received_us,
            declaration.remote_area,
        );
        declaration.checked_out_us = None;
        let id = declaration.id.clone();
        let txn = self.store.begin_write().await?;
        let result = async {
            if self
                .store
                .foreigner(&txn, &declaration.foreigner_id)
                .await?
                .is_none()
            {
                return Err(RegisterError::ForeignerNotRegistered.into());
            }
            match self
                .store
                .insert_declaration(&txn, declaration_to_row(&declaration, &ctx.principal.id))
                .await
            {
                Ok(()) => Ok(declaration),
                Err(InsertError::Duplicate) => Err(RegisterError::Conflict.into()),
                Err(InsertError::Db(e)) => Err(e.into()),
            }
        }
        .await;
        let resource = result.as_ref().ok().map(|_| id.as_str());
        self.audited
            .finish(ctx, touched(DECLARATION, resource), txn, result)
            .await
    }

    /// Records that the guest of declaration `id` left at `at_us` (default: now).
    pub async fn check_out(
        &self,
        ctx: &CallContext,
        id: &str,
        at_us: Option<i64>,
    ) -> Result<Declaration, IdentityError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        let txn = self.store.begin_write().await?;
        let result = async {
            let row = self
                .store
                .declaration(&txn, id)
                .await?
                .ok_or(RegisterError::DeclarationNotFound)?;
            if row.checked_out_us.is_some() {
                return Err(RegisterError::AlreadyCheckedOut.into());
            }
            let at_us = at_us.unwrap_or(now_us);
            if at_us > now_us + CLOCK_SKEW_US {
                return Err(RegisterError::InvalidField {
                    field: "check_out_time",
                    reason: "must not be in the future",
                }
                .into());
            }
            if at_us <= row.arrival_us {
                return Err(RegisterError::InvalidField {
                    field: "check_out_time",
                    reason: "must be after the arrival time",
                }
                .into());
            }
            if !self.store.check_out(&txn, id, at_us).await? {
                return Err(RegisterError::AlreadyCheckedOut.into());
            }
            let mut declaration = declaration_from_row(row);
            declaration.checked_out_us = Some(at_us);
            Ok(declaration)
        }
        .await;
        self.audited
            .finish(ctx, touched(DECLARATION, Some(id)), txn, result)
            .await
    }

    /// One page of the stays covering now in `commune_code`, each with its foreigner;
    /// audited (resource id: the commune).
    pub async fn current_stays(
        &self,
        ctx: &CallContext,
        commune_code: &str,
        after_id: Option<String>,
        page_size: u64,
    ) -> Result<Page<(Foreigner, Declaration)>, IdentityError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        let result = async {
            let rows = self
                .store
                .current_stays(commune_code, now_us, after_id, page_size + 1)
                .await?;
            let ids = rows.iter().map(|r| r.foreigner_id.clone()).collect();
            let foreigners: HashMap<String, ForeignerRow> = self
                .store
                .foreigners_by_ids(ids)
                .await?
                .into_iter()
                .map(|f| (f.id.clone(), f))
                .collect();
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let foreigner = match foreigners.get(&row.foreigner_id) {
                    Some(f) => from_row(f.clone())?,
                    None => return Err(IdentityError::Corrupt("declaration foreigner_id")),
                };
                items.push((foreigner, declaration_from_row(row)));
            }
            Ok(paginate(items, page_size, |(_, d)| d.id.clone()))
        }
        .await;
        self.audited
            .read(ctx, touched(STAYS, Some(commune_code)), result)
            .await
    }

    /// Audits a call rejected for bad input.
    pub async fn audit_rejected(
        &self,
        ctx: &CallContext,
        resource_type: ResourceKind,
    ) -> Result<(), IdentityError> {
        let resource_type = match resource_type {
            ResourceKind::Foreigner => FOREIGNER,
            ResourceKind::Declaration => DECLARATION,
            ResourceKind::Stays => STAYS,
        };
        self.audited
            .record(
                ctx,
                touched(resource_type, None),
                tonic::Code::InvalidArgument,
            )
            .await
    }
}

/// Which kind of resource a rejected call was about (for its audit event).
#[derive(Clone, Copy, Debug)]
pub enum ResourceKind {
    /// A foreigner.
    Foreigner,
    /// An accommodation declaration.
    Declaration,
    /// The stays in a commune.
    Stays,
}

/// Keeps the first `page_size` of `items` (fetched with one extra to detect a next page).
fn paginate<T>(mut items: Vec<T>, page_size: u64, key: impl Fn(&T) -> String) -> Page<T> {
    let more = items.len() as u64 > page_size;
    items.truncate(page_size as usize);
    let next_after = if more { items.last().map(key) } else { None };
    Page { items, next_after }
}

fn touched<'a>(resource_type: &'static str, resource_id: Option<&'a str>) -> Touched<'a> {
    Touched {
        resource_type,
        subject: None,
        resource_id,
    }
}

fn ymd(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn parse_date(stored: &str, field: &'static str) -> Result<NaiveDate, IdentityError> {
    NaiveDate::parse_from_str(stored, "%Y-%m-%d").map_err(|_| IdentityError::Corrupt(field))
}

/// The store row of a foreigner registered by `created_by`.
pub(super) fn to_row(foreigner: &Foreigner, created_by: &str) -> ForeignerRow {
    ForeignerRow {
        id: foreigner.id.clone(),
        nationality: foreigner.nationality.clone(),
        passport_number: foreigner.passport_number.clone(),
        full_name: foreigner.full_name.clone(),
        name_key: dancu_domain::name_search_key(&foreigner.full_name),
        sex: match foreigner.sex {
            Sex::Male => "male",
            Sex::Female => "female",
        }
        .to_owned(),
        birth_date: ymd(foreigner.date_of_birth),
        document_kind: foreigner.document.kind.as_str().to_owned(),
        document_number: foreigner.document.number.clone(),
        document_valid_from: ymd(foreigner.document.valid_from),
        document_valid_until: foreigner.document.valid_until.map(ymd),
        created_by: created_by.to_owned(),
        created_us: foreigner.created_us,
        version: foreigner.version,
    }
}

fn from_row(row: ForeignerRow) -> Result<Foreigner, IdentityError> {
    Ok(Foreigner {
        sex: match row.sex.as_str() {
            "male" => Sex::Male,
            "female" => Sex::Female,
            _ => return Err(IdentityError::Corrupt("foreigner sex")),
        },
        date_of_birth: parse_date(&row.birth_date, "foreigner birth_date")?,
        document: EntryDocument {
            kind: EntryDocumentKind::parse(&row.document_kind)
                .ok_or(IdentityError::Corrupt("foreigner document_kind"))?,
            valid_from: parse_date(&row.document_valid_from, "foreigner document_valid_from")?,
            valid_until: row
                .document_valid_until
                .as_deref()
                .map(|d| parse_date(d, "foreigner document_valid_until"))
                .transpose()?,
            number: row.document_number,
        },
        id: row.id,
        nationality: row.nationality,
        passport_number: row.passport_number,
        full_name: row.full_name,
        created_us: row.created_us,
        version: row.version,
    })
}

/// The store row of a declaration recorded by `declared_by`.
pub(super) fn declaration_to_row(declaration: &Declaration, declared_by: &str) -> DeclarationRow {
    DeclarationRow {
        id: declaration.id.clone(),
        foreigner_id: declaration.foreigner_id.clone(),
        host_name: declaration.host_name.clone(),
        commune_code: declaration.commune_code.clone(),
        address: declaration.address.clone(),
        arrival_us: declaration.arrival_us,
        planned_departure_us: declaration.planned_departure_us,
        end_us: declaration
            .checked_out_us
            .unwrap_or(declaration.planned_departure_us),
        remote_area: declaration.remote_area,
        received_us: declaration.received_us,
        late: declaration.late,
        checked_out_us: declaration.checked_out_us,
        declared_by: declared_by.to_owned(),
    }
}

fn declaration_from_row(row: DeclarationRow) -> Declaration {
    Declaration {
        id: row.id,
        foreigner_id: row.foreigner_id,
        host_name: row.host_name,
        commune_code: row.commune_code,
        address: row.address,
        arrival_us: row.arrival_us,
        planned_departure_us: row.planned_departure_us,
        remote_area: row.remote_area,
        received_us: row.received_us,
        late: row.late,
        checked_out_us: row.checked_out_us,
    }
}
