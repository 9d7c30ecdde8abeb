//! `dancu.audit.v1.AuditAlertService`: listing and watching alerts.

use super::{FieldViolations, next_token, page, status};
use crate::app::AuditLog;
use crate::app::alerts::AlertKind;
use crate::store::StoredAlert;
use dancu_kit::auth::{ROLE_AUDITOR, ROLE_SYSTEM_ADMIN, principal};
use dancu_kit::convert::timestamp_from_us;
use dancu_proto::audit::v1::audit_alert_service_server::AuditAlertService;
use dancu_proto::audit::v1::{
    Alert, AlertKind as ProtoKind, ListAlertsRequest, ListAlertsResponse, WatchAlertsRequest,
};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Alerts read from the database per catch-up query.
const CATCH_UP_PAGE: u64 = 500;

/// Implements `dancu.audit.v1.AuditAlertService`.
pub struct AlertsApi {
    log: Arc<AuditLog>,
    /// Becomes true when the server shuts down: open watches end.
    closing: watch::Receiver<bool>,
}

impl AlertsApi {
    /// The API over `log`; watches end when `closing` turns true.
    pub fn new(log: Arc<AuditLog>, closing: watch::Receiver<bool>) -> Self {
        Self { log, closing }
    }
}

fn kind_to_proto(code: &str) -> ProtoKind {
    match AlertKind::from_code(code) {
        Some(AlertKind::ManySubjects) => ProtoKind::ManySubjects,
        Some(AlertKind::BreakGlass) => ProtoKind::BreakGlass,
        Some(AlertKind::OutsideHours) => ProtoKind::OutsideHours,
        Some(AlertKind::RepeatedDenials) => ProtoKind::RepeatedDenials,
        Some(AlertKind::SuspiciousSigns) => ProtoKind::SuspiciousSigns,
        None => ProtoKind::Unspecified,
    }
}

fn to_proto(a: StoredAlert) -> Alert {
    Alert {
        alert_id: a.alert_id as u64,
        kind: kind_to_proto(&a.kind) as i32,
        create_time: Some(timestamp_from_us(a.create_time_us)),
        event_id: a.event_id,
        leaf_index: a.leaf_index as u64,
        actor_id: a.actor_id,
        actor_unit: a.actor_unit,
        detail: a.detail,
    }
}

#[tonic::async_trait]
impl AuditAlertService for AlertsApi {
    async fn list_alerts(
        &self,
        request: Request<ListAlertsRequest>,
    ) -> Result<Response<ListAlertsResponse>, Status> {
        principal(&request)?.require_any_role(&[ROLE_AUDITOR, ROLE_SYSTEM_ADMIN])?;
        let request = request.into_inner();
        let mut violations = FieldViolations::new();
        let kind = match ProtoKind::try_from(request.kind) {
            Ok(ProtoKind::Unspecified) => None,
            Ok(ProtoKind::ManySubjects) => Some(AlertKind::ManySubjects),
            Ok(ProtoKind::BreakGlass) => Some(AlertKind::BreakGlass),
            Ok(ProtoKind::OutsideHours) => Some(AlertKind::OutsideHours),
            Ok(ProtoKind::RepeatedDenials) => Some(AlertKind::RepeatedDenials),
            Ok(ProtoKind::SuspiciousSigns) => Some(AlertKind::SuspiciousSigns),
            Err(_) => {
                violations.add("kind", "is not a known alert kind");
                None
            }
        };
        let (page_size, after) = page(
            "alerts",
            request.page_size,
            &request.page_token,
            &mut violations,
        );
        violations.check()?;
        let (alerts, next) = self
            .log
            .alerts(kind, after.unwrap_or(0), page_size)
            .await
            .map_err(status)?;
        Ok(Response::new(ListAlertsResponse {
            alerts: alerts.into_iter().map(to_proto).collect(),
            next_page_token: next_token("alerts", next),
        }))
    }

    type WatchAlertsStream = ReceiverStream<Result<Alert, Status>>;

    async fn watch_alerts(
        &self,
        request: Request<WatchAlertsRequest>,
    ) -> Result<Response<Self::WatchAlertsStream>, Status> {
        principal(&request)?.require_any_role(&[ROLE_AUDITOR, ROLE_SYSTEM_ADMIN])?;
        let after = i64::try_from(request.into_inner().after_alert_id)
            .map_err(|_| dancu_kit::error::invalid_field("after_alert_id", "is too large"))?;
        let (tx, rx) = mpsc::channel(64);
        // Subscribe before catching up, so nothing raised in between is missed.
        let live = self.log.subscribe_alerts();
        tokio::spawn(watch(
            self.log.clone(),
            after,
            live,
            tx,
            self.closing.clone(),
        ));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Streams stored alerts after `cursor`, then live ones, until the client leaves or the
/// server shuts down. A watcher that falls behind catches up from the database.
async fn watch(
    log: Arc<AuditLog>,
    mut cursor: i64,
    mut live: broadcast::Receiver<StoredAlert>,
    tx: mpsc::Sender<Result<Alert, Status>>,
    mut closing: watch::Receiver<bool>,
) {
    if *closing.borrow_and_update() {
        return;
    }
    'catch_up: loop {
        loop {
            let page = match log.alerts(None, cursor, CATCH_UP_PAGE).await {
                Ok((page, _)) => page,
                Err(error) => {
                    let _ = tx.send(Err(status(error))).await;
                    return;
                }
            };
            if page.is_empty() {
                break;
            }
            for alert in page {
                cursor = alert.alert_id;
                if tx.send(Ok(to_proto(alert))).await.is_err() {
                    return;
                }
            }
        }
        loop {
            tokio::select! {
                _ = closing.changed() => return,
                () = tx.closed() => return,
                received = live.recv() => match received {
                    Ok(alert) if alert.alert_id > cursor => {
                        cursor = alert.alert_id;
                        if tx.send(Ok(to_proto(alert))).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => continue 'catch_up,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}
