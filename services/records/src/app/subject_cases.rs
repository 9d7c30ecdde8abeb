//! Subject use cases: create (verified against identity), read, search within the
//! jurisdiction. Every call is audited through the outbox.

use super::identity::{Asker, PersonSnapshot};
use super::model::{DATE, NewSubject, PersonRef, Subject, class_from_row, subject_from_row};
use super::subjects::{actor, authorization, owning_area};
use super::{IdentityDirectory, RecordsError};
use crate::store::{RecordsStore, SubjectFilter, SubjectRow};
use dancu_audit_client::event::{Authorization, Touched, new_event_with};
use dancu_audit_client::{AuditOutbox, new_event};
use dancu_kit::call::CallContext;
use dancu_policy::{AccessRequest, Action, AreaPath, Authorizer, Decision, Resource};
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tonic::Code;

/// Service name in audit events.
pub(crate) const SERVICE: &str = "records";
/// Resource type of subjects in audit events.
pub(crate) const SUBJECT_RESOURCE: &str = "subject";
/// The class a caller may not see unless the policies allow it.
const SUSPICIOUS: &str = "suspicious_signs";

/// Subjects, classifications, timelines and movement alerts.
pub struct SubjectCases {
    pub(crate) store: RecordsStore,
    pub(crate) identity: IdentityDirectory,
    pub(crate) outbox: Arc<AuditOutbox>,
    pub(crate) policy: Arc<Authorizer>,
    /// Woken whenever the follower raises alerts.
    pub(crate) alerts: Arc<Notify>,
    /// Turns true when the service starts shutting down: open alert streams end.
    pub(crate) closing: watch::Receiver<bool>,
}

/// One page of a list.
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Key of the last item when more may follow.
    pub next: Option<String>,
}

/// The audit touch of a subject.
pub(crate) fn touched<'a>(subject: Option<&'a str>, id: Option<&'a str>) -> Touched<'a> {
    Touched {
        resource_type: SUBJECT_RESOURCE,
        subject,
        resource_id: id,
    }
}

impl SubjectCases {
    /// The use cases over `store`, verifying people with `identity`, auditing through
    /// `outbox`, deciding with `policy`; `alerts` is woken when alerts are raised; alert
    /// streams end when `closing` turns true.
    pub fn new(
        store: RecordsStore,
        identity: IdentityDirectory,
        outbox: Arc<AuditOutbox>,
        policy: Arc<Authorizer>,
        alerts: Arc<Notify>,
        closing: watch::Receiver<bool>,
    ) -> Self {
        Self {
            store,
            identity,
            outbox,
            policy,
            alerts,
            closing,
        }
    }

    /// The store (operators' checks and tests).
    pub fn store(&self) -> &RecordsStore {
        &self.store
    }

    /// The policy decision for `action` on a subject fact of `class` owned in `area`.
    pub(crate) fn decide(
        &self,
        ctx: &CallContext,
        action: Action,
        area: AreaPath,
        class: &str,
    ) -> Result<Decision, RecordsError> {
        let decision = self.policy.authorize(&AccessRequest {
            actor: actor(ctx),
            action,
            resource: Resource::SubjectRecord {
                owning_area: area,
                classification: class.to_owned(),
            },
            purpose: Some(ctx.purpose),
            case_reference: ctx.case_reference.clone(),
            break_glass_justification: ctx.break_glass_justification.clone(),
        })?;
        if decision.break_glass {
            tracing::warn!(rpc = ctx.rpc, policies = ?decision.policy_ids, "break-glass access to a subject");
        }
        Ok(decision)
    }

    /// Audits a call that ends with `outcome` and nothing written.
    pub async fn audit(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
        id: Option<&str>,
        outcome: Code,
    ) -> Result<(), RecordsError> {
        self.outbox
            .record(new_event(SERVICE, ctx, touched(subject, id), outcome))
            .await?;
        Ok(())
    }

    /// Audits a decided call.
    pub(crate) async fn audit_decided(
        &self,
        ctx: &CallContext,
        touched: Touched<'_>,
        outcome: Code,
        granted: &Authorization,
    ) -> Result<(), RecordsError> {
        self.outbox
            .record(new_event_with(SERVICE, ctx, touched, outcome, granted))
            .await?;
        Ok(())
    }

    /// Refuses, before any data is read, a purpose the caller's roles may not declare.
    pub(crate) async fn check_purpose(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
    ) -> Result<(), RecordsError> {
        if self.policy.check_purpose(&actor(ctx), ctx.purpose)?.allowed {
            return Ok(());
        }
        self.audit(ctx, subject, None, Code::PermissionDenied)
            .await?;
        Err(RecordsError::Denied)
    }

    /// The outcome code of an error, for its audit event.
    pub(crate) fn code_of(error: &RecordsError) -> Code {
        match error {
            RecordsError::PersonUnknown => Code::FailedPrecondition,
            RecordsError::IdentityDenied(status) => status.code(),
            RecordsError::Missing(_) | RecordsError::NotFound => Code::NotFound,
            RecordsError::Denied => Code::PermissionDenied,
            RecordsError::Invalid(_) => Code::InvalidArgument,
            RecordsError::AlreadySubject => Code::AlreadyExists,
            RecordsError::Policy(_) | RecordsError::Corrupt(_) | RecordsError::Storage(_) => {
                Code::Internal
            }
            RecordsError::IdentityUnavailable | RecordsError::AuditUnavailable => Code::Unavailable,
        }
    }

    /// Audits a failed create, then returns its error (or the audit's).
    async fn fail(
        &self,
        ctx: &CallContext,
        personal_id: Option<&str>,
        granted: &Authorization,
        error: RecordsError,
    ) -> RecordsError {
        match self
            .audit_decided(
                ctx,
                touched(personal_id, None),
                Self::code_of(&error),
                granted,
            )
            .await
        {
            Ok(()) => error,
            Err(audit) => audit,
        }
    }

    /// Creates a subject owned by the caller's unit once identity confirms the person.
    /// Any failure writes nothing but the audit event of the attempt.
    pub async fn create(
        &self,
        ctx: &CallContext,
        new: NewSubject,
    ) -> Result<Subject, RecordsError> {
        let personal_id = new.person.personal_id();
        self.check_purpose(ctx, personal_id).await?;
        let area = ctx.principal.area.clone().unwrap_or_default();
        let path = AreaPath::resolve(&area, dancu_domain::AreaTable::builtin());
        let decision = match path.clone() {
            Some(path) => Some(self.decide(ctx, Action::CreateSubjectRecord, path, "")?),
            None => None,
        };
        let granted = match &decision {
            Some(decision) => authorization(ctx, decision),
            None => Authorization {
                decision: Some(false),
                ..Authorization::default()
            },
        };
        let (Some(path), true) = (path, decision.is_some_and(|d| d.allowed)) else {
            self.audit_decided(
                ctx,
                touched(personal_id, None),
                Code::PermissionDenied,
                &granted,
            )
            .await?;
            return Err(RecordsError::Denied);
        };
        let key = new.person.key();
        if self
            .store
            .subject_of_person(&key, &ctx.principal.unit)
            .await?
            .is_some()
        {
            return Err(self
                .fail(ctx, personal_id, &granted, RecordsError::AlreadySubject)
                .await);
        }
        let looked_up = match &new.person {
            PersonRef::Citizen(id) => self.identity.snapshot(ctx, id).await,
            PersonRef::Foreigner {
                passport_number,
                nationality,
            } => {
                self.identity
                    .foreigner(&Asker::Caller(ctx), passport_number, nationality)
                    .await
            }
        };
        let snapshot: PersonSnapshot = match looked_up {
            Ok(snapshot) => snapshot,
            Err(error) => return Err(self.fail(ctx, personal_id, &granted, error).await),
        };
        let now = chrono::Utc::now().timestamp_micros();
        let province = path
            .codes()
            .iter()
            .rev()
            .nth(1)
            .cloned()
            .unwrap_or_else(|| path.code().to_owned());
        let (kind, passport, nationality) = match &new.person {
            PersonRef::Citizen(_) => ("citizen", String::new(), String::new()),
            PersonRef::Foreigner {
                passport_number,
                nationality,
            } => ("foreigner", passport_number.clone(), nationality.clone()),
        };
        let row = SubjectRow {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.to_owned(),
            person_key: key,
            personal_id: personal_id.unwrap_or_default().to_owned(),
            passport_number: passport,
            nationality,
            foreigner_id: snapshot.foreigner_id,
            snapshot_full_name: snapshot.full_name,
            snapshot_birth_date: snapshot.date_of_birth.format(DATE).to_string(),
            snapshot_commune: snapshot.commune,
            snapshot_life_status: snapshot.life_status.to_owned(),
            snapshot_refreshed_us: now,
            owning_unit: ctx.principal.unit.clone(),
            owning_area: area,
            owning_province: province,
            source_kind: new.source.kind.code().to_owned(),
            source_reference: new.source.reference.clone(),
            source_issuing_unit: new.source.issuing_unit.clone(),
            created_by: ctx.principal.id.clone(),
            created_us: now,
            updated_us: now,
        };
        let event = new_event_with(
            SERVICE,
            ctx,
            touched(personal_id, Some(&row.id)),
            Code::Ok,
            &granted,
        );
        let txn = self.store.begin().await?;
        if let Err(error) = self.store.insert_subject(&txn, row.clone()).await {
            drop(txn);
            // A concurrent create of the same person in the same unit.
            let raced = self
                .store
                .subject_of_person(&row.person_key, &row.owning_unit)
                .await?
                .is_some();
            if raced {
                return Err(self
                    .fail(ctx, personal_id, &granted, RecordsError::AlreadySubject)
                    .await);
            }
            return Err(error.into());
        }
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        subject_from_row(row, Vec::new())
    }

    /// Loads a subject the caller may `action`, auditing a refusal or absence. Returns the
    /// row and the decision.
    pub(crate) async fn authorized_subject(
        &self,
        ctx: &CallContext,
        id: &str,
        action: Action,
        class: &str,
    ) -> Result<(SubjectRow, Decision), RecordsError> {
        let Some(row) = self.store.subject(self.store.connection(), id).await? else {
            self.audit(ctx, None, Some(id), Code::NotFound).await?;
            return Err(RecordsError::Missing("subject"));
        };
        let decision = self.decide(ctx, action, owning_area(&row.owning_area), class)?;
        if !decision.allowed {
            self.audit_decided(
                ctx,
                touched(
                    Some(row.personal_id.as_str()).filter(|p| !p.is_empty()),
                    Some(id),
                ),
                Code::PermissionDenied,
                &authorization(ctx, &decision),
            )
            .await?;
            return Err(RecordsError::Denied);
        }
        Ok((row, decision))
    }

    /// Whether the caller may see suspicious-signs classes of subjects owned in `area`.
    fn sees_suspicious(&self, ctx: &CallContext, area: AreaPath) -> Result<bool, RecordsError> {
        Ok(self
            .policy
            .authorize(&AccessRequest {
                actor: actor(ctx),
                action: Action::ReadSubjectRecord,
                resource: Resource::SubjectRecord {
                    owning_area: area,
                    classification: SUSPICIOUS.to_owned(),
                },
                purpose: Some(ctx.purpose),
                case_reference: ctx.case_reference.clone(),
                break_glass_justification: ctx.break_glass_justification.clone(),
            })?
            .allowed)
    }

    /// The subjects of `rows` with the classes the caller may see.
    async fn assemble(
        &self,
        ctx: &CallContext,
        rows: Vec<SubjectRow>,
    ) -> Result<Vec<Subject>, RecordsError> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let today = dancu_kit::convert::today_in_vietnam();
        let mut classes = Vec::new();
        for row in self
            .store
            .classifications_of(self.store.connection(), &ids)
            .await?
        {
            classes.push(class_from_row(row, today)?);
        }
        let mut subjects = Vec::with_capacity(rows.len());
        for row in rows {
            let sees = self.sees_suspicious(ctx, owning_area(&row.owning_area))?;
            let own = classes
                .iter()
                .filter(|c| c.subject_id == row.id)
                .filter(|c| sees || c.classification.code() != SUSPICIOUS)
                .cloned()
                .collect();
            subjects.push(subject_from_row(row, own)?);
        }
        Ok(subjects)
    }

    /// Reads a subject; the read is audited before the answer leaves.
    pub async fn get(&self, ctx: &CallContext, id: &str) -> Result<Subject, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let (row, decision) = self
            .authorized_subject(ctx, id, Action::ReadSubjectRecord, "")
            .await?;
        let personal_id = row.personal_id.clone();
        let subject = self.assemble(ctx, vec![row]).await?.remove(0);
        self.audit_decided(
            ctx,
            touched(
                Some(personal_id.as_str()).filter(|p| !p.is_empty()),
                Some(id),
            ),
            Code::Ok,
            &authorization(ctx, &decision),
        )
        .await?;
        Ok(subject)
    }

    /// One page of the subjects inside the caller's jurisdiction matching `filter`.
    pub async fn list(
        &self,
        ctx: &CallContext,
        mut filter: SubjectFilter,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Page<Subject>, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let jurisdiction = actor(ctx).jurisdiction.unwrap_or_else(AreaPath::nation);
        let class = filter.classification.clone().unwrap_or_default();
        let decision = self.decide(ctx, Action::ReadSubjectRecord, jurisdiction.clone(), &class)?;
        let granted = authorization(ctx, &decision);
        if !decision.allowed || decision.break_glass {
            self.audit_decided(ctx, touched(None, None), Code::PermissionDenied, &granted)
                .await?;
            return Err(RecordsError::Denied);
        }
        match jurisdiction.codes().len() {
            1 => {}
            2 => filter.province = Some(jurisdiction.code().to_owned()),
            _ => filter.area = Some(jurisdiction.code().to_owned()),
        }
        if !self.sees_suspicious(ctx, jurisdiction)? {
            filter.hidden_classes.push(SUSPICIOUS.to_owned());
        }
        let rows = self.store.list_subjects(&filter, after, limit).await?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        let items = self.assemble(ctx, rows).await?;
        self.audit_decided(ctx, touched(None, None), Code::Ok, &granted)
            .await?;
        Ok(Page { items, next })
    }
}
