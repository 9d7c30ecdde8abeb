//! The policy check every register call makes before it reads anything: the caller's roles
//! must allow the declared purpose and allow reading people at all.

use super::{CitizenAccess, IdentityError, Journal};
use dancu_kit::call::CallContext;
use std::sync::Arc;

/// Checks purpose and roles before any data is read, and audits a refusal.
pub struct PurposeGuard {
    access: Arc<CitizenAccess>,
    journal: Arc<Journal>,
}

impl PurposeGuard {
    /// A guard deciding with `access`, auditing refusals through `journal`.
    pub fn new(access: Arc<CitizenAccess>, journal: Arc<Journal>) -> Self {
        Self { access, journal }
    }

    /// `Ok` when the call may go on; otherwise the refusal, already audited (as a denial)
    /// against `resource_type`. The refusal names nobody.
    pub async fn check(&self, ctx: &CallContext, resource_type: &str) -> Result<(), IdentityError> {
        match self.access.precheck(ctx) {
            Ok(()) => Ok(()),
            Err(error) => Err(self
                .journal
                .fail(None, ctx, resource_type, &[], error)
                .await),
        }
    }
}
