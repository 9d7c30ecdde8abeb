//! `dancu.identity.v1.ForeignerService`: foreign nationals and accommodation declarations.

use super::foreigner_input::{
    DeclarationSource, commune_code, decode_declaration, decode_foreigner,
};
use super::register_errors::check;
use crate::app::PurposeGuard;
use crate::app::{Accommodation as Declaration, Foreigner, Foreigners, Page, ResourceKind};
use crate::store::ForeignerFilter;
use dancu_domain::foreigner::{
    EntryDocumentKind, normalize_nationality, normalize_passport_number,
};
use dancu_kit::call::CallContext;
use dancu_kit::convert::{date_to_proto, sex_to_proto, timestamp_from_us, timestamp_to_us};
use dancu_kit::error::FieldViolations;
use dancu_kit::paging::encode_token;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::foreigner_service_server::ForeignerService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Default page size of the foreigner lists.
const DEFAULT_PAGE_SIZE: u64 = 50;

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

/// The foreigner of a `RegisterForeigner` request, or every problem with it.
fn validate_foreigner(foreigner: Option<pb::Foreigner>) -> Result<Foreigner, Status> {
    let Some(f) = foreigner else {
        return Err(dancu_kit::error::invalid_field("foreigner", "is required"));
    };
    let mut violations = FieldViolations::new();
    let decoded = decode_foreigner(&f, &mut violations);
    violations.check()?;
    decoded.ok_or_else(|| Status::internal("validation incomplete"))
}

/// The declaration of a `DeclareAccommodation` request, or every problem with it.
fn validate_declaration(
    declaration: Option<pb::AccommodationDeclaration>,
) -> Result<Declaration, Status> {
    let Some(d) = declaration else {
        return Err(dancu_kit::error::invalid_field(
            "declaration",
            "is required",
        ));
    };
    let mut violations = FieldViolations::new();
    let decoded = decode_declaration(&d, DeclarationSource::Live, &mut violations);
    violations.check()?;
    decoded.ok_or_else(|| Status::internal("validation incomplete"))
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
