//! Movement alerts as the owning unit reads them: listed, or streamed as they are raised.

use super::RecordsError;
use super::model::Alert;
use super::subject_cases::{Page, SubjectCases, touched};
use super::subjects::{actor, authorization};
use dancu_kit::call::CallContext;
use dancu_policy::Action;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tonic::Code;

/// Alerts read per round of a stream.
const STREAM_BATCH: u64 = 100;
/// Longest wait before looking for alerts again when no wake-up came.
const POLL: Duration = Duration::from_secs(1);

impl SubjectCases {
    /// Checks that the caller may read the alerts of their unit (subject records within
    /// their jurisdiction) and audits the call.
    async fn open_alerts(&self, ctx: &CallContext) -> Result<(), RecordsError> {
        self.check_purpose(ctx, None).await?;
        let Some(area) = actor(ctx).jurisdiction else {
            self.audit(ctx, None, None, Code::PermissionDenied).await?;
            return Err(RecordsError::Denied);
        };
        let decision = self.decide(ctx, Action::ReadSubjectRecord, area, "")?;
        let allowed = decision.allowed && !decision.break_glass;
        let code = if allowed {
            Code::Ok
        } else {
            Code::PermissionDenied
        };
        self.audit_decided(
            ctx,
            touched(None, None),
            code,
            &authorization(ctx, &decision),
        )
        .await?;
        if allowed {
            Ok(())
        } else {
            Err(RecordsError::Denied)
        }
    }

    /// One page of the alerts of the caller's unit after alert `after`, oldest first.
    pub async fn list_alerts(
        &self,
        ctx: &CallContext,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Page<Alert>, RecordsError> {
        self.open_alerts(ctx).await?;
        let rows = self.store.alerts(&ctx.principal.unit, after, limit).await?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        Ok(Page {
            items: rows.into_iter().map(|row| Alert { row }).collect(),
            next,
        })
    }

    /// Streams the alerts of the caller's unit after alert `after`, then new ones as they
    /// are raised, until the receiver is dropped.
    pub async fn watch_alerts(
        self: &Arc<Self>,
        ctx: &CallContext,
        after: Option<String>,
    ) -> Result<mpsc::Receiver<Result<Alert, RecordsError>>, RecordsError> {
        self.open_alerts(ctx).await?;
        let (tx, rx) = mpsc::channel(STREAM_BATCH as usize);
        let cases = self.clone();
        let unit = ctx.principal.unit.clone();
        let mut closing = self.closing.clone();
        tokio::spawn(async move {
            let mut after = after;
            loop {
                let woken = cases.alerts.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let rows = match cases
                    .store
                    .alerts(&unit, after.as_deref(), STREAM_BATCH)
                    .await
                {
                    Ok(rows) => rows,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let full = rows.len() as u64 == STREAM_BATCH;
                for row in rows {
                    after = Some(row.id.clone());
                    if tx.send(Ok(Alert { row })).await.is_err() {
                        return;
                    }
                }
                if full {
                    continue;
                }
                tokio::select! {
                    () = &mut woken => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = tx.closed() => return,
                    _ = closing.wait_for(|closing| *closing) => return,
                }
            }
        });
        Ok(rx)
    }
}
