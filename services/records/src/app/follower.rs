//! Follows identity's change feed as records' service account: refreshes the snapshots of
//! the subjects a change concerns and raises a movement alert to the owning unit when a
//! subject under supervision moves, declares an absence, dies or goes missing. The feed
//! cursor is stored in the same transaction as the alerts and snapshot changes it led to,
//! so a restart neither loses nor repeats an alert.

use super::identity::Asker;
use super::model::{ClassStatus, class_from_row};
use super::{IdentityDirectory, RecordsError};
use crate::store::{IDENTITY_FEED, MovementAlertRow, RecordsStore, SubjectRow};
use dancu_audit_client::TokenSource;
use dancu_domain::PersonalId;
use dancu_kit::call::PURPOSE_HEADER;
use dancu_kit::client::TracedChannel;
use dancu_kit::convert::timestamp_to_us;
use dancu_proto::identity::v1::change_feed_service_client::ChangeFeedServiceClient;
use dancu_proto::identity::v1::{Change, ChangeKind, WatchChangesRequest};
use sea_orm::TransactionTrait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio_stream::StreamExt;
use tonic::metadata::MetadataValue;

/// Changes about no subject after which the cursor is saved anyway.
const CURSOR_EVERY: u32 = 500;
/// Wait before reconnecting after the feed or a refresh failed.
const RETRY: Duration = Duration::from_secs(1);

/// The change-feed follower.
pub struct Follower {
    store: RecordsStore,
    identity: IdentityDirectory,
    tokens: Arc<dyn TokenSource>,
    feed: ChangeFeedServiceClient<TracedChannel>,
    alerts: Arc<Notify>,
}

/// A running follower.
pub struct FollowerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl FollowerHandle {
    /// Stops the follower between two changes and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// What a change means for a supervised subject.
fn movement(change: &Change, subject: &SubjectRow) -> Option<&'static str> {
    match ChangeKind::try_from(change.kind).ok()? {
        ChangeKind::Deceased => Some("deceased"),
        ChangeKind::Missing => Some("missing"),
        ChangeKind::Residence if change.residence_kind == "absence" => Some("absence"),
        ChangeKind::Residence
            if !change.commune_code.is_empty()
                && change.commune_code != subject.snapshot_commune =>
        {
            Some("moved")
        }
        _ => None,
    }
}

impl Follower {
    /// A follower of identity's feed at `endpoint`, logging in with `tokens`; `alerts` is
    /// woken when alerts are raised.
    pub fn new(
        store: RecordsStore,
        identity: IdentityDirectory,
        tokens: Arc<dyn TokenSource>,
        endpoint: &str,
        alerts: Arc<Notify>,
    ) -> Result<Self, dancu_kit::client::ClientError> {
        Ok(Self {
            store,
            identity,
            tokens,
            feed: ChangeFeedServiceClient::new(dancu_kit::client::traced_channel(endpoint)?),
            alerts,
        })
    }

    /// Runs the follower until stopped.
    pub fn spawn(self) -> FollowerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    result = self.follow() => {
                        if let Err(e) = result {
                            tracing::warn!(
                                cause = e.category(),
                                "change-feed follower interrupted; reconnecting"
                            );
                        }
                    }
                    _ = stopped.wait_for(|s| *s) => return,
                }
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
        });
        FollowerHandle { stop, task }
    }

    /// Follows the feed from the stored cursor until the stream or a change fails. Until
    /// the first subject exists there is nothing to follow (changes from before a
    /// subject's snapshot are skipped anyway), so the feed is not opened.
    async fn follow(&self) -> Result<(), RecordsError> {
        while !self.store.has_subjects().await? {
            tokio::time::sleep(RETRY).await;
        }
        let token = self.tokens.token().await.map_err(|status| {
            tracing::warn!(code = ?status.code(), "service login failed");
            RecordsError::IdentityUnavailable
        })?;
        let cursor = self.store.feed_cursor(IDENTITY_FEED).await?;
        let mut request = tonic::Request::new(WatchChangesRequest {
            after_cursor: cursor,
        });
        let bearer = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| RecordsError::IdentityUnavailable)?;
        request.metadata_mut().insert("authorization", bearer);
        request.metadata_mut().insert(
            PURPOSE_HEADER,
            MetadataValue::from_static("identity_verification"),
        );
        let mut stream = self
            .feed
            .clone()
            .watch_changes(request)
            .await
            .map_err(|status| {
                tracing::warn!(code = ?status.code(), "change feed refused");
                RecordsError::IdentityUnavailable
            })?
            .into_inner();
        let mut unsaved = 0;
        while let Some(change) = stream.next().await {
            let change = change.map_err(|status| {
                tracing::warn!(code = ?status.code(), "change feed broke");
                RecordsError::IdentityUnavailable
            })?;
            unsaved += 1;
            if self.apply(&token, &change, unsaved >= CURSOR_EVERY).await? {
                unsaved = 0;
            }
        }
        Ok(())
    }

    /// Applies one change: snapshot refreshes, alerts and the cursor, in one transaction.
    /// A change about no subject writes nothing unless `save_cursor` (replaying such
    /// changes after a restart is harmless). Returns whether the cursor was saved.
    async fn apply(
        &self,
        token: &str,
        change: &Change,
        save_cursor: bool,
    ) -> Result<bool, RecordsError> {
        let change_us = change
            .change_time
            .as_ref()
            .and_then(timestamp_to_us)
            .unwrap_or_default();
        let now = chrono::Utc::now().timestamp_micros();
        let today = dancu_kit::convert::today_in_vietnam();
        let subjects = self
            .store
            .subjects_of_citizen(self.store.connection(), &change.personal_id)
            .await?;
        // Changes the snapshot already reflects (committed before it was taken) are
        // skipped: they are what the subject was created with.
        let concerned: Vec<SubjectRow> = subjects
            .into_iter()
            .filter(|s| change_us > s.snapshot_refreshed_us)
            .collect();
        if concerned.is_empty() && !save_cursor {
            return Ok(false);
        }
        let refreshed = if !concerned.is_empty() && change.kind == ChangeKind::Updated as i32 {
            let id = PersonalId::parse(&change.personal_id)
                .map_err(|_| RecordsError::Corrupt("feed personal_id"))?;
            Some(self.identity.citizen(&Asker::Service(token), &id).await?)
        } else {
            None
        };
        let txn = self.store.connection().begin().await?;
        let mut raised = false;
        for mut subject in concerned {
            let supervision: Vec<String> = self
                .store
                .classifications_of(&txn, std::slice::from_ref(&subject.id))
                .await?
                .into_iter()
                .map(|row| class_from_row(row, today))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|c| c.status == ClassStatus::Active && c.classification.is_supervision())
                .map(|c| c.classification.code().to_owned())
                .collect();
            if let Some(kind) = movement(change, &subject)
                && !supervision.is_empty()
            {
                raised |= self
                    .store
                    .insert_alert(
                        &txn,
                        MovementAlertRow {
                            id: uuid::Uuid::now_v7().to_string(),
                            subject_id: subject.id.clone(),
                            owning_unit: subject.owning_unit.clone(),
                            kind: kind.to_owned(),
                            supervision: supervision.join(","),
                            previous_commune: subject.snapshot_commune.clone(),
                            commune: change.commune_code.clone(),
                            residence_kind: change.residence_kind.clone(),
                            feed_cursor: change.cursor.clone(),
                            change_us,
                            created_us: now,
                        },
                    )
                    .await?;
            }
            match ChangeKind::try_from(change.kind) {
                Ok(ChangeKind::Residence)
                    if change.residence_kind != "absence" && !change.commune_code.is_empty() =>
                {
                    subject.snapshot_commune = change.commune_code.clone();
                }
                Ok(ChangeKind::Deceased) => subject.snapshot_life_status = "deceased".to_owned(),
                Ok(ChangeKind::Missing) => subject.snapshot_life_status = "missing".to_owned(),
                Ok(ChangeKind::Updated) => {
                    if let Some(snapshot) = &refreshed {
                        subject.snapshot_full_name = snapshot.full_name.clone();
                        subject.snapshot_birth_date = snapshot
                            .date_of_birth
                            .format(super::model::DATE)
                            .to_string();
                        if !snapshot.life_status.is_empty() {
                            subject.snapshot_life_status = snapshot.life_status.to_owned();
                        }
                    }
                }
                _ => {}
            }
            subject.snapshot_refreshed_us = change_us;
            subject.updated_us = now;
            self.store.update_subject(&txn, subject).await?;
        }
        self.store
            .set_feed_cursor(&txn, IDENTITY_FEED, &change.cursor, now)
            .await?;
        txn.commit().await?;
        if raised {
            self.alerts.notify_waiters();
        }
        Ok(true)
    }
}
