//! `dancu residence …`: residence declarations (ResidenceService).

use super::parse::{date_arg, enum_value};
use crate::client::{Global, Service};
use crate::exit::CallResult;
use crate::output::{self, Column};
use dancu_proto::common::v1::Date;
use dancu_proto::identity::v1::residence_service_client::ResidenceServiceClient;
use dancu_proto::identity::v1::{
    DeclareResidenceRequest, GetResidenceRequest, ListResidenceEventsRequest,
};

const EVENT_COLUMNS: &[Column] = &[
    ("EVENT", "event_id"),
    ("KIND", "kind"),
    ("COMMUNE", "commune_code"),
    ("ADDRESS", "address"),
    ("FROM", "start_date"),
    ("UNTIL", "end_date"),
    ("RECORDED", "record_time"),
];

/// `dancu residence` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ResidenceCommand {
    /// Declare a permanent or temporary residence, a stay, or an absence.
    #[command(
        after_help = "Examples:\n  dancu residence declare 001090000001 --kind permanent --commune 01001 \\\n    --address \"12 Phố Huế\" --start 2020-01-15 --purpose residence_management\n  dancu residence declare 001090000001 --kind temporary --commune 01002 \\\n    --address \"5 Lê Lợi\" --start 2026-01-01 --end 2026-12-31 --purpose residence_management"
    )]
    Declare(DeclareArgs),
    /// Show where a person resides: permanent, temporary, absence and stays in force.
    #[command(
        after_help = "Example:\n  dancu residence get 001090000001 --purpose residence_management"
    )]
    Get {
        /// Personal ID (12 digits).
        personal_id: String,
    },
    /// List a person's residence events, oldest first.
    #[command(
        after_help = "Example:\n  dancu residence events 001090000001 --purpose residence_management"
    )]
    Events {
        /// Personal ID (12 digits).
        personal_id: String,
        /// Most events per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
}

/// Settings of `dancu residence declare`.
#[derive(Debug, clap::Args)]
pub struct DeclareArgs {
    /// Personal ID (12 digits).
    pub personal_id: String,
    /// permanent, temporary, stay or absence.
    #[arg(long)]
    pub kind: String,
    /// Commune code (5 digits).
    #[arg(long, default_value = "")]
    pub commune: String,
    /// Address within the commune.
    #[arg(long, default_value = "")]
    pub address: String,
    /// First day (YYYY-MM-DD).
    #[arg(long, value_parser = date_arg)]
    pub start: Option<Date>,
    /// Last day (YYYY-MM-DD), for temporary residence, stays and absences.
    #[arg(long, value_parser = date_arg)]
    pub end: Option<Date>,
    /// Name of the host (stays).
    #[arg(long, default_value = "")]
    pub host_name: String,
    /// Supervision measure of an absence (none, bail, probation, …).
    #[arg(long)]
    pub supervision: Option<String>,
    /// Destination of an absence.
    #[arg(long, default_value = "")]
    pub destination: String,
}

/// Runs a `dancu residence` subcommand.
pub async fn run(command: ResidenceCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = ResidenceServiceClient::new(global.channel(Service::Identity)?);
    let format = global.output;
    match command {
        ResidenceCommand::Declare(args) => {
            let supervision = match &args.supervision {
                Some(s) => enum_value("dancu.identity.v1.Supervision", "SUPERVISION_", s)?,
                None => 0,
            };
            let event = client
                .declare_residence(caller.request(DeclareResidenceRequest {
                    personal_id: args.personal_id,
                    kind: enum_value(
                        "dancu.identity.v1.ResidenceKind",
                        "RESIDENCE_KIND_",
                        &args.kind,
                    )?,
                    commune_code: args.commune,
                    address: args.address,
                    start_date: args.start,
                    end_date: args.end,
                    host_name: args.host_name,
                    supervision,
                    destination: args.destination,
                })?)
                .await
                .call("DeclareResidence")?;
            output::record(format, &event, "dancu.identity.v1.ResidenceEvent")
        }
        ResidenceCommand::Get { personal_id } => {
            let residence = client
                .get_residence(caller.request(GetResidenceRequest { personal_id })?)
                .await
                .call("GetResidence")?;
            output::record(format, &residence, "dancu.identity.v1.Residence")
        }
        ResidenceCommand::Events {
            personal_id,
            page_size,
            page_token,
        } => {
            let response = client
                .list_residence_events(caller.request(ListResidenceEventsRequest {
                    personal_id,
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListResidenceEvents")?;
            output::list(
                format,
                &response,
                "dancu.identity.v1.ListResidenceEventsResponse",
                "events",
                EVENT_COLUMNS,
            )
        }
    }
}
