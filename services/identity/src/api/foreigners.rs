//! `dancu.identity.v1.ForeignerService`: foreign nationals and accommodation declarations.

use super::register_errors::check;
use crate::app::PurposeGuard;
use crate::app::{
    Accommodation as Declaration, EntryDocument, Foreigner, Foreigners, Page, ResourceKind,
};
use crate::store::ForeignerFilter;
use chrono::NaiveDate;
use dancu_domain::foreigner::{
    EntryDocumentKind, StayError, check_stay, normalize_nationality, normalize_passport_number,
};
use dancu_domain::{AreaTable, normalize_full_name, validate_birth_date};
use dancu_kit::call::CallContext;
use dancu_kit::convert::{
    date_from_proto, date_to_proto, sex_from_proto, sex_to_proto, timestamp_from_us,
    timestamp_to_us,
};
use dancu_kit::error::FieldViolations;
use dancu_kit::paging::encode_token;
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::foreigner_service_server::ForeignerService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Default page size of the foreigner lists.
const DEFAULT_PAGE_SIZE: u64 = 50;

/// Longest host or establishment name.
const MAX_HOST_CHARS: usize = 200;
/// Longest accommodation address.
const MAX_ADDRESS_CHARS: usize = 300;
/// Longest entry document number.
const MAX_DOCUMENT_CHARS: usize = 32;

const REGISTER: &str = "/dancu.identity.v1.ForeignerService/RegisterForeigner";
const GET: &str = "/dancu.identity.v1.ForeignerService/GetForeigner";
const LIST: &str = "/dancu.identity.v1.ForeignerService/ListForeigners";
const DECLARE: &str = "/dancu.identity.v1.ForeignerService/DeclareAccommodation";
const CHECK_OUT: &str = "/dancu.identity.v1.ForeignerService/CheckOutAccommodation";
const STAYS: &str = "/dancu.identity.v1.ForeignerService/ListCurrentStays";

/// Implements `dancu.identity.v1.ForeignerService`.
pub struct ForeignerApi {
    foreigners: Arc<Foreigners>,
    guard: Arc<PurposeGuard>,
}

impl ForeignerApi {
    /// The API over the foreigner register.
    pub fn new(foreigners: Arc<Foreigners>, guard: Arc<PurposeGuard>) -> Self {
        Self { foreigners, guard }
    }

    /// Returns the validated value, or audits the rejection and returns its status.
    async fn valid<T>(
        &self,
        ctx: &CallContext,
        kind: ResourceKind,
        validated: Result<T, Status>,
    ) -> Result<T, Status> {
        match validated {
            Ok(value) => Ok(value),
            Err(status) => match self.foreigners.audit_rejected(ctx, kind).await {
                Ok(()) => Err(status),
                Err(e) => Err(e.into()),
            },
        }
    }
}

#[tonic::async_trait]
impl ForeignerService for ForeignerApi {
    async fn register_foreigner(
        &self,
        request: Request<pb::RegisterForeignerRequest>,
    ) -> Result<Response<pb::Foreigner>, Status> {
        let ctx = CallContext::from_request(&request, REGISTER)?;
        self.guard.check(&ctx, "foreigner").await?;
        let validated = validate_foreigner(request.into_inner().foreigner);
        let foreigner = self.valid(&ctx, ResourceKind::Foreigner, validated).await?;
        let foreigner = self.foreigners.register(&ctx, foreigner).await?;
        Ok(Response::new(foreigner_to_proto(foreigner)))
    }

    async fn get_foreigner(
        &self,
        request: Request<pb::GetForeignerRequest>,
    ) -> Result<Response<pb::Foreigner>, Status> {
        let ctx = CallContext::from_request(&request, GET)?;
        self.guard.check(&ctx, "foreigner").await?;
        let mut violations = FieldViolations::new();
        let id = check::id("id", &request.get_ref().id, &mut violations);
        let validated = violations.check().map(|()| id.unwrap_or_default());
        let id = self.valid(&ctx, ResourceKind::Foreigner, validated).await?;
        let foreigner = self.foreigners.get(&ctx, &id).await?;
        Ok(Response::new(foreigner_to_proto(foreigner)))
    }

    async fn list_foreigners(
        &self,
        request: Request<pb::ListForeignersRequest>,
    ) -> Result<Response<pb::ListForeignersResponse>, Status> {
        let ctx = CallContext::from_request(&request, LIST)?;
        self.guard.check(&ctx, "foreigner").await?;
        let r = request.get_ref();
        let mut violations = FieldViolations::new();
        let nationality = (!r.nationality.trim().is_empty())
            .then(|| {
                normalize_nationality(&r.nationality)
                    .map_err(|e| violations.add("nationality", e.to_string()))
                    .ok()
            })
            .flatten();
        let passport_number = (!r.passport_number.trim().is_empty())
            .then(|| {
                normalize_passport_number(&r.passport_number)
                    .map_err(|e| violations.add("passport_number", e.to_string()))
                    .ok()
            })
            .flatten();
        let (page_size, after_id) = super::paging(
            "foreigners",
            r.page_size,
            DEFAULT_PAGE_SIZE,
            &r.page_token,
            &mut violations,
        );
        let validated = violations.check().map(|()| ForeignerFilter {
            nationality,
            passport_number,
            after_id,
        });
        let filter = self.valid(&ctx, ResourceKind::Foreigner, validated).await?;
        let page = self.foreigners.list(&ctx, filter, page_size).await?;
        let Page { items, next_after } = page;
        Ok(Response::new(pb::ListForeignersResponse {
            foreigners: items.into_iter().map(foreigner_to_proto).collect(),
            next_page_token: next_after
                .map(|id| encode_token("foreigners", &id))
                .unwrap_or_default(),
        }))
    }

    async fn declare_accommodation(
        &self,
        request: Request<pb::DeclareAccommodationRequest>,
    ) -> Result<Response<pb::AccommodationDeclaration>, Status> {
        let ctx = CallContext::from_request(&request, DECLARE)?;
        self.guard.check(&ctx, "foreigner").await?;
        let validated = validate_declaration(request.into_inner().declaration);
        let declaration = self
            .valid(&ctx, ResourceKind::Declaration, validated)
            .await?;
        let declaration = self.foreigners.declare(&ctx, declaration).await?;
        Ok(Response::new(declaration_to_proto(declaration)))
    }

    async fn check_out_accommodation(
        &self,
        request: Request<pb::CheckOutAccommodationRequest>,
    ) -> Result<Response<pb::AccommodationDeclaration>, Status> {
        let ctx = CallContext::from_request(&request, CHECK_OUT)?;
        self.guard.check(&ctx, "foreigner").await?;
        let r = request.get_ref();
        let mut violations = FieldViolations::new();
        let id = check::id("declaration_id", &r.declaration_id, &mut violations);
        let at_us = r.check_out_time.as_ref().and_then(|t| {
            let us = timestamp_to_us(t);
            if us.is_none() {
                violations.add("check_out_time", "is not a valid timestamp");
            }
            us
        });
        let validated = violations.check().map(|()| id.unwrap_or_default());
        let id = self
            .valid(&ctx, ResourceKind::Declaration, validated)
            .await?;
        let declaration = self.foreigners.check_out(&ctx, &id, at_us).await?;
        Ok(Response::new(declaration_to_proto(declaration)))
    }

    async fn list_current_stays(
        &self,
        request: Request<pb::ListCurrentStaysRequest>,
    ) -> Result<Response<pb::ListCurrentStaysResponse>, Status> {
        let ctx = CallContext::from_request(&request, STAYS)?;
        self.guard.check(&ctx, "foreigner").await?;
        let r = request.get_ref();
        let mut violations = FieldViolations::new();
        let commune = commune_code("commune_code", &r.commune_code, &mut violations);
        let (page_size, after_id) = super::paging(
            "stays",
            r.page_size,
            DEFAULT_PAGE_SIZE,
            &r.page_token,
            &mut violations,
        );
        let validated = violations.check().map(|()| commune.unwrap_or_default());
        let commune = self.valid(&ctx, ResourceKind::Stays, validated).await?;
        let page = self
            .foreigners
            .current_stays(&ctx, &commune, after_id, page_size)
            .await?;
        Ok(Response::new(pb::ListCurrentStaysResponse {
            stays: page
                .items
                .into_iter()
                .map(|(foreigner, declaration)| pb::CurrentStay {
                    foreigner: Some(foreigner_to_proto(foreigner)),
                    declaration: Some(declaration_to_proto(declaration)),
                })
                .collect(),
            next_page_token: page
                .next_after
                .map(|id| encode_token("stays", &id))
                .unwrap_or_default(),
        }))
    }
}

/// A commune code known to the area table.
fn commune_code(field: &str, raw: &str, violations: &mut FieldViolations) -> Option<String> {
    let code = raw.trim();
    if code.is_empty() {
        violations.add(field, "is required");
        return None;
    }
    match AreaTable::builtin().commune(code) {
        Some(commune) => Some(commune.code.clone()),
        None => {
            violations.add(field, "is not a known commune code");
            None
        }
    }
}

/// A required, real calendar date.
fn required_date(
    field: &str,
    date: Option<&common::Date>,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    match date {
        None => {
            violations.add(field, "is required");
            None
        }
        Some(date) => {
            let parsed = date_from_proto(date);
            if parsed.is_none() {
                violations.add(field, "is not a real calendar date");
            }
            parsed
        }
    }
}

/// A required, representable timestamp (Unix microseconds).
fn required_time(
    field: &str,
    time: Option<&prost_types::Timestamp>,
    violations: &mut FieldViolations,
) -> Option<i64> {
    match time {
        None => {
            violations.add(field, "is required");
            None
        }
        Some(time) => {
            let us = timestamp_to_us(time);
            if us.is_none() {
                violations.add(field, "is not a valid timestamp");
            }
            us
        }
    }
}

/// Validates every field of a foreigner to register, reporting all violations at once.
fn validate_foreigner(foreigner: Option<pb::Foreigner>) -> Result<Foreigner, Status> {
    let Some(f) = foreigner else {
        return Err(dancu_kit::error::invalid_field("foreigner", "is required"));
    };
    let mut v = FieldViolations::new();
    let passport_number = normalize_passport_number(&f.passport_number)
        .map_err(|e| v.add("foreigner.passport_number", e.to_string()))
        .ok();
    let nationality = normalize_nationality(&f.nationality)
        .map_err(|e| v.add("foreigner.nationality", e.to_string()))
        .ok();
    let full_name = normalize_full_name(&f.full_name)
        .map_err(|e| v.add("foreigner.full_name", e.to_string()))
        .ok();
    let sex = sex_from_proto(f.sex);
    if sex.is_none() {
        v.add("foreigner.sex", "is required (SEX_MALE or SEX_FEMALE)");
    }
    let today = chrono::Utc::now().date_naive();
    let date_of_birth = required_date("foreigner.date_of_birth", f.date_of_birth.as_ref(), &mut v)
        .and_then(|date| {
            validate_birth_date(date, today)
                .map(|()| date)
                .map_err(|e| v.add("foreigner.date_of_birth", e.to_string()))
                .ok()
        });
    let document = validate_document(f.entry_document, &mut v);
    v.check()?;
    match (
        passport_number,
        nationality,
        full_name,
        sex,
        date_of_birth,
        document,
    ) {
        (
            Some(passport_number),
            Some(nationality),
            Some(full_name),
            Some(sex),
            Some(dob),
            Some(document),
        ) => Ok(Foreigner {
            id: String::new(),
            nationality,
            passport_number,
            full_name,
            sex,
            date_of_birth: dob,
            document,
            created_us: 0,
            version: 0,
        }),
        _ => Err(Status::internal("validation incomplete")),
    }
}

fn validate_document(
    document: Option<pb::EntryDocument>,
    v: &mut FieldViolations,
) -> Option<EntryDocument> {
    const FIELD: &str = "foreigner.entry_document";
    let Some(d) = document else {
        v.add(FIELD, "is required (visa or residence card)");
        return None;
    };
    let kind = match pb::EntryDocumentType::try_from(d.r#type) {
        Ok(pb::EntryDocumentType::Visa) => Some(EntryDocumentKind::Visa),
        Ok(pb::EntryDocumentType::TemporaryResidenceCard) => {
            Some(EntryDocumentKind::TemporaryResidenceCard)
        }
        Ok(pb::EntryDocumentType::PermanentResidenceCard) => {
            Some(EntryDocumentKind::PermanentResidenceCard)
        }
        Ok(pb::EntryDocumentType::Unspecified) | Err(_) => {
            v.add(
                "foreigner.entry_document.type",
                "is required (visa, temporary or permanent residence card)",
            );
            None
        }
    };
    let number = d.number.trim().to_ascii_uppercase();
    if number.is_empty() {
        v.add("foreigner.entry_document.number", "is required");
    } else if number.len() > MAX_DOCUMENT_CHARS
        || !number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
    {
        v.add(
            "foreigner.entry_document.number",
            "must be 1 to 32 letters, digits, '-' or '/'",
        );
    }
    let valid_from = required_date(
        "foreigner.entry_document.valid_from",
        d.valid_from.as_ref(),
        v,
    );
    let valid_until = match (&d.valid_until, kind) {
        (None, Some(EntryDocumentKind::PermanentResidenceCard)) => None,
        (until, _) => required_date("foreigner.entry_document.valid_until", until.as_ref(), v),
    };
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        v.add(
            "foreigner.entry_document.valid_until",
            "must not be before valid_from",
        );
    }
    Some(EntryDocument {
        kind: kind?,
        number,
        valid_from: valid_from?,
        valid_until,
    })
}

/// Validates every field of a declaration, reporting all violations at once.
fn validate_declaration(
    declaration: Option<pb::AccommodationDeclaration>,
) -> Result<Declaration, Status> {
    let Some(d) = declaration else {
        return Err(dancu_kit::error::invalid_field(
            "declaration",
            "is required",
        ));
    };
    let mut v = FieldViolations::new();
    let foreigner_id = check::id("declaration.foreigner_id", &d.foreigner_id, &mut v);
    let host_name = check::text(
        "declaration.host_name",
        &d.host_name,
        MAX_HOST_CHARS,
        true,
        &mut v,
    );
    let commune_code = commune_code("declaration.commune_code", &d.commune_code, &mut v);
    let address = check::text(
        "declaration.address",
        &d.address,
        MAX_ADDRESS_CHARS,
        true,
        &mut v,
    );
    let arrival = required_time("declaration.arrival_time", d.arrival_time.as_ref(), &mut v);
    let departure = required_time(
        "declaration.planned_departure_time",
        d.planned_departure_time.as_ref(),
        &mut v,
    );
    if let (Some(arrival), Some(departure)) = (arrival, departure) {
        let now = chrono::Utc::now().timestamp_micros();
        match check_stay(arrival, departure, now) {
            Ok(()) => {}
            Err(e @ StayError::ArrivalInFuture) => {
                v.add("declaration.arrival_time", e.to_string());
            }
            Err(e @ StayError::DepartureBeforeArrival) => {
                v.add("declaration.planned_departure_time", e.to_string());
            }
        }
    }
    v.check()?;
    match (foreigner_id, commune_code, arrival, departure) {
        (Some(foreigner_id), Some(commune_code), Some(arrival_us), Some(planned_departure_us)) => {
            Ok(Declaration {
                id: String::new(),
                foreigner_id,
                host_name,
                commune_code,
                address,
                arrival_us,
                planned_departure_us,
                remote_area: d.remote_area,
                received_us: 0,
                late: false,
                checked_out_us: None,
            })
        }
        _ => Err(Status::internal("validation incomplete")),
    }
}

fn document_kind_to_proto(kind: EntryDocumentKind) -> pb::EntryDocumentType {
    match kind {
        EntryDocumentKind::Visa => pb::EntryDocumentType::Visa,
        EntryDocumentKind::TemporaryResidenceCard => pb::EntryDocumentType::TemporaryResidenceCard,
        EntryDocumentKind::PermanentResidenceCard => pb::EntryDocumentType::PermanentResidenceCard,
    }
}

fn foreigner_to_proto(f: Foreigner) -> pb::Foreigner {
    pb::Foreigner {
        id: f.id,
        passport_number: f.passport_number,
        nationality: f.nationality,
        full_name: f.full_name,
        sex: sex_to_proto(f.sex) as i32,
        date_of_birth: Some(date_to_proto(f.date_of_birth)),
        entry_document: Some(pb::EntryDocument {
            r#type: document_kind_to_proto(f.document.kind) as i32,
            number: f.document.number,
            valid_from: Some(date_to_proto(f.document.valid_from)),
            valid_until: f.document.valid_until.map(date_to_proto),
        }),
        create_time: Some(timestamp_from_us(f.created_us)),
        etag: super::etag(f.version),
    }
}

fn declaration_to_proto(d: Declaration) -> pb::AccommodationDeclaration {
    pb::AccommodationDeclaration {
        id: d.id,
        foreigner_id: d.foreigner_id,
        host_name: d.host_name,
        commune_code: d.commune_code,
        address: d.address,
        arrival_time: Some(timestamp_from_us(d.arrival_us)),
        planned_departure_time: Some(timestamp_from_us(d.planned_departure_us)),
        remote_area: d.remote_area,
        receive_time: Some(timestamp_from_us(d.received_us)),
        late: d.late,
        check_out_time: d.checked_out_us.map(timestamp_from_us),
    }
}
