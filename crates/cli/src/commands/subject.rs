//! `dancu subject …`: subject records (RecordsService). Self-contained so that it can grow
//! with the records API.

use super::parse::enum_value;
use crate::client::{Global, Service};
use crate::exit::CallResult;
use crate::output;
use dancu_proto::records::v1::records_service_client::RecordsServiceClient;
use dancu_proto::records::v1::{
    CreateSubjectRecordRequest, GetSubjectRecordRequest, SourceReference,
};

const RECORD: &str = "dancu.records.v1.SubjectRecord";

/// `dancu subject` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SubjectCommand {
    /// Open a subject record on a registered person.
    #[command(
        after_help = "Example:\n  dancu subject create 001090000001 --classification post-rehabilitation \\\n    --source-kind judgment-enforcement --reference 123/QD-THA --issuing-unit CAHN \\\n    --purpose judgment_enforcement --case 123/QD-THA"
    )]
    Create {
        /// Personal ID of the subject.
        personal_id: String,
        /// criminal, drug-related, prior-conviction, prior-violation, suspicious-signs,
        /// community-education or post-rehabilitation.
        #[arg(long)]
        classification: String,
        /// investigation, judgment-enforcement, operational or administrative-violation.
        #[arg(long)]
        source_kind: String,
        /// Reference of the source document (decision, case file).
        #[arg(long)]
        reference: String,
        /// Unit that issued the source document.
        #[arg(long)]
        issuing_unit: String,
    },
    /// Show a subject record by id.
    #[command(
        after_help = "Example:\n  dancu subject get 0195f3a2-… --purpose investigation --case 12/VKS-HS"
    )]
    Get {
        /// Record id.
        id: String,
    },
}

/// Runs a `dancu subject` subcommand.
pub async fn run(command: SubjectCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = RecordsServiceClient::new(global.channel(Service::Records)?);
    let record = match command {
        SubjectCommand::Create {
            personal_id,
            classification,
            source_kind,
            reference,
            issuing_unit,
        } => client
            .create_subject_record(caller.request(CreateSubjectRecordRequest {
                personal_id,
                classification: enum_value(
                    "dancu.records.v1.Classification",
                    "CLASSIFICATION_",
                    &classification,
                )?,
                source: Some(SourceReference {
                    kind: enum_value("dancu.records.v1.SourceKind", "SOURCE_KIND_", &source_kind)?,
                    reference,
                    issuing_unit,
                }),
            })?)
            .await
            .call("CreateSubjectRecord")?,
        SubjectCommand::Get { id } => client
            .get_subject_record(caller.request(GetSubjectRecordRequest { id })?)
            .await
            .call("GetSubjectRecord")?,
    };
    output::record(global.output, &record, RECORD)
}
