//! The re-validation job: asks identity, as records' service account, whether each
//! subject's person is still known with the name and date of birth records holds, and keeps
//! the answer for the data-quality scorecard. It never rewrites the subject rows (the
//! change-feed follower refreshes snapshots); a mismatch therefore stays visible until the
//! snapshot is refreshed or corrected.

use super::scorecard::Verification;
use crate::app::model::DATE;
use crate::app::{Asker, IdentityDirectory, RecordsError};
use crate::store::{RecordsStore, SubjectRow, ValidationRow};
use dancu_audit_client::TokenSource;
use dancu_domain::PersonalId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Subjects the periodic job checks per page.
const PAGE: u64 = 200;

/// What one run found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revalidation {
    /// Subjects checked.
    pub checked: u64,
    /// Same name and date of birth.
    pub matched: u64,
    /// Another name or date of birth.
    pub mismatched: u64,
    /// Not known to identity.
    pub unknown: u64,
}

/// Re-validates subjects against identity.
pub struct Revalidator {
    store: RecordsStore,
    identity: IdentityDirectory,
    tokens: Arc<dyn TokenSource>,
}

/// A running periodic job.
pub struct RevalidationJob {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RevalidationJob {
    /// Stops the job (between two subjects) and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Revalidator {
    /// A re-validator asking `identity` with the service account behind `tokens`.
    pub fn new(
        store: RecordsStore,
        identity: IdentityDirectory,
        tokens: Arc<dyn TokenSource>,
    ) -> Self {
        Self {
            store,
            identity,
            tokens,
        }
    }

    /// Checks `subjects` now and stores each result. Identity unreachable →
    /// `IdentityUnavailable` (results stored so far are kept: each is complete on its own).
    pub async fn run(&self, subjects: &[SubjectRow]) -> Result<Revalidation, RecordsError> {
        let token = self
            .tokens
            .token()
            .await
            .map_err(|_| RecordsError::IdentityUnavailable)?;
        let mut found = Revalidation::default();
        for subject in subjects {
            let verification = self.check(&token, subject).await?;
            found.checked += 1;
            match verification {
                Verification::Match => found.matched += 1,
                Verification::Mismatch => found.mismatched += 1,
                Verification::UnknownPerson => found.unknown += 1,
                Verification::Unchecked => {}
            }
            self.store
                .save_validation(&ValidationRow {
                    subject_id: subject.id.clone(),
                    verification: verification.code().to_owned(),
                    checked_us: chrono::Utc::now().timestamp_micros(),
                })
                .await?;
        }
        Ok(found)
    }

    async fn check(&self, token: &str, subject: &SubjectRow) -> Result<Verification, RecordsError> {
        let asker = Asker::Service(token);
        let looked_up = if subject.kind == "citizen" {
            let Ok(id) = PersonalId::parse(&subject.personal_id) else {
                return Ok(Verification::UnknownPerson);
            };
            self.identity.citizen(&asker, &id).await
        } else {
            self.identity
                .foreigner(&asker, &subject.passport_number, &subject.nationality)
                .await
        };
        match looked_up {
            Ok(person) => {
                let same = person.full_name == subject.snapshot_full_name
                    && person.date_of_birth.format(DATE).to_string() == subject.snapshot_birth_date;
                Ok(if same {
                    Verification::Match
                } else {
                    Verification::Mismatch
                })
            }
            Err(RecordsError::PersonUnknown) => Ok(Verification::UnknownPerson),
            Err(error) => Err(error),
        }
    }

    /// Checks every subject, a page at a time, until done or stopped.
    async fn run_all(&self, stopped: &mut watch::Receiver<bool>) -> Result<(), RecordsError> {
        let mut after = String::new();
        loop {
            if *stopped.borrow() {
                return Ok(());
            }
            let page = self.store.subjects_after(&after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.id.clone();
            self.run(&page).await?;
        }
    }

    /// Runs over every subject every `every`, until stopped. A failed run is retried at
    /// the next tick.
    pub fn spawn(self: Arc<Self>, every: Duration) -> RevalidationJob {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick fires at once; skip it so start-up is not slowed.
            ticks.tick().await;
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = ticks.tick() => {}
                }
                if let Err(error) = self.run_all(&mut stopped).await {
                    tracing::warn!(
                        cause = error.category(),
                        "subject re-validation failed; retrying later"
                    );
                }
            }
        });
        RevalidationJob { stop, task }
    }
}
