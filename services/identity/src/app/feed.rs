//! The change feed: who may follow it, and reading it in order.

use super::IdentityError;
use super::journal::Journal;
use crate::store::ChangeRow;
use dancu_kit::auth::{ROLE_SERVICE, ROLE_SYSTEM_ADMIN};
use dancu_kit::call::CallContext;
use std::sync::Arc;
use tokio::sync::Notify;
use tonic::Code;

/// Resource type in audit events.
const RESOURCE: &str = "change_feed";

/// Reading the change feed.
pub struct ChangeFeed {
    journal: Arc<Journal>,
}

impl ChangeFeed {
    /// The feed of `journal`'s store.
    pub fn new(journal: Arc<Journal>) -> Self {
        Self { journal }
    }

    /// Checks that the caller may follow the feed (internal services and system
    /// administrators) and audits the opening of the stream.
    pub async fn open(&self, ctx: &CallContext) -> Result<(), IdentityError> {
        let roles = &ctx.principal.roles;
        if !roles
            .iter()
            .any(|r| r == ROLE_SERVICE || r == ROLE_SYSTEM_ADMIN)
        {
            return Err(self
                .journal
                .fail(
                    None,
                    ctx,
                    RESOURCE,
                    &[],
                    IdentityError::PermissionDenied(
                        "the change feed is for internal services".to_owned(),
                    ),
                )
                .await);
        }
        self.journal
            .record(ctx, RESOURCE, &[], None, Code::Ok)
            .await
    }

    /// Changes after `after_seq`, in commit order.
    pub async fn after(&self, after_seq: i64, limit: u64) -> Result<Vec<ChangeRow>, IdentityError> {
        Ok(self.journal.store().changes_after(after_seq, limit).await?)
    }

    /// Raised after every commit that appended changes.
    pub fn signal(&self) -> Arc<Notify> {
        self.journal.feed_signal()
    }
}
