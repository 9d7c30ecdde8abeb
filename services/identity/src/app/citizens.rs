//! The citizen register: registration and lookup, each audited.

use super::IdentityError;
use crate::store::{CitizenRow, IdentityStore, InsertError};
use chrono::NaiveDate;
use dancu_audit_client::event::Touched;
use dancu_audit_client::{AuditOutbox, new_event};
use dancu_domain::{PersonalId, Sex};
use dancu_kit::call::CallContext;
use std::sync::Arc;
use tonic::Code;

/// Service name in audit events.
const SERVICE: &str = "identity";
/// Resource type in audit events.
const RESOURCE: &str = "citizen";

/// A validated citizen.
#[derive(Clone, Debug)]
pub struct Citizen {
    /// Personal identification number.
    pub personal_id: PersonalId,
    /// Full name, NFC-normalised.
    pub full_name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Place of birth, free text.
    pub place_of_birth: String,
    /// Registration time (Unix microseconds); set by the register.
    pub created_us: i64,
    /// Version, for the etag; set by the register.
    pub version: i64,
}

/// The citizen register.
pub struct Citizens {
    store: IdentityStore,
    outbox: Arc<AuditOutbox>,
}

impl Citizens {
    /// The register over `store`, auditing through `outbox`.
    pub fn new(store: IdentityStore, outbox: Arc<AuditOutbox>) -> Self {
        Self { store, outbox }
    }

    /// Registers a citizen; the registration and its audit event commit together.
    pub async fn register(
        &self,
        ctx: &CallContext,
        mut citizen: Citizen,
    ) -> Result<Citizen, IdentityError> {
        citizen.created_us = chrono::Utc::now().timestamp_micros();
        citizen.version = 1;
        let subject = citizen.personal_id.as_str();
        let txn = self.store.begin().await?;
        match self
            .store
            .insert_citizen(&txn, to_row(&citizen, &ctx.principal.id))
            .await
        {
            Ok(()) => {}
            Err(InsertError::Duplicate) => {
                txn.rollback().await?;
                self.audit(ctx, Some(subject), Code::AlreadyExists).await?;
                return Err(IdentityError::AlreadyExists);
            }
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
        let event = new_event(SERVICE, ctx, touched(Some(subject)), Code::Ok);
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        Ok(citizen)
    }

    /// Looks a citizen up; the lookup is audited (found or not) before the answer leaves.
    pub async fn get(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<Citizen, IdentityError> {
        let row = self.store.citizen(personal_id.as_str()).await?;
        let outcome = if row.is_some() {
            Code::Ok
        } else {
            Code::NotFound
        };
        self.audit(ctx, Some(personal_id.as_str()), outcome).await?;
        from_row(row.ok_or(IdentityError::NotFound)?)
    }

    /// Audits a call that ended before reaching the register (e.g. invalid input).
    pub async fn audit(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
        outcome: Code,
    ) -> Result<(), IdentityError> {
        self.outbox
            .record(new_event(SERVICE, ctx, touched(subject), outcome))
            .await?;
        Ok(())
    }
}

fn touched(subject: Option<&str>) -> Touched<'_> {
    Touched {
        resource_type: RESOURCE,
        subject,
        resource_id: None,
    }
}

fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

fn to_row(citizen: &Citizen, created_by: &str) -> CitizenRow {
    CitizenRow {
        personal_id: citizen.personal_id.as_str().to_owned(),
        full_name: citizen.full_name.clone(),
        name_key: dancu_domain::name_search_key(&citizen.full_name),
        sex: sex_code(citizen.sex).to_owned(),
        birth_date: citizen.date_of_birth.format("%Y-%m-%d").to_string(),
        place_of_birth: citizen.place_of_birth.clone(),
        created_by: created_by.to_owned(),
        created_us: citizen.created_us,
        version: citizen.version,
    }
}

fn from_row(row: CitizenRow) -> Result<Citizen, IdentityError> {
    Ok(Citizen {
        personal_id: PersonalId::parse(&row.personal_id)
            .map_err(|_| IdentityError::Corrupt("personal_id"))?,
        sex: match row.sex.as_str() {
            "male" => Sex::Male,
            "female" => Sex::Female,
            _ => return Err(IdentityError::Corrupt("sex")),
        },
        date_of_birth: NaiveDate::parse_from_str(&row.birth_date, "%Y-%m-%d")
            .map_err(|_| IdentityError::Corrupt("birth_date"))?,
        full_name: row.full_name,
        place_of_birth: row.place_of_birth,
        created_us: row.created_us,
        version: row.version,
    })
}
