//! Identity cards: issue, renew, report lost, revoke, look up — each audited, each write
//! committed with its event and its audit event in one transaction.

use super::audited::Audited;
use super::citizen_record::today;
use super::{CitizenAccess, IdentityError, RegisterError};
use crate::store::{CardEventRow, CardRow, IdentityStore, InsertError};
use chrono::NaiveDate;
use dancu_audit_client::event::Touched;
use dancu_domain::card::{
    CardAction, CardState, CardStatus, card_expiry, card_state, check_issue_age, transition,
};
use dancu_domain::{PartialDate, PersonalId};
use dancu_kit::call::CallContext;
use std::sync::Arc;

/// Resource type in audit events.
const RESOURCE: &str = "identity_card";

/// A card as of today.
#[derive(Clone, Debug)]
pub struct Card {
    /// Card number: the holder's personal ID.
    pub personal_id: String,
    /// State as of today.
    pub state: CardState,
    /// Date of the current issue or renewal.
    pub issue_date: NaiveDate,
    /// First day no longer valid; `None` if it never expires.
    pub expire_date: Option<NaiveDate>,
    /// Last change (Unix microseconds).
    pub updated_us: i64,
    /// Version (the etag).
    pub version: i64,
}

/// One event of a card's history.
#[derive(Clone, Debug)]
pub struct CardEvent {
    /// Position from 1.
    pub sequence: i64,
    /// What happened.
    pub action: CardAction,
    /// When (Unix microseconds).
    pub at_us: i64,
    /// Officer who recorded it.
    pub actor_id: String,
    /// Issue date after the event.
    pub issue_date: NaiveDate,
    /// Expiry after the event.
    pub expire_date: Option<NaiveDate>,
    /// Reason given.
    pub reason: String,
}

/// A requested change of a card, validated.
#[derive(Clone, Debug)]
pub struct CardChange {
    /// The holder.
    pub personal_id: PersonalId,
    /// What to do.
    pub action: CardAction,
    /// Apply only at this version (from the etag), if set.
    pub expected_version: Option<i64>,
    /// Reason or note kept with the event.
    pub reason: String,
    /// A guardian asked for a card for a child under 14 (issue only).
    pub guardian_request: bool,
}

/// The identity-card register.
pub struct Cards {
    store: IdentityStore,
    audited: Audited,
    access: Arc<CitizenAccess>,
}

impl Cards {
    /// Cards over `store`, audited through `audited`, shown as `access` decides.
    pub fn new(store: IdentityStore, audited: Audited, access: Arc<CitizenAccess>) -> Self {
        Self {
            store,
            audited,
            access,
        }
    }

    /// Applies `change`; the card, its event and the audit event commit together.
    pub async fn change(
        &self,
        ctx: &CallContext,
        change: CardChange,
    ) -> Result<Card, IdentityError> {
        let subject = change.personal_id.as_str().to_owned();
        let touched = touched(&subject);
        let today = today();
        // Issue and renewal date the card from the holder's birth date.
        let birth = match change.action {
            CardAction::Issue | CardAction::Renew => match self.store.citizen(&subject).await? {
                Some(citizen) if citizen.life_status != "alive" => {
                    let result = Err(IdentityError::precondition(
                        "cards are issued and renewed only for living persons",
                    ));
                    return self.audited.read(ctx, touched, result).await;
                }
                Some(citizen) => Some(birth_date(&citizen.birth_date)?),
                None => {
                    let result = Err(RegisterError::PersonNotRegistered.into());
                    return self.audited.read(ctx, touched, result).await;
                }
            },
            CardAction::ReportLost | CardAction::Revoke => None,
        };
        let txn = self.store.begin_write().await?;
        let result = self.apply(&txn, ctx, &change, birth, today).await;
        self.audited.finish(ctx, touched, txn, result).await
    }

    async fn apply(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        ctx: &CallContext,
        change: &CardChange,
        birth: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Card, IdentityError> {
        let personal_id = change.personal_id.as_str();
        let current = self.store.card(txn, personal_id).await?;
        let current_state = match &current {
            Some(row) => Some(from_row(row, today)?.state),
            None => None,
        };
        let status = transition(current_state, change.action).map_err(RegisterError::from)?;
        if let (Some(expected), Some(row)) = (change.expected_version, &current)
            && row.version != expected
        {
            return Err(RegisterError::StaleEtag.into());
        }
        let (issue_date, expire_date) = match (birth, &current) {
            (Some(birth), _) => {
                if change.action == CardAction::Issue {
                    check_issue_age(birth, today, change.guardian_request)
                        .map_err(RegisterError::from)?;
                }
                (
                    today.format("%Y-%m-%d").to_string(),
                    card_expiry(birth, today).map(|d| d.format("%Y-%m-%d").to_string()),
                )
            }
            (None, Some(row)) => (row.issue_date.clone(), row.expire_date.clone()),
            // `transition` refuses every action but issue without a card.
            (None, None) => return Err(RegisterError::NoCard.into()),
        };
        let now_us = chrono::Utc::now().timestamp_micros();
        let version = current.as_ref().map_or(1, |row| row.version + 1);
        let row = CardRow {
            personal_id: personal_id.to_owned(),
            status: status.as_str().to_owned(),
            issue_date: issue_date.clone(),
            expire_date: expire_date.clone(),
            updated_us: now_us,
            version,
        };
        let written = match &current {
            None => match self.store.insert_card(txn, row.clone()).await {
                Ok(()) => true,
                Err(InsertError::Duplicate) => false,
                Err(InsertError::Db(e)) => return Err(e.into()),
            },
            Some(old) => {
                self.store
                    .update_card(txn, row.clone(), old.version)
                    .await?
            }
        };
        if !written {
            return Err(RegisterError::Conflict.into());
        }
        let event = CardEventRow {
            id: uuid::Uuid::now_v7().to_string(),
            personal_id: personal_id.to_owned(),
            sequence: version,
            kind: change.action.event_code().to_owned(),
            at_us: now_us,
            actor_id: ctx.principal.id.clone(),
            issue_date,
            expire_date,
            reason: change.reason.clone(),
        };
        match self.store.insert_card_event(txn, event).await {
            Ok(()) => {}
            Err(InsertError::Duplicate) => return Err(RegisterError::Conflict.into()),
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
        from_row(&row, today)
    }

    /// The card of `personal_id` as of today; the lookup is audited.
    pub async fn get(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<Card, IdentityError> {
        let subject = personal_id.as_str();
        // A person's card belongs to their full view.
        if let Err(error) = self.access.require_full_view(ctx, subject).await {
            return self.audited.read(ctx, touched(subject), Err(error)).await;
        }
        let result = match self.store.card(self.store.connection(), subject).await {
            Ok(Some(row)) => from_row(&row, today()),
            Ok(None) => Err(RegisterError::NoCard.into()),
            Err(e) => Err(e.into()),
        };
        self.audited.read(ctx, touched(subject), result).await
    }

    /// The history of the card of `personal_id`, oldest first; audited.
    pub async fn events(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
    ) -> Result<Vec<CardEvent>, IdentityError> {
        let subject = personal_id.as_str();
        // A person's card belongs to their full view.
        if let Err(error) = self.access.require_full_view(ctx, subject).await {
            return self.audited.read(ctx, touched(subject), Err(error)).await;
        }
        let result = match self.store.card_events(subject).await {
            Ok(rows) if rows.is_empty() => Err(RegisterError::NoCard.into()),
            Ok(rows) => rows.iter().map(event_from_row).collect(),
            Err(e) => Err(e.into()),
        };
        self.audited.read(ctx, touched(subject), result).await
    }

    /// Audits a call rejected for bad input.
    pub async fn audit_rejected(
        &self,
        ctx: &CallContext,
        subject: Option<&str>,
    ) -> Result<(), IdentityError> {
        let touched = Touched {
            resource_type: RESOURCE,
            subject,
            resource_id: None,
        };
        self.audited
            .record(ctx, touched, tonic::Code::InvalidArgument)
            .await
    }
}

fn touched(subject: &str) -> Touched<'_> {
    Touched {
        resource_type: RESOURCE,
        subject: Some(subject),
        resource_id: None,
    }
}

/// The earliest birth date consistent with a stored date of birth, which may be
/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (older records know only part of it).
fn birth_date(stored: &str) -> Result<NaiveDate, IdentityError> {
    PartialDate::from_storage(stored)
        .map(|date| date.earliest())
        .ok_or(IdentityError::Corrupt("birth_date"))
}

fn parse_date(stored: &str, field: &'static str) -> Result<NaiveDate, IdentityError> {
    NaiveDate::parse_from_str(stored, "%Y-%m-%d").map_err(|_| IdentityError::Corrupt(field))
}

fn from_row(row: &CardRow, today: NaiveDate) -> Result<Card, IdentityError> {
    let status = CardStatus::parse(&row.status).ok_or(IdentityError::Corrupt("card status"))?;
    let expire_date = row
        .expire_date
        .as_deref()
        .map(|d| parse_date(d, "card expire_date"))
        .transpose()?;
    Ok(Card {
        personal_id: row.personal_id.clone(),
        state: card_state(status, expire_date, today),
        issue_date: parse_date(&row.issue_date, "card issue_date")?,
        expire_date,
        updated_us: row.updated_us,
        version: row.version,
    })
}

fn event_from_row(row: &CardEventRow) -> Result<CardEvent, IdentityError> {
    Ok(CardEvent {
        sequence: row.sequence,
        action: CardAction::from_event_code(&row.kind)
            .ok_or(IdentityError::Corrupt("card event kind"))?,
        at_us: row.at_us,
        actor_id: row.actor_id.clone(),
        issue_date: parse_date(&row.issue_date, "card event issue_date")?,
        expire_date: row
            .expire_date
            .as_deref()
            .map(|d| parse_date(d, "card event expire_date"))
            .transpose()?,
        reason: row.reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_birth_dates_of_every_precision() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(birth_date("1990-05-17").unwrap(), d(1990, 5, 17));
        assert_eq!(birth_date("1990-05").unwrap(), d(1990, 5, 1));
        assert_eq!(birth_date("1990").unwrap(), d(1990, 1, 1));
        assert!(birth_date("").is_err());
        assert!(birth_date("1990-13").is_err());
        assert!(birth_date("1990-xx-01").is_err());
    }
}
