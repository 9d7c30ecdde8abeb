//! Subject records: one classification of one person, with its source.

use super::{IdentityDirectory, RecordsError};
use crate::store::{RecordsStore, SubjectRecordRow};
use chrono::NaiveDate;
use dancu_audit_client::event::{Authorization, Touched, new_event_with};
use dancu_audit_client::{AuditOutbox, new_event};
use dancu_domain::PersonalId;
use dancu_kit::call::CallContext;
use dancu_policy::{AccessRequest, Action, Actor, AreaPath, Authorizer, Decision, Resource};
use std::sync::Arc;
use tonic::Code;

/// Service name in audit events.
const SERVICE: &str = "records";
/// Resource type in audit events.
const RESOURCE: &str = "subject_record";
/// Resource type in audit events of records of the "suspicious signs" class (the audit
/// service raises an alert on every access to it).
const SUSPICIOUS_RESOURCE: &str = "subject_record/suspicious_signs";

/// The audit resource type of a record of `classification`.
fn resource_type(classification: Classification) -> &'static str {
    match classification {
        Classification::SuspiciousSigns => SUSPICIOUS_RESOURCE,
        _ => RESOURCE,
    }
}

/// Class of a subject (hệ thống quản lý đối tượng).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    /// Criminal (hình sự).
    Criminal,
    /// Drug-related (ma túy).
    DrugRelated,
    /// Prior conviction (tiền án).
    PriorConviction,
    /// Prior administrative violation (tiền sự).
    PriorViolation,
    /// Suspicious signs (có biểu hiện nghi vấn).
    SuspiciousSigns,
    /// Under community education (quản lý giáo dục tại cộng đồng).
    CommunityEducation,
    /// Post-rehabilitation supervision (quản lý sau cải tạo).
    PostRehabilitation,
    /// Released on bail (tại ngoại).
    Bail,
    /// Suspended sentence on probation (án treo).
    Probation,
}

impl Classification {
    /// Whether the class is a supervision regime: a subject under one at a time, whose
    /// movements raise alerts to the owning unit.
    pub fn is_supervision(self) -> bool {
        matches!(
            self,
            Self::CommunityEducation | Self::PostRehabilitation | Self::Bail | Self::Probation
        )
    }

    /// Storage code, e.g. `post_rehabilitation`.
    pub fn code(self) -> &'static str {
        code_of(&CLASSIFICATIONS, self)
    }

    /// The class of a storage code.
    pub fn from_code(code: &str) -> Option<Self> {
        from_code(&CLASSIFICATIONS, code)
    }
}

impl SourceKind {
    /// Storage code, e.g. `investigation`.
    pub fn code(self) -> &'static str {
        code_of(&SOURCE_KINDS, self)
    }

    /// The kind of a storage code.
    pub fn from_code(code: &str) -> Option<Self> {
        from_code(&SOURCE_KINDS, code)
    }
}

/// Kind of proceeding a fact comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// Investigation and prosecution (điều tra tố tụng).
    Investigation,
    /// Judgment enforcement (thi hành án).
    JudgmentEnforcement,
    /// Operational and reconnaissance work (nghiệp vụ, trinh sát).
    Operational,
    /// Administrative violation handling (xử lý vi phạm hành chính).
    AdministrativeViolation,
}

/// Storage codes of the enums, one table each so both directions stay in step.
const CLASSIFICATIONS: [(Classification, &str); 9] = [
    (Classification::Criminal, "criminal"),
    (Classification::DrugRelated, "drug_related"),
    (Classification::PriorConviction, "prior_conviction"),
    (Classification::PriorViolation, "prior_violation"),
    (Classification::SuspiciousSigns, "suspicious_signs"),
    (Classification::CommunityEducation, "community_education"),
    (Classification::PostRehabilitation, "post_rehabilitation"),
    (Classification::Bail, "bail"),
    (Classification::Probation, "probation"),
];
const SOURCE_KINDS: [(SourceKind, &str); 4] = [
    (SourceKind::Investigation, "investigation"),
    (SourceKind::JudgmentEnforcement, "judgment_enforcement"),
    (SourceKind::Operational, "operational"),
    (
        SourceKind::AdministrativeViolation,
        "administrative_violation",
    ),
];

pub(crate) fn code_of<T: PartialEq + Copy>(table: &[(T, &'static str)], value: T) -> &'static str {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, code)| *code)
        .expect("every variant is in its table")
}

pub(crate) fn from_code<T: Copy>(table: &[(T, &'static str)], code: &str) -> Option<T> {
    table.iter().find(|(_, c)| *c == code).map(|(v, _)| *v)
}

/// Where a fact came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// Kind of proceeding.
    pub kind: SourceKind,
    /// Decision or case number.
    pub reference: String,
    /// Issuing unit code.
    pub issuing_unit: String,
}

/// A validated request to record a subject.
#[derive(Clone, Debug)]
pub struct NewSubjectRecord {
    /// The person.
    pub personal_id: PersonalId,
    /// Their class.
    pub classification: Classification,
    /// The source.
    pub source: Source,
}

/// A stored subject record.
#[derive(Clone, Debug)]
pub struct SubjectRecord {
    /// Record id.
    pub id: String,
    /// The person.
    pub personal_id: PersonalId,
    /// Their class.
    pub classification: Classification,
    /// The source.
    pub source: Source,
    /// Name as identity held it at creation.
    pub snapshot_full_name: String,
    /// Date of birth as identity held it at creation.
    pub snapshot_date_of_birth: NaiveDate,
    /// Owning unit.
    pub owning_unit: String,
    /// Area code of the owning unit.
    pub owning_area: String,
    /// Creating officer.
    pub created_by: String,
    /// Creation time (Unix microseconds).
    pub created_us: i64,
}

/// The subject-record use cases.
pub struct SubjectRecords {
    store: RecordsStore,
    identity: IdentityDirectory,
    outbox: Arc<AuditOutbox>,
    policy: Arc<Authorizer>,
}

/// The policy actor of the caller: roles, unit and jurisdiction from the token.
pub(crate) fn actor(ctx: &CallContext) -> Actor {
    Actor {
        id: ctx.principal.id.clone(),
        roles: ctx.principal.roles.clone(),
        unit: ctx.principal.unit.clone(),
        jurisdiction: ctx
            .principal
            .area
            .as_deref()
            .and_then(|code| AreaPath::resolve(code, dancu_domain::AreaTable::builtin())),
        personal_id: None,
    }
}

/// How a policy decision is recorded in the audit event: allow/deny, the deciding policy
/// ids, and the justification when access was granted by break-glass.
pub(crate) fn authorization(ctx: &CallContext, decision: &Decision) -> Authorization {
    Authorization {
        decision: Some(decision.allowed),
        policy_ids: decision.policy_ids.clone(),
        break_glass: decision
            .break_glass
            .then(|| ctx.break_glass_justification.clone())
            .flatten(),
    }
}

/// The area path of a stored owning area; records without a known area are visible at
/// national level only.
pub(crate) fn owning_area(code: &str) -> AreaPath {
    AreaPath::resolve(code, dancu_domain::AreaTable::builtin()).unwrap_or_else(AreaPath::nation)
}

impl SubjectRecords {
    /// Use cases over `store`, checking people with `identity`, auditing via `outbox`,
    /// deciding access with `policy`.
    pub fn new(
        store: RecordsStore,
        identity: IdentityDirectory,
        outbox: Arc<AuditOutbox>,
        policy: Arc<Authorizer>,
    ) -> Self {
        Self {
            store,
            identity,
            outbox,
            policy,
        }
    }

    fn decide(
        &self,
        ctx: &CallContext,
        action: Action,
        area: AreaPath,
        classification: Classification,
    ) -> Result<Decision, RecordsError> {
        let decision = self.policy.authorize(&AccessRequest {
            actor: actor(ctx),
            action,
            resource: Resource::SubjectRecord {
                owning_area: area,
                classification: code_of(&CLASSIFICATIONS, classification).to_owned(),
            },
            purpose: Some(ctx.purpose),
            case_reference: ctx.case_reference.clone(),
            break_glass_justification: ctx.break_glass_justification.clone(),
        })?;
        if decision.break_glass {
            // Raised for review; the audit event of the call records the access.
            tracing::warn!(rpc = ctx.rpc, policies = ?decision.policy_ids, "break-glass access to a subject record");
        }
        Ok(decision)
    }

    /// Refuses, before any data is read, a purpose the caller's roles may not declare.
    async fn check_purpose(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
    ) -> Result<(), RecordsError> {
        let decision = self.policy.check_purpose(&actor(ctx), ctx.purpose)?;
        if decision.allowed {
            Ok(())
        } else {
            self.audit(ctx, subject, None, Code::PermissionDenied)
                .await?;
            Err(RecordsError::Denied)
        }
    }

    /// Creates a record once identity confirms the person exists. Any failure writes
    /// nothing but the audit event of the attempt.
    pub async fn create(
        &self,
        ctx: &CallContext,
        new: NewSubjectRecord,
    ) -> Result<SubjectRecord, RecordsError> {
        let subject = new.personal_id.as_str();
        self.check_purpose(ctx, Some(subject)).await?;
        let area = ctx.principal.area.clone().unwrap_or_default();
        // The record is owned by the caller's unit: an account without a jurisdiction
        // owns none.
        let (allowed, granted) = match AreaPath::resolve(&area, dancu_domain::AreaTable::builtin())
        {
            Some(path) => {
                let decision =
                    self.decide(ctx, Action::CreateSubjectRecord, path, new.classification)?;
                (decision.allowed, authorization(ctx, &decision))
            }
            None => (
                false,
                Authorization {
                    decision: Some(false),
                    ..Authorization::default()
                },
            ),
        };
        if !allowed {
            self.outbox
                .record(new_event_with(
                    SERVICE,
                    ctx,
                    touched(Some(subject), None),
                    Code::PermissionDenied,
                    &granted,
                ))
                .await?;
            return Err(RecordsError::Denied);
        }
        let snapshot = match self.identity.snapshot(ctx, &new.personal_id).await {
            Ok(snapshot) => snapshot,
            Err(error) => {
                let code = match &error {
                    RecordsError::PersonUnknown => Code::FailedPrecondition,
                    RecordsError::IdentityDenied(status) => status.code(),
                    _ => Code::Unavailable,
                };
                self.audit(ctx, Some(subject), None, code).await?;
                return Err(error);
            }
        };
        let record = SubjectRecord {
            id: uuid::Uuid::now_v7().to_string(),
            personal_id: new.personal_id.clone(),
            classification: new.classification,
            source: new.source,
            snapshot_full_name: snapshot.full_name,
            snapshot_date_of_birth: snapshot.date_of_birth,
            owning_unit: ctx.principal.unit.clone(),
            owning_area: area,
            created_by: ctx.principal.id.clone(),
            created_us: chrono::Utc::now().timestamp_micros(),
        };
        let event = new_event_with(
            SERVICE,
            ctx,
            Touched {
                resource_type: resource_type(record.classification),
                ..touched(Some(subject), Some(&record.id))
            },
            Code::Ok,
            &granted,
        );
        let txn = self.store.begin().await?;
        self.store.insert(&txn, to_row(&record)).await?;
        self.outbox.stage(&txn, &event).await?;
        txn.commit().await?;
        self.outbox.ship(vec![event]).await;
        Ok(record)
    }

    /// Reads a record; the read is audited before the answer leaves.
    pub async fn get(&self, ctx: &CallContext, id: &str) -> Result<SubjectRecord, RecordsError> {
        self.check_purpose(ctx, None).await?;
        let Some(row) = self.store.get(id).await? else {
            self.audit(ctx, None, Some(id), Code::NotFound).await?;
            return Err(RecordsError::NotFound);
        };
        let personal_id = row.personal_id.clone();
        let record = match from_row(row) {
            Ok(record) => record,
            Err(error) => {
                // Still audited before the answer leaves, as any other read.
                self.audit(ctx, Some(&personal_id), Some(id), Code::Internal)
                    .await?;
                return Err(error);
            }
        };
        let decision = self.decide(
            ctx,
            Action::ReadSubjectRecord,
            owning_area(&record.owning_area),
            record.classification,
        )?;
        let touched = Touched {
            resource_type: resource_type(record.classification),
            ..touched(Some(record.personal_id.as_str()), Some(id))
        };
        let outcome = if decision.allowed {
            Code::Ok
        } else {
            Code::PermissionDenied
        };
        self.outbox
            .record(new_event_with(
                SERVICE,
                ctx,
                touched,
                outcome,
                &authorization(ctx, &decision),
            ))
            .await?;
        if !decision.allowed {
            return Err(RecordsError::Denied);
        }
        Ok(record)
    }

    /// Audits a call that ended before reaching the records (e.g. invalid input).
    pub async fn audit(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
        record_id: Option<&str>,
        outcome: Code,
    ) -> Result<(), RecordsError> {
        self.outbox
            .record(new_event(
                SERVICE,
                ctx,
                touched(subject, record_id),
                outcome,
            ))
            .await?;
        Ok(())
    }
}

fn touched<'a>(subject: Option<&'a str>, record_id: Option<&'a str>) -> Touched<'a> {
    Touched {
        resource_type: RESOURCE,
        subject,
        resource_id: record_id,
    }
}

fn to_row(record: &SubjectRecord) -> SubjectRecordRow {
    SubjectRecordRow {
        id: record.id.clone(),
        personal_id: record.personal_id.as_str().to_owned(),
        classification: code_of(&CLASSIFICATIONS, record.classification).to_owned(),
        source_kind: code_of(&SOURCE_KINDS, record.source.kind).to_owned(),
        source_reference: record.source.reference.clone(),
        source_issuing_unit: record.source.issuing_unit.clone(),
        snapshot_full_name: record.snapshot_full_name.clone(),
        snapshot_birth_date: record.snapshot_date_of_birth.format("%Y-%m-%d").to_string(),
        owning_unit: record.owning_unit.clone(),
        owning_area: record.owning_area.clone(),
        created_by: record.created_by.clone(),
        created_us: record.created_us,
    }
}

fn from_row(row: SubjectRecordRow) -> Result<SubjectRecord, RecordsError> {
    Ok(SubjectRecord {
        personal_id: PersonalId::parse(&row.personal_id)
            .map_err(|_| RecordsError::Corrupt("personal_id"))?,
        classification: from_code(&CLASSIFICATIONS, &row.classification)
            .ok_or(RecordsError::Corrupt("classification"))?,
        source: Source {
            kind: from_code(&SOURCE_KINDS, &row.source_kind)
                .ok_or(RecordsError::Corrupt("source_kind"))?,
            reference: row.source_reference,
            issuing_unit: row.source_issuing_unit,
        },
        snapshot_date_of_birth: NaiveDate::parse_from_str(&row.snapshot_birth_date, "%Y-%m-%d")
            .map_err(|_| RecordsError::Corrupt("snapshot_birth_date"))?,
        id: row.id,
        snapshot_full_name: row.snapshot_full_name,
        owning_unit: row.owning_unit,
        owning_area: row.owning_area,
        created_by: row.created_by,
        created_us: row.created_us,
    })
}
