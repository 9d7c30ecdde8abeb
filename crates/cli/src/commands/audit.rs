//! `dancu audit …`: the audit log (AuditService, AuditLogService) and its alerts.

use super::alerts::{WatchArgs, watch};
use super::parse::timestamp_arg;
use crate::client::{Global, Service};
use crate::exit::CallResult;
use crate::output;
use dancu_proto::audit::v1::audit_service_client::AuditServiceClient;
use dancu_proto::audit::v1::{GetSubjectAccessReportRequest, ListEventsRequest};

/// `dancu audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// List audit events, oldest first, filtered by actor, unit, subject, purpose and time.
    #[command(
        after_help = "Examples:\n  dancu audit events --subject 001090000001\n  dancu audit events --actor 0195f3a2-… --since 2026-11-01T00:00:00+07:00 --output json"
    )]
    Events(EventsArgs),
    /// Who accessed a person's data, when and why (the subject access report).
    #[command(after_help = "Example:\n  dancu audit report 001090000001")]
    Report {
        /// The person (12-digit personal ID).
        subject: String,
        /// Most accesses per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Verify the audit log independently: fetch the latest signed checkpoint and every
    /// entry, recompute each leaf hash and the root, check the signature, and check
    /// consistency with a checkpoint saved by an earlier run (then save the new one).
    /// Exits non-zero naming the first bad leaf.
    #[command(after_help = "Example:\n  dancu audit verify --checkpoint-file audit-checkpoint.txt")]
    Verify(crate::audit::VerifyArgs),
    /// Print alerts as the audit service raises them, until interrupted.
    #[command(after_help = "Example:\n  dancu audit watch --output json")]
    Watch(WatchArgs),
}

/// Settings of `dancu audit events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Only events by this actor (officer id).
    #[arg(long, default_value = "")]
    pub actor: String,
    /// Only events by actors of this unit.
    #[arg(long, default_value = "")]
    pub unit: String,
    /// Only events about this person (12-digit personal ID).
    #[arg(long, default_value = "")]
    pub subject: String,
    /// Only events declaring this purpose code.
    #[arg(long = "with-purpose", default_value = "")]
    pub with_purpose: String,
    /// Only events at or after this time (RFC 3339).
    #[arg(long, value_parser = timestamp_arg)]
    pub since: Option<prost_types::Timestamp>,
    /// Only events before this time (RFC 3339).
    #[arg(long, value_parser = timestamp_arg)]
    pub until: Option<prost_types::Timestamp>,
    /// Most events per page (1–1000).
    #[arg(long, default_value_t = 0)]
    pub page_size: i32,
    /// Token of the page to show, from an earlier answer.
    #[arg(long, default_value = "")]
    pub page_token: String,
}

/// Runs a `dancu audit` subcommand.
pub async fn run(command: AuditCommand, global: &Global) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify(args) => crate::audit::verify(args, global).await,
        AuditCommand::Watch(args) => watch(args, global).await,
        AuditCommand::Events(args) => {
            let caller = global.caller().await?;
            let mut client = AuditServiceClient::new(global.channel(Service::Audit)?);
            let response = client
                .list_events(caller.request(ListEventsRequest {
                    actor_id: args.actor,
                    subject: args.subject,
                    start_time: args.since,
                    end_time: args.until,
                    page_size: args.page_size,
                    page_token: args.page_token,
                    actor_unit: args.unit,
                    purpose: args.with_purpose,
                })?)
                .await
                .call("ListEvents")?;
            output::list(
                global.output,
                &response,
                "dancu.audit.v1.ListEventsResponse",
                "events",
                &[
                    ("LEAF", "leaf_index"),
                    ("TIME", "occur_time"),
                    ("SERVICE", "service"),
                    ("RPC", "rpc"),
                    ("ACTOR", "actor_id"),
                    ("UNIT", "actor_unit"),
                    ("PURPOSE", "purpose"),
                    ("CASE", "case_reference"),
                    ("DECISION", "decision"),
                    ("OUTCOME", "outcome"),
                ],
            )
        }
        AuditCommand::Report {
            subject,
            page_size,
            page_token,
        } => {
            let caller = global.caller().await?;
            let mut client = AuditServiceClient::new(global.channel(Service::Audit)?);
            let response = client
                .get_subject_access_report(caller.request(GetSubjectAccessReportRequest {
                    subject,
                    page_size,
                    page_token,
                })?)
                .await
                .call("GetSubjectAccessReport")?;
            output::list(
                global.output,
                &response,
                "dancu.audit.v1.GetSubjectAccessReportResponse",
                "accesses",
                &[
                    ("TIME", "occur_time"),
                    ("UNIT", "unit"),
                    ("PURPOSE", "purpose"),
                    ("SERVICE", "service"),
                    ("RESOURCE", "resource_type"),
                    ("OUTCOME", "outcome"),
                ],
            )
        }
    }
}
