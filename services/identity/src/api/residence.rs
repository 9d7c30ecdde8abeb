//! `dancu.identity.v1.ResidenceService`: residence and movement.

use super::citizen_input::partial_date;
use super::{next_token, numeric_paging};
use crate::app::PurposeGuard;
use crate::app::{Declaration, Residences, today};
use crate::store::ResidenceEventRow;
use chrono::NaiveDate;
use dancu_domain::{PersonalId, ResidenceKind, Supervision};
use dancu_kit::call::CallContext;
use dancu_kit::convert::{date_to_proto, timestamp_from_us};
use dancu_kit::error::{FieldViolations, invalid_field};
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::residence_service_server::ResidenceService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Longest address, host name or destination, in characters.
const MAX_TEXT_CHARS: usize = 200;

/// Implements `dancu.identity.v1.ResidenceService`.
pub struct ResidenceApi {
    residences: Arc<Residences>,
    guard: Arc<PurposeGuard>,
}

impl ResidenceApi {
    /// The API over residence registration.
    pub fn new(residences: Arc<Residences>, guard: Arc<PurposeGuard>) -> Self {
        Self { residences, guard }
    }

    async fn reject(&self, ctx: &CallContext, subject: Option<&str>, status: Status) -> Status {
        match self.residences.audit(ctx, subject, status.code()).await {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }

    async fn personal_id(&self, ctx: &CallContext, text: &str) -> Result<PersonalId, Status> {
        match PersonalId::parse(text.trim()) {
            Ok(id) => Ok(id),
            Err(e) => Err(self
                .reject(ctx, None, invalid_field("personal_id", e.to_string()))
                .await),
        }
    }
}

#[tonic::async_trait]
impl ResidenceService for ResidenceApi {
    async fn declare_residence(
        &self,
        request: Request<pb::DeclareResidenceRequest>,
    ) -> Result<Response<pb::ResidenceEvent>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.ResidenceService/DeclareResidence",
        )?;
        self.guard.check(&ctx, "residence").await?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let declaration = validate(&request, &mut violations);
        let subject = PersonalId::parse(request.personal_id.trim()).ok();
        let subject = subject.as_ref().map(PersonalId::as_str);
        let declaration = match (violations.check(), declaration) {
            (Ok(()), Some(d)) => d,
            (Err(status), _) => return Err(self.reject(&ctx, subject, status).await),
            (Ok(()), None) => return Err(Status::internal("validation incomplete")),
        };
        let event = self.residences.declare(&ctx, declaration).await?;
        Ok(Response::new(encode_event(event)))
    }

    async fn get_residence(
        &self,
        request: Request<pb::GetResidenceRequest>,
    ) -> Result<Response<pb::Residence>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.ResidenceService/GetResidence",
        )?;
        self.guard.check(&ctx, "residence").await?;
        let personal_id = self
            .personal_id(&ctx, &request.get_ref().personal_id)
            .await?;
        let now = self.residences.current(&ctx, &personal_id).await?;
        let current = now
            .temporary
            .as_ref()
            .or(now.permanent.as_ref())
            .map(|e| e.commune_code.clone())
            .unwrap_or_default();
        Ok(Response::new(pb::Residence {
            personal_id: personal_id.as_str().to_owned(),
            permanent: now.permanent.map(encode_event),
            temporary: now.temporary.map(encode_event),
            absence: now.absence.map(encode_event),
            stays: now.stays.into_iter().map(encode_event).collect(),
            current_commune_code: current,
        }))
    }

    async fn list_residence_events(
        &self,
        request: Request<pb::ListResidenceEventsRequest>,
    ) -> Result<Response<pb::ListResidenceEventsResponse>, Status> {
        let ctx = CallContext::from_request(
            &request,
            "/dancu.identity.v1.ResidenceService/ListResidenceEvents",
        )?;
        self.guard.check(&ctx, "residence").await?;
        let request = request.into_inner();
        let personal_id = self.personal_id(&ctx, &request.personal_id).await?;
        let mut violations = FieldViolations::new();
        let (size, after_seq) = numeric_paging(
            "residence",
            request.page_size,
            100,
            &request.page_token,
            &mut violations,
        );
        if let Err(status) = violations.check() {
            return Err(self.reject(&ctx, Some(personal_id.as_str()), status).await);
        }
        let events = self
            .residences
            .history(&ctx, &personal_id, after_seq, size)
            .await?;
        let next = next_token(
            "residence",
            events.len(),
            size,
            events.last().map(|e| e.seq.to_string()),
        );
        Ok(Response::new(pb::ListResidenceEventsResponse {
            events: events.into_iter().map(encode_event).collect(),
            next_page_token: next,
        }))
    }
}

fn full_date(
    date: &Option<common::Date>,
    field: &str,
    v: &mut FieldViolations,
) -> Option<NaiveDate> {
    let date = date.as_ref()?;
    match partial_date(date) {
        Ok(d) if d.is_complete() => Some(d.earliest()),
        Ok(_) => {
            v.add(field, "must be a full date (year, month and day)");
            None
        }
        Err(e) => {
            v.add(field, e);
            None
        }
    }
}

fn validate(r: &pb::DeclareResidenceRequest, v: &mut FieldViolations) -> Option<Declaration> {
    let personal_id = PersonalId::parse(r.personal_id.trim())
        .map_err(|e| v.add("personal_id", e.to_string()))
        .ok();
    let kind = match pb::ResidenceKind::try_from(r.kind) {
        Ok(pb::ResidenceKind::Permanent) => Some(ResidenceKind::Permanent),
        Ok(pb::ResidenceKind::Temporary) => Some(ResidenceKind::Temporary),
        Ok(pb::ResidenceKind::Stay) => Some(ResidenceKind::Stay),
        Ok(pb::ResidenceKind::Absence) => Some(ResidenceKind::Absence),
        _ => {
            v.add(
                "kind",
                "is required (PERMANENT, TEMPORARY, STAY or ABSENCE)",
            );
            None
        }
    };
    let commune = r.commune_code.trim().to_owned();
    let absence = kind == Some(ResidenceKind::Absence);
    if commune.is_empty() && !absence {
        v.add("commune_code", "is required");
    } else if !commune.is_empty()
        && dancu_domain::AreaTable::builtin()
            .commune(&commune)
            .is_none()
    {
        v.add("commune_code", "is not a known commune code");
    }
    let mut text = |field: &str, value: &str, required: bool| {
        let value = value.trim();
        if required && value.is_empty() {
            v.add(field, "is required");
        } else if value.chars().count() > MAX_TEXT_CHARS {
            v.add(
                field,
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            );
        }
        value.to_owned()
    };
    let address = text("address", &r.address, !absence);
    let host_name = text("host_name", &r.host_name, kind == Some(ResidenceKind::Stay));
    let destination = text("destination", &r.destination, false);
    let today = today();
    let start = full_date(&r.start_date, "start_date", v);
    let start_given = r.start_date.is_some();
    let start = start.or((!start_given).then_some(today));
    if let (Some(start), Some(ResidenceKind::Permanent | ResidenceKind::Temporary)) = (start, kind)
        && start > today
    {
        v.add(
            "start_date",
            "must not be in the future for residence registration",
        );
    }
    let end = full_date(&r.end_date, "end_date", v);
    let supervision = match pb::Supervision::try_from(r.supervision) {
        Ok(pb::Supervision::Unspecified | pb::Supervision::None) => Supervision::None,
        Ok(pb::Supervision::Bail) => Supervision::Bail,
        Ok(pb::Supervision::SuspendedSentence) => Supervision::SuspendedSentence,
        Ok(pb::Supervision::Probation) => Supervision::Probation,
        Ok(pb::Supervision::NonCustodialReform) => Supervision::NonCustodialReform,
        Ok(pb::Supervision::ConditionalRelease) => Supervision::ConditionalRelease,
        Ok(pb::Supervision::EducationalMeasure) => Supervision::EducationalMeasure,
        Ok(pb::Supervision::DrugRehabilitation) => Supervision::DrugRehabilitation,
        Err(_) => {
            v.add("supervision", "is not a known supervision");
            Supervision::None
        }
    };
    if let (Some(kind), Some(start)) = (kind, start)
        && let Err(e) = dancu_domain::residence::check_period(kind, start, end)
    {
        v.add("end_date", e.to_string());
    }
    Some(Declaration {
        personal_id: personal_id?,
        kind: kind?,
        commune,
        address,
        start: start?,
        end,
        host_name,
        supervision,
        destination,
    })
}

fn date_text_to_proto(text: &str) -> Option<common::Date> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(date_to_proto)
}

/// Encodes a stored residence event for the wire.
fn encode_event(e: ResidenceEventRow) -> pb::ResidenceEvent {
    let kind = match ResidenceKind::parse(&e.kind) {
        Some(ResidenceKind::Permanent) => pb::ResidenceKind::Permanent,
        Some(ResidenceKind::Temporary) => pb::ResidenceKind::Temporary,
        Some(ResidenceKind::Stay) => pb::ResidenceKind::Stay,
        Some(ResidenceKind::Absence) => pb::ResidenceKind::Absence,
        None => pb::ResidenceKind::Unspecified,
    };
    let supervision = match Supervision::parse(&e.supervision) {
        Some(Supervision::None) | None => pb::Supervision::None,
        Some(Supervision::Bail) => pb::Supervision::Bail,
        Some(Supervision::SuspendedSentence) => pb::Supervision::SuspendedSentence,
        Some(Supervision::Probation) => pb::Supervision::Probation,
        Some(Supervision::NonCustodialReform) => pb::Supervision::NonCustodialReform,
        Some(Supervision::ConditionalRelease) => pb::Supervision::ConditionalRelease,
        Some(Supervision::EducationalMeasure) => pb::Supervision::EducationalMeasure,
        Some(Supervision::DrugRehabilitation) => pb::Supervision::DrugRehabilitation,
    };
    pb::ResidenceEvent {
        event_id: e.event_id,
        personal_id: e.personal_id,
        kind: kind as i32,
        commune_code: e.commune_code,
        province_code: e.province_code,
        address: e.address,
        start_date: date_text_to_proto(&e.start_date),
        end_date: date_text_to_proto(&e.end_date),
        host_name: e.host_name,
        supervision: supervision as i32,
        destination: e.destination,
        mandatory: e.mandatory,
        record_time: Some(timestamp_from_us(e.recorded_us)),
        recorded_by: e.recorded_by,
    }
}
