//! Households: creation with a head and members, lookup, and moving a person between
//! households — each a single transaction with its change-feed entries and audit events.

use super::citizen_record::province_of;
use super::citizens::change_row;
use super::journal::Journal;
use super::{CitizenAccess, IdentityError};
use crate::store::{HouseholdMemberRow, HouseholdRow, InsertError};
use dancu_domain::{AreaTable, HouseholdRelation, PersonalId};
use dancu_kit::call::CallContext;
use sea_orm::DatabaseTransaction;
use std::sync::Arc;
use tonic::Code;

/// Resource type in audit events.
const RESOURCE: &str = "household";

/// A household with its members, the head first, then by personal ID.
#[derive(Clone, Debug)]
pub struct HouseholdView {
    /// The household.
    pub household: HouseholdRow,
    /// Its members.
    pub members: Vec<HouseholdMemberRow>,
}

/// A new member: who, and their relation to the head.
pub type NewMember = (PersonalId, HouseholdRelation);

/// Household registration.
pub struct Households {
    journal: Arc<Journal>,
    areas: &'static AreaTable,
    access: Arc<CitizenAccess>,
}

impl Households {
    /// Households over `journal`'s store, with communes from `areas`; a household is shown
    /// to those who have the full view of its head.
    pub fn new(
        journal: Arc<Journal>,
        areas: &'static AreaTable,
        access: Arc<CitizenAccess>,
    ) -> Self {
        Self {
            journal,
            areas,
            access,
        }
    }

    /// Records the rejection of a call that ended before reaching the register.
    pub async fn audit(&self, ctx: &CallContext, outcome: Code) -> Result<(), IdentityError> {
        self.journal.record(ctx, RESOURCE, &[], None, outcome).await
    }

    /// Creates a household. `members` holds exactly one head and no duplicates (checked
    /// by the caller); every member must be registered, not deceased, and in no household.
    pub async fn create(
        &self,
        ctx: &CallContext,
        commune: String,
        address: String,
        members: Vec<NewMember>,
    ) -> Result<HouseholdView, IdentityError> {
        let store = self.journal.store();
        let ids: Vec<String> = members
            .iter()
            .map(|(id, _)| id.as_str().to_owned())
            .collect();
        let subjects: Vec<&str> = ids.iter().map(String::as_str).collect();
        let fail = |txn, error| self.journal.fail(txn, ctx, RESOURCE, &subjects, error);
        if let Err(e) = province_of(self.areas, &commune, "commune_code") {
            return Err(fail(None, e).await);
        }
        let txn = store.begin_write().await?;
        for (index, id) in ids.iter().enumerate() {
            let field = format!("members[{index}]");
            if let Err(error) = self.check_member(&txn, id, &field, None).await {
                return Err(fail(Some(txn), error).await);
            }
        }
        let now = chrono::Utc::now().timestamp_micros();
        let household = HouseholdRow {
            id: uuid::Uuid::now_v7().to_string(),
            commune_code: commune,
            address,
            created_us: now,
            created_by: ctx.principal.id.clone(),
        };
        store.insert_household(&txn, household.clone()).await?;
        let mut rows = Vec::with_capacity(members.len());
        for (id, relation) in &members {
            let row = member_row(id.as_str(), &household.id, *relation, now);
            store.set_membership(&txn, row.clone()).await.map_err(db)?;
            self.feed(&txn, id.as_str(), &household, now).await?;
            rows.push(row);
        }
        let events = self
            .journal
            .stage(
                &txn,
                ctx,
                RESOURCE,
                &subjects,
                Some(&household.id),
                Code::Ok,
            )
            .await?;
        self.journal.commit(txn, events, true).await?;
        Ok(view(household, rows))
    }

    /// A household and its members; every member is audited as accessed.
    pub async fn get(&self, ctx: &CallContext, id: &str) -> Result<HouseholdView, IdentityError> {
        let store = self.journal.store();
        let Some(household) = store.household(store.connection(), id).await? else {
            return Err(self
                .journal
                .fail(None, ctx, RESOURCE, &[], IdentityError::HouseholdNotFound)
                .await);
        };
        let members = store.household_members(store.connection(), id).await?;
        // Who lives with whom belongs to the full view of the head.
        let head = members
            .iter()
            .find(|m| m.relation == HouseholdRelation::Head.as_str());
        if let Some(head) = head
            && let Err(error) = self.access.require_full_view(ctx, &head.personal_id).await
        {
            return Err(self.journal.fail(None, ctx, RESOURCE, &[], error).await);
        }
        let ids: Vec<&str> = members.iter().map(|m| m.personal_id.as_str()).collect();
        self.journal
            .record(ctx, RESOURCE, &ids, Some(id), Code::Ok)
            .await?;
        Ok(view(household, members))
    }

    /// Moves a person into household `target` with `relation`, leaving their current one.
    pub async fn move_member(
        &self,
        ctx: &CallContext,
        personal_id: &PersonalId,
        target: &str,
        relation: HouseholdRelation,
    ) -> Result<HouseholdView, IdentityError> {
        let store = self.journal.store();
        let subject = personal_id.as_str();
        let subjects = [subject];
        let fail = |txn, error| self.journal.fail(txn, ctx, RESOURCE, &subjects, error);
        let txn = store.begin_write().await?;
        let Some(household) = store.household(&txn, target).await? else {
            return Err(fail(Some(txn), IdentityError::HouseholdNotFound).await);
        };
        if let Err(error) = self
            .check_member(&txn, subject, "personal_id", Some(target))
            .await
        {
            return Err(fail(Some(txn), error).await);
        }
        let members = store.household_members(&txn, target).await?;
        if relation == HouseholdRelation::Head
            && members
                .iter()
                .any(|m| m.relation == HouseholdRelation::Head.as_str())
        {
            return Err(fail(
                Some(txn),
                IdentityError::precondition("the household already has a head"),
            )
            .await);
        }
        let now = chrono::Utc::now().timestamp_micros();
        match store
            .set_membership(&txn, member_row(subject, target, relation, now))
            .await
        {
            Ok(()) => {}
            Err(InsertError::Duplicate) => {
                return Err(fail(
                    Some(txn),
                    IdentityError::precondition("the household already has a head"),
                )
                .await);
            }
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
        self.feed(&txn, subject, &household, now).await?;
        let events = self
            .journal
            .stage(&txn, ctx, RESOURCE, &subjects, Some(target), Code::Ok)
            .await?;
        let members = store.household_members(&txn, target).await?;
        self.journal.commit(txn, events, true).await?;
        Ok(view(household, members))
    }

    /// Checks that `personal_id` may join a household: registered, not deceased, and in
    /// no household — or, when `moving_to` is given, not already in that one and not a
    /// head who would leave members behind.
    async fn check_member(
        &self,
        txn: &DatabaseTransaction,
        personal_id: &str,
        field: &str,
        moving_to: Option<&str>,
    ) -> Result<(), IdentityError> {
        let store = self.journal.store();
        let Some(citizen) = store.citizen_in(txn, personal_id).await? else {
            return Err(IdentityError::precondition(format!(
                "{field}: the person is not registered"
            )));
        };
        if citizen.life_status == "deceased" {
            return Err(IdentityError::precondition(format!(
                "{field}: the person is recorded as deceased"
            )));
        }
        let Some(current) = store.membership(txn, personal_id).await? else {
            return Ok(());
        };
        let Some(target) = moving_to else {
            return Err(IdentityError::precondition(format!(
                "{field}: the person already belongs to a household (use MoveMember)"
            )));
        };
        if current.household_id == target {
            return Err(IdentityError::precondition(format!(
                "{field}: the person already belongs to this household"
            )));
        }
        if current.relation == HouseholdRelation::Head.as_str()
            && store
                .household_members(txn, &current.household_id)
                .await?
                .len()
                > 1
        {
            return Err(IdentityError::precondition(
                "the head cannot leave a household that still has members",
            ));
        }
        Ok(())
    }

    async fn feed(
        &self,
        txn: &DatabaseTransaction,
        subject: &str,
        household: &HouseholdRow,
        now: i64,
    ) -> Result<(), IdentityError> {
        let mut change = change_row(subject, "household", now, "");
        change.commune_code = household.commune_code.clone();
        change.reference_id = household.id.clone();
        self.journal.store().append_change(txn, change).await?;
        Ok(())
    }
}

fn db(error: InsertError) -> IdentityError {
    match error {
        InsertError::Duplicate => IdentityError::precondition("the household already has a head"),
        InsertError::Db(e) => e.into(),
    }
}

fn member_row(
    personal_id: &str,
    household_id: &str,
    relation: HouseholdRelation,
    now: i64,
) -> HouseholdMemberRow {
    HouseholdMemberRow {
        personal_id: personal_id.to_owned(),
        household_id: household_id.to_owned(),
        relation: relation.as_str().to_owned(),
        joined_us: now,
    }
}

fn view(household: HouseholdRow, mut members: Vec<HouseholdMemberRow>) -> HouseholdView {
    members.sort_by(|a, b| {
        let head = |m: &HouseholdMemberRow| m.relation != HouseholdRelation::Head.as_str();
        (head(a), &a.personal_id).cmp(&(head(b), &b.personal_id))
    });
    HouseholdView { household, members }
}
