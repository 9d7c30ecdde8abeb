//! `dancu.identity.v1.CardService`: identity cards.

use super::register_errors::check;
use crate::app::PurposeGuard;
use crate::app::{Card, CardChange, CardEvent, Cards};
use dancu_domain::PersonalId;
use dancu_domain::card::{CardAction, CardState};
use dancu_kit::call::CallContext;
use dancu_kit::convert::{date_to_proto, timestamp_from_us};
use dancu_kit::error::FieldViolations;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::card_service_server::CardService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Longest reason kept with a card event, in characters.
const MAX_REASON_CHARS: usize = 500;

/// Implements `dancu.identity.v1.CardService`.
pub struct CardApi {
    cards: Arc<Cards>,
    guard: Arc<PurposeGuard>,
}

impl CardApi {
    /// The API over the card register.
    pub fn new(cards: Arc<Cards>, guard: Arc<PurposeGuard>) -> Self {
        Self { cards, guard }
    }

    /// Validates and applies a change, auditing a rejection.
    async fn change(
        &self,
        ctx: CallContext,
        fields: ChangeFields<'_>,
    ) -> Result<Response<pb::IdentityCard>, Status> {
        let mut violations = FieldViolations::new();
        let personal_id = parse_personal_id(fields.personal_id, &mut violations);
        let expected_version = parse_etag(fields.etag, &mut violations);
        let reason = check::text(
            "reason",
            fields.reason,
            MAX_REASON_CHARS,
            fields.action == CardAction::Revoke,
            &mut violations,
        );
        let personal_id = match (violations.check(), personal_id) {
            (Ok(()), Some(id)) => id,
            (Err(status), id) => return Err(self.reject(&ctx, id.as_ref(), status).await),
            (Ok(()), None) => return Err(Status::internal("validation incomplete")),
        };
        let card = self
            .cards
            .change(
                &ctx,
                CardChange {
                    personal_id,
                    action: fields.action,
                    expected_version,
                    reason,
                    guardian_request: fields.guardian_request,
                },
            )
            .await?;
        Ok(Response::new(card_to_proto(card)))
    }

    async fn reject(&self, ctx: &CallContext, id: Option<&PersonalId>, status: Status) -> Status {
        match self
            .cards
            .audit_rejected(ctx, id.map(PersonalId::as_str))
            .await
        {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }

    async fn personal_id(&self, ctx: &CallContext, raw: &str) -> Result<PersonalId, Status> {
        let mut violations = FieldViolations::new();
        match parse_personal_id(raw, &mut violations) {
            Some(id) => Ok(id),
            None => Err(self.reject(ctx, None, violations.into_status()).await),
        }
    }
}

/// The raw fields of a change request.
struct ChangeFields<'a> {
    personal_id: &'a str,
    etag: &'a str,
    reason: &'a str,
    action: CardAction,
    guardian_request: bool,
}

const ISSUE: &str = "/dancu.identity.v1.CardService/IssueCard";
const RENEW: &str = "/dancu.identity.v1.CardService/RenewCard";
const LOST: &str = "/dancu.identity.v1.CardService/ReportCardLost";
const REVOKE: &str = "/dancu.identity.v1.CardService/RevokeCard";
const GET: &str = "/dancu.identity.v1.CardService/GetCard";
const EVENTS: &str = "/dancu.identity.v1.CardService/ListCardEvents";

#[tonic::async_trait]
impl CardService for CardApi {
    async fn issue_card(
        &self,
        request: Request<pb::IssueCardRequest>,
    ) -> Result<Response<pb::IdentityCard>, Status> {
        let ctx = CallContext::from_request(&request, ISSUE)?;
        self.guard.check(&ctx, "identity_card").await?;
        let r = request.get_ref();
        let fields = ChangeFields {
            personal_id: &r.personal_id,
            etag: "",
            reason: &r.reason,
            action: CardAction::Issue,
            guardian_request: r.guardian_request,
        };
        self.change(ctx, fields).await
    }

    async fn renew_card(
        &self,
        request: Request<pb::RenewCardRequest>,
    ) -> Result<Response<pb::IdentityCard>, Status> {
        let ctx = CallContext::from_request(&request, RENEW)?;
        self.guard.check(&ctx, "identity_card").await?;
        let r = request.get_ref();
        let fields = ChangeFields {
            personal_id: &r.personal_id,
            etag: &r.etag,
            reason: &r.reason,
            action: CardAction::Renew,
            guardian_request: false,
        };
        self.change(ctx, fields).await
    }

    async fn report_card_lost(
        &self,
        request: Request<pb::ReportCardLostRequest>,
    ) -> Result<Response<pb::IdentityCard>, Status> {
        let ctx = CallContext::from_request(&request, LOST)?;
        self.guard.check(&ctx, "identity_card").await?;
        let r = request.get_ref();
        let fields = ChangeFields {
            personal_id: &r.personal_id,
            etag: &r.etag,
            reason: &r.reason,
            action: CardAction::ReportLost,
            guardian_request: false,
        };
        self.change(ctx, fields).await
    }

    async fn revoke_card(
        &self,
        request: Request<pb::RevokeCardRequest>,
    ) -> Result<Response<pb::IdentityCard>, Status> {
        let ctx = CallContext::from_request(&request, REVOKE)?;
        self.guard.check(&ctx, "identity_card").await?;
        let r = request.get_ref();
        let fields = ChangeFields {
            personal_id: &r.personal_id,
            etag: &r.etag,
            reason: &r.reason,
            action: CardAction::Revoke,
            guardian_request: false,
        };
        self.change(ctx, fields).await
    }

    async fn get_card(
        &self,
        request: Request<pb::GetCardRequest>,
    ) -> Result<Response<pb::IdentityCard>, Status> {
        let ctx = CallContext::from_request(&request, GET)?;
        self.guard.check(&ctx, "identity_card").await?;
        let personal_id = self
            .personal_id(&ctx, &request.get_ref().personal_id)
            .await?;
        let card = self.cards.get(&ctx, &personal_id).await?;
        Ok(Response::new(card_to_proto(card)))
    }

    async fn list_card_events(
        &self,
        request: Request<pb::ListCardEventsRequest>,
    ) -> Result<Response<pb::ListCardEventsResponse>, Status> {
        let ctx = CallContext::from_request(&request, EVENTS)?;
        self.guard.check(&ctx, "identity_card").await?;
        let personal_id = self
            .personal_id(&ctx, &request.get_ref().personal_id)
            .await?;
        let events = self.cards.events(&ctx, &personal_id).await?;
        Ok(Response::new(pb::ListCardEventsResponse {
            events: events.into_iter().map(event_to_proto).collect(),
        }))
    }
}

fn parse_personal_id(raw: &str, violations: &mut FieldViolations) -> Option<PersonalId> {
    PersonalId::parse(raw.trim())
        .map_err(|e| violations.add("personal_id", e.to_string()))
        .ok()
}

/// An etag as sent back by a client (`"N"`, quotes optional); empty means unconditional.
fn parse_etag(raw: &str, violations: &mut FieldViolations) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let version = super::parse_etag(raw);
    if version.is_none() {
        violations.add("etag", "is not an etag returned by this service");
    }
    version
}

fn state_to_proto(state: CardState) -> pb::CardState {
    match state {
        CardState::Active => pb::CardState::Active,
        CardState::Expired => pb::CardState::Expired,
        CardState::Lost => pb::CardState::Lost,
        CardState::Revoked => pb::CardState::Revoked,
    }
}

fn card_to_proto(card: Card) -> pb::IdentityCard {
    pb::IdentityCard {
        card_number: card.personal_id,
        state: state_to_proto(card.state) as i32,
        issue_date: Some(date_to_proto(card.issue_date)),
        expire_date: card.expire_date.map(date_to_proto),
        update_time: Some(timestamp_from_us(card.updated_us)),
        etag: super::etag(card.version),
    }
}

fn event_to_proto(event: CardEvent) -> pb::CardEvent {
    let kind = match event.action {
        CardAction::Issue => pb::CardEventType::Issued,
        CardAction::Renew => pb::CardEventType::Renewed,
        CardAction::ReportLost => pb::CardEventType::ReportedLost,
        CardAction::Revoke => pb::CardEventType::Revoked,
    };
    pb::CardEvent {
        sequence: event.sequence,
        r#type: kind as i32,
        event_time: Some(timestamp_from_us(event.at_us)),
        actor_id: event.actor_id,
        issue_date: Some(date_to_proto(event.issue_date)),
        expire_date: event.expire_date.map(date_to_proto),
        reason: event.reason,
    }
}
