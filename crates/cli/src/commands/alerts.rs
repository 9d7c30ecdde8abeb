//! `dancu alerts …`: alerts raised by the audit service (AuditAlertService).

use super::parse::enum_value;
use crate::client::{Global, Service};
use crate::exit::{CallError, CallResult};
use crate::output::{self, Column};
use dancu_proto::audit::v1::audit_alert_service_client::AuditAlertServiceClient;
use dancu_proto::audit::v1::{ListAlertsRequest, WatchAlertsRequest};
use tokio_stream::StreamExt;

const ALERT: &str = "dancu.audit.v1.Alert";
/// Columns of alert tables and lines.
pub const COLUMNS: &[Column] = &[
    ("ID", "alert_id"),
    ("KIND", "kind"),
    ("TIME", "create_time"),
    ("ACTOR", "actor_id"),
    ("UNIT", "actor_unit"),
    ("LEAF", "leaf_index"),
    ("DETAIL", "detail"),
];

/// `dancu alerts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AlertsCommand {
    /// Print alerts as they are raised (after the ones already raised past --after), until
    /// interrupted.
    #[command(after_help = "Example:\n  dancu alerts watch --after 0 --output json | jq .kind")]
    Watch(WatchArgs),
    /// List alerts raised so far, oldest first.
    #[command(after_help = "Example:\n  dancu alerts list --kind break-glass")]
    List {
        /// Only alerts of this kind: many-subjects, break-glass, outside-hours,
        /// repeated-denials or suspicious-signs.
        #[arg(long)]
        kind: Option<String>,
        /// Most alerts per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
}

/// Settings of `alerts watch` (and `audit watch`).
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Start after this alert id (0: replay every alert first).
    #[arg(long, default_value_t = 0)]
    pub after: u64,
}

/// Streams alerts until the stream ends or the user interrupts.
pub async fn watch(args: WatchArgs, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = AuditAlertServiceClient::new(global.stream_channel(Service::Audit)?);
    let mut stream = client
        .watch_alerts(caller.request(WatchAlertsRequest {
            after_alert_id: args.after,
        })?)
        .await
        .call("WatchAlerts")?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            item = stream.next() => match item {
                None => return Ok(()),
                Some(Err(status)) => return Err(CallError::new("WatchAlerts", status).into()),
                Some(Ok(alert)) => output::stream_item(global.output, &alert, ALERT, COLUMNS)?,
            }
        }
    }
}

/// Runs a `dancu alerts` subcommand.
pub async fn run(command: AlertsCommand, global: &Global) -> anyhow::Result<()> {
    match command {
        AlertsCommand::Watch(args) => watch(args, global).await,
        AlertsCommand::List {
            kind,
            page_size,
            page_token,
        } => {
            let kind = match &kind {
                Some(kind) => enum_value("dancu.audit.v1.AlertKind", "ALERT_KIND_", kind)?,
                None => 0,
            };
            let caller = global.caller().await?;
            let mut client = AuditAlertServiceClient::new(global.channel(Service::Audit)?);
            let response = client
                .list_alerts(caller.request(ListAlertsRequest {
                    kind,
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListAlerts")?;
            output::list(
                global.output,
                &response,
                "dancu.audit.v1.ListAlertsResponse",
                "alerts",
                COLUMNS,
            )
        }
    }
}
