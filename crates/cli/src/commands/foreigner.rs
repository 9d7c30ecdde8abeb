//! `dancu foreigner …`: foreigners and their accommodation declarations (ForeignerService).

use super::parse::{date_arg, enum_value, timestamp_arg};
use crate::client::{Global, Service};
use crate::exit::CallResult;
use crate::output::{self, Column};
use dancu_proto::common::v1::Date;
use dancu_proto::identity::v1::foreigner_service_client::ForeignerServiceClient;
use dancu_proto::identity::v1::{
    AccommodationDeclaration, CheckOutAccommodationRequest, DeclareAccommodationRequest,
    EntryDocument, Foreigner, GetForeignerRequest, ListCurrentStaysRequest, ListForeignersRequest,
    RegisterForeignerRequest,
};

const FOREIGNER: &str = "dancu.identity.v1.Foreigner";
const DECLARATION: &str = "dancu.identity.v1.AccommodationDeclaration";
const COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("PASSPORT", "passport_number"),
    ("NATIONALITY", "nationality"),
    ("FULL NAME", "full_name"),
    ("BORN", "date_of_birth"),
    ("DOCUMENT", "entry_document.type"),
    ("VALID UNTIL", "entry_document.valid_until"),
];

/// `dancu foreigner` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ForeignerCommand {
    /// Register a foreigner with their passport and entry document.
    #[command(
        after_help = "Example:\n  dancu foreigner register --passport C1234567 --nationality KOR --full-name \"KIM MIN JUN\" \\\n    --sex male --date-of-birth 1988-03-02 --document visa --document-number VN123456 \\\n    --valid-from 2026-01-01 --valid-until 2026-12-31 --purpose residence_management"
    )]
    Register(RegisterArgs),
    /// Show a foreigner by id.
    #[command(
        after_help = "Example:\n  dancu foreigner get 0195f3a2-… --purpose residence_management"
    )]
    Get {
        /// Foreigner id.
        id: String,
    },
    /// List foreigners, by nationality or passport number.
    #[command(
        after_help = "Example:\n  dancu foreigner list --nationality KOR --purpose residence_management"
    )]
    List {
        /// Nationality (ISO 3166-1 alpha-3).
        #[arg(long, default_value = "")]
        nationality: String,
        /// Passport number.
        #[arg(long, default_value = "")]
        passport: String,
        /// Most foreigners per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Accommodation declarations (where foreigners stay).
    #[command(subcommand)]
    Stay(StayCommand),
}

/// Settings of `dancu foreigner register`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// Passport number.
    #[arg(long)]
    pub passport: String,
    /// Nationality (ISO 3166-1 alpha-3, e.g. KOR).
    #[arg(long)]
    pub nationality: String,
    /// Full name as in the passport.
    #[arg(long)]
    pub full_name: String,
    /// Sex: male or female.
    #[arg(long)]
    pub sex: String,
    /// Date of birth (YYYY-MM-DD).
    #[arg(long, value_parser = date_arg)]
    pub date_of_birth: Date,
    /// Entry document: visa, temporary-residence-card or permanent-residence-card.
    #[arg(long)]
    pub document: String,
    /// Entry document number.
    #[arg(long)]
    pub document_number: String,
    /// First day the document is valid.
    #[arg(long, value_parser = date_arg)]
    pub valid_from: Date,
    /// Last day the document is valid.
    #[arg(long, value_parser = date_arg)]
    pub valid_until: Date,
}

/// `dancu foreigner stay` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StayCommand {
    /// Declare where a foreigner stays.
    #[command(
        after_help = "Example:\n  dancu foreigner stay declare --foreigner 0195f3a2-… --host-name \"Khách sạn Sen\" \\\n    --commune 01001 --address \"3 Hàng Bài\" --arrival 2026-11-28T20:00:00+07:00 \\\n    --planned-departure 2026-12-02T12:00:00+07:00 --purpose residence_management"
    )]
    Declare {
        /// Foreigner id.
        #[arg(long)]
        foreigner: String,
        /// Host (accommodation establishment or person).
        #[arg(long)]
        host_name: String,
        /// Commune code (5 digits).
        #[arg(long)]
        commune: String,
        /// Address within the commune.
        #[arg(long)]
        address: String,
        /// Arrival time (RFC 3339).
        #[arg(long, value_parser = timestamp_arg)]
        arrival: prost_types::Timestamp,
        /// Planned departure time (RFC 3339).
        #[arg(long, value_parser = timestamp_arg)]
        planned_departure: prost_types::Timestamp,
        /// The place is in a remote area (longer declaration deadline).
        #[arg(long)]
        remote_area: bool,
    },
    /// Record that a foreigner left the place declared.
    #[command(
        after_help = "Example:\n  dancu foreigner stay check-out 0195f3b0-… --purpose residence_management"
    )]
    CheckOut {
        /// Declaration id.
        declaration_id: String,
        /// Departure time (RFC 3339); now when omitted.
        #[arg(long, value_parser = timestamp_arg)]
        at: Option<prost_types::Timestamp>,
    },
    /// List the foreigners staying in a commune now.
    #[command(
        after_help = "Example:\n  dancu foreigner stay list --commune 01001 --purpose residence_management"
    )]
    List {
        /// Commune code (5 digits).
        #[arg(long)]
        commune: String,
        /// Most stays per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
}

/// Runs a `dancu foreigner` subcommand.
pub async fn run(command: ForeignerCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = ForeignerServiceClient::new(global.channel(Service::Identity)?);
    let format = global.output;
    match command {
        ForeignerCommand::Register(args) => {
            let foreigner = Foreigner {
                passport_number: args.passport,
                nationality: args.nationality,
                full_name: args.full_name,
                sex: enum_value("dancu.common.v1.Sex", "SEX_", &args.sex)?,
                date_of_birth: Some(args.date_of_birth),
                entry_document: Some(EntryDocument {
                    r#type: enum_value(
                        "dancu.identity.v1.EntryDocumentType",
                        "ENTRY_DOCUMENT_TYPE_",
                        &args.document,
                    )?,
                    number: args.document_number,
                    valid_from: Some(args.valid_from),
                    valid_until: Some(args.valid_until),
                }),
                ..Foreigner::default()
            };
            let foreigner = client
                .register_foreigner(caller.request(RegisterForeignerRequest {
                    foreigner: Some(foreigner),
                })?)
                .await
                .call("RegisterForeigner")?;
            output::record(format, &foreigner, FOREIGNER)
        }
        ForeignerCommand::Get { id } => {
            let foreigner = client
                .get_foreigner(caller.request(GetForeignerRequest { id })?)
                .await
                .call("GetForeigner")?;
            output::record(format, &foreigner, FOREIGNER)
        }
        ForeignerCommand::List {
            nationality,
            passport,
            page_size,
            page_token,
        } => {
            let response = client
                .list_foreigners(caller.request(ListForeignersRequest {
                    nationality,
                    passport_number: passport,
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListForeigners")?;
            output::list(
                format,
                &response,
                "dancu.identity.v1.ListForeignersResponse",
                "foreigners",
                COLUMNS,
            )
        }
        ForeignerCommand::Stay(StayCommand::Declare {
            foreigner,
            host_name,
            commune,
            address,
            arrival,
            planned_departure,
            remote_area,
        }) => {
            let declaration = client
                .declare_accommodation(caller.request(DeclareAccommodationRequest {
                    declaration: Some(AccommodationDeclaration {
                        foreigner_id: foreigner,
                        host_name,
                        commune_code: commune,
                        address,
                        arrival_time: Some(arrival),
                        planned_departure_time: Some(planned_departure),
                        remote_area,
                        ..AccommodationDeclaration::default()
                    }),
                })?)
                .await
                .call("DeclareAccommodation")?;
            output::record(format, &declaration, DECLARATION)
        }
        ForeignerCommand::Stay(StayCommand::CheckOut { declaration_id, at }) => {
            let declaration = client
                .check_out_accommodation(caller.request(CheckOutAccommodationRequest {
                    declaration_id,
                    check_out_time: at,
                })?)
                .await
                .call("CheckOutAccommodation")?;
            output::record(format, &declaration, DECLARATION)
        }
        ForeignerCommand::Stay(StayCommand::List {
            commune,
            page_size,
            page_token,
        }) => {
            let response = client
                .list_current_stays(caller.request(ListCurrentStaysRequest {
                    commune_code: commune,
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListCurrentStays")?;
            output::list(
                format,
                &response,
                "dancu.identity.v1.ListCurrentStaysResponse",
                "stays",
                &[
                    ("FOREIGNER", "foreigner.id"),
                    ("FULL NAME", "foreigner.full_name"),
                    ("NATIONALITY", "foreigner.nationality"),
                    ("DECLARATION", "declaration.id"),
                    ("HOST", "declaration.host_name"),
                    ("ARRIVED", "declaration.arrival_time"),
                ],
            )
        }
    }
}
