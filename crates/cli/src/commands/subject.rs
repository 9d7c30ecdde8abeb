//! `dancu subject …`: subject management (RecordsService) and its analysis
//! (AnalysisService): subjects, classifications, timelines, movement alerts, hotspots, risk
//! indicators and data-quality scorecards.

use super::parse::{date_arg, enum_value};
use crate::client::{Global, Service};
use crate::exit::{CallError, CallResult};
use crate::output::{self, Column};
use dancu_proto::common::v1::Date;
use dancu_proto::records::v1::analysis_service_client::AnalysisServiceClient;
use dancu_proto::records::v1::create_subject_request::Person;
use dancu_proto::records::v1::records_service_client::RecordsServiceClient;
use dancu_proto::records::v1::{
    AddClassificationRequest, AppendTimelineEntryRequest, CreateSubjectRequest,
    EndClassificationRequest, ForeignerKey, GetHotspotsRequest, GetRiskIndicatorRequest,
    GetScorecardRequest, GetSubjectRequest, ListMovementAlertsRequest, ListSubjectsRequest,
    ListTimelineEntriesRequest, RevalidateSubjectsRequest, SourceReference,
    WatchMovementAlertsRequest,
};
use tokio_stream::StreamExt;

const SUBJECT_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("KIND", "kind"),
    ("PERSONAL ID", "personal_id"),
    ("UNIT", "owning_unit"),
    ("AREA", "owning_area"),
];
const ENTRY_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("KIND", "kind"),
    ("DATE", "occur_date"),
    ("SUMMARY", "summary"),
    ("CORRECTS", "corrects_entry_id"),
];
const ALERT_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("KIND", "kind"),
    ("SUBJECT", "subject_id"),
    ("FROM", "previous_commune"),
    ("TO", "commune"),
    ("TIME", "create_time"),
];
const AREA_COLUMNS: &[Column] = &[
    ("AREA", "area_code"),
    ("RESIDENTS", "residents"),
    ("ACTIVE", "active_subjects"),
    ("NEW FACTS", "new_facts"),
    ("PER 1000", "active_rate_per_1000"),
    ("Z", "z_score"),
    ("RISING", "rising"),
];

/// Where a fact came from (flags shared by the commands that record facts).
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// investigation, judgment-enforcement, operational or administrative-violation.
    #[arg(long)]
    source_kind: String,
    /// Decision or case number, e.g. 123/QD-THA.
    #[arg(long)]
    reference: String,
    /// Unit that issued the decision.
    #[arg(long)]
    issuing_unit: String,
}

impl SourceArgs {
    fn into_proto(self) -> anyhow::Result<SourceReference> {
        Ok(SourceReference {
            kind: enum_value(
                "dancu.records.v1.SourceKind",
                "SOURCE_KIND_",
                &self.source_kind,
            )?,
            reference: self.reference,
            issuing_unit: self.issuing_unit,
        })
    }
}

/// `dancu subject` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SubjectCommand {
    /// Open a subject for a person identity knows: a citizen by personal ID, or a foreigner
    /// by --passport and --nationality. The subject belongs to your unit.
    #[command(
        after_help = "Example:\n  dancu subject create 001090000001 --source-kind judgment-enforcement \\\n    --reference 123/QD-THA --issuing-unit TAND-HN --purpose investigation --case 12/VKS-HS"
    )]
    Create {
        /// Personal ID of a citizen (leave out for a foreigner).
        personal_id: Option<String>,
        /// Passport number of a foreigner.
        #[arg(long, requires = "nationality", conflicts_with = "personal_id")]
        passport: Option<String>,
        /// Nationality of a foreigner (ISO 3166-1 alpha-3, e.g. KOR).
        #[arg(long, requires = "passport")]
        nationality: Option<String>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Show a subject with its classifications.
    #[command(after_help = "Example:\n  dancu subject get 0195f3a2-… --purpose investigation")]
    Get {
        /// Subject id.
        id: String,
    },
    /// List subjects inside your jurisdiction.
    #[command(
        after_help = "Example:\n  dancu subject list --classification post-rehabilitation --status active --commune 01001"
    )]
    List {
        /// Only subjects holding this class (e.g. drug-related).
        #[arg(long)]
        classification: Option<String>,
        /// Only classifications with this status: active or ended.
        #[arg(long)]
        status: Option<String>,
        /// Only subjects residing in this commune.
        #[arg(long, default_value = "")]
        commune: String,
        /// Only subjects of this unit.
        #[arg(long, default_value = "")]
        unit: String,
        /// Most subjects per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Add a classification to a subject.
    #[command(
        after_help = "Example:\n  dancu subject classify 0195f3a2-… --classification post-rehabilitation \\\n    --start 2026-01-15 --legal-basis 'Điều 65 BLHS' --source-kind judgment-enforcement \\\n    --reference 45/QD-THA --issuing-unit TAND-HN"
    )]
    Classify {
        /// Subject id.
        subject_id: String,
        /// criminal, drug-related, prior-conviction, prior-violation, suspicious-signs,
        /// community-education, post-rehabilitation, bail or probation.
        #[arg(long)]
        classification: String,
        /// First day in force (YYYY-MM-DD).
        #[arg(long, value_parser = date_arg)]
        start: Date,
        /// Last day in force (YYYY-MM-DD); open-ended when left out.
        #[arg(long, value_parser = date_arg)]
        end: Option<Date>,
        /// Legal basis of the classification.
        #[arg(long)]
        legal_basis: String,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// End a classification.
    #[command(
        after_help = "Example:\n  dancu subject end-classification 0195f3a9-… --end 2026-11-30"
    )]
    EndClassification {
        /// Classification id.
        id: String,
        /// Last day in force (YYYY-MM-DD).
        #[arg(long, value_parser = date_arg)]
        end: Date,
    },
    /// Append a fact to a subject's timeline (append-only: correct with --corrects).
    #[command(
        after_help = "Example:\n  dancu subject add-entry 0195f3a2-… --kind arrest --date 2026-11-20 \\\n    --summary 'Bắt quả tang' --source-kind investigation --reference 7/QD-CSDT \\\n    --issuing-unit CAX-01001"
    )]
    AddEntry {
        /// Subject id.
        subject_id: String,
        /// arrest, charge, conviction, sentence-served, administrative-violation,
        /// supervision-check-in or temporary-absence.
        #[arg(long)]
        kind: String,
        /// When it happened (YYYY-MM-DD).
        #[arg(long, value_parser = date_arg)]
        date: Date,
        /// What happened.
        #[arg(long)]
        summary: String,
        /// Id of the entry this one corrects.
        #[arg(long, default_value = "")]
        corrects: String,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// List a subject's timeline, oldest first.
    #[command(after_help = "Example:\n  dancu subject timeline 0195f3a2-… --output json")]
    Timeline {
        /// Subject id.
        subject_id: String,
        /// Most entries per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// List your unit's movement alerts, oldest first; --watch keeps streaming new ones.
    #[command(after_help = "Example:\n  dancu subject alerts --watch --output json")]
    Alerts {
        /// Keep the stream open and print alerts as they are raised.
        #[arg(long)]
        watch: bool,
        /// With --watch: start after this alert id.
        #[arg(long, default_value = "")]
        after: String,
        /// Most alerts per page.
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Hotspots of your jurisdiction: active subjects, new facts, rates per 1,000
    /// residents, and areas rising beyond their own baseline.
    #[command(
        after_help = "Example:\n  dancu subject hotspots --window-days 30 --baseline 6 --level province"
    )]
    Hotspots {
        /// Days per window (default 30).
        #[arg(long, default_value_t = 0)]
        window_days: i32,
        /// Earlier windows forming the baseline (default 6).
        #[arg(long, default_value_t = 0)]
        baseline: i32,
        /// Last day of the current window (YYYY-MM-DD; default today).
        #[arg(long, value_parser = date_arg)]
        end: Option<Date>,
        /// Only this province (2-digit code).
        #[arg(long, default_value = "")]
        province: String,
        /// commune or province.
        #[arg(long, default_value = "commune")]
        level: String,
    },
    /// A subject's risk indicator with the reasons behind the score.
    #[command(after_help = "Example:\n  dancu subject risk 0195f3a2-… --purpose investigation")]
    Risk {
        /// Subject id.
        subject_id: String,
    },
    /// The data-quality scorecard (đúng, đủ, sạch, sống) of a unit, with offending records.
    #[command(after_help = "Example:\n  dancu subject scorecard CAX-01001 --max-offences 20")]
    Scorecard {
        /// Unit code (default: your own unit).
        #[arg(default_value = "")]
        unit: String,
        /// Most offences listed (default 100).
        #[arg(long, default_value_t = 0)]
        max_offences: i32,
    },
    /// Re-validate a unit's subjects against identity now.
    #[command(after_help = "Example:\n  dancu subject revalidate CAX-01001")]
    Revalidate {
        /// Unit code (default: your own unit).
        #[arg(default_value = "")]
        unit: String,
    },
}

/// Runs a `dancu subject` subcommand.
pub async fn run(command: SubjectCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let format = global.output;
    let mut records = RecordsServiceClient::new(global.channel(Service::Records)?);
    let mut analysis = AnalysisServiceClient::new(global.channel(Service::Records)?);
    let class = |name: &str| enum_value("dancu.records.v1.Classification", "CLASSIFICATION_", name);
    match command {
        SubjectCommand::Create {
            personal_id,
            passport,
            nationality,
            source,
        } => {
            let person = match (personal_id, passport, nationality) {
                (Some(id), None, None) => Person::PersonalId(id),
                (None, Some(passport_number), Some(nationality)) => {
                    Person::Foreigner(ForeignerKey {
                        passport_number,
                        nationality,
                    })
                }
                _ => {
                    return Err(crate::exit::Usage(
                        "give a personal ID, or --passport and --nationality".to_owned(),
                    )
                    .into());
                }
            };
            let subject = records
                .create_subject(caller.request(CreateSubjectRequest {
                    person: Some(person),
                    source: Some(source.into_proto()?),
                })?)
                .await
                .call("CreateSubject")?;
            output::record(format, &subject, "dancu.records.v1.Subject")
        }
        SubjectCommand::Get { id } => {
            let subject = records
                .get_subject(caller.request(GetSubjectRequest { id })?)
                .await
                .call("GetSubject")?;
            output::record(format, &subject, "dancu.records.v1.Subject")
        }
        SubjectCommand::List {
            classification,
            status,
            commune,
            unit,
            page_size,
            page_token,
        } => {
            let response = records
                .list_subjects(
                    caller.request(ListSubjectsRequest {
                        classification: classification
                            .as_deref()
                            .map(class)
                            .transpose()?
                            .unwrap_or(0),
                        status: status
                            .as_deref()
                            .map(|s| {
                                enum_value(
                                    "dancu.records.v1.ClassificationStatus",
                                    "CLASSIFICATION_STATUS_",
                                    s,
                                )
                            })
                            .transpose()?
                            .unwrap_or(0),
                        commune,
                        owning_unit: unit,
                        page_size,
                        page_token,
                    })?,
                )
                .await
                .call("ListSubjects")?;
            output::list(
                format,
                &response,
                "dancu.records.v1.ListSubjectsResponse",
                "subjects",
                SUBJECT_COLUMNS,
            )
        }
        SubjectCommand::Classify {
            subject_id,
            classification,
            start,
            end,
            legal_basis,
            source,
        } => {
            let added = records
                .add_classification(caller.request(AddClassificationRequest {
                    subject_id,
                    classification: class(&classification)?,
                    start_date: Some(start),
                    end_date: end,
                    legal_basis,
                    source: Some(source.into_proto()?),
                })?)
                .await
                .call("AddClassification")?;
            output::record(format, &added, "dancu.records.v1.SubjectClassification")
        }
        SubjectCommand::EndClassification { id, end } => {
            let ended = records
                .end_classification(caller.request(EndClassificationRequest {
                    id,
                    end_date: Some(end),
                })?)
                .await
                .call("EndClassification")?;
            output::record(format, &ended, "dancu.records.v1.SubjectClassification")
        }
        SubjectCommand::AddEntry {
            subject_id,
            kind,
            date,
            summary,
            corrects,
            source,
        } => {
            let entry = records
                .append_timeline_entry(caller.request(AppendTimelineEntryRequest {
                    subject_id,
                    kind: enum_value(
                        "dancu.records.v1.TimelineEntryKind",
                        "TIMELINE_ENTRY_KIND_",
                        &kind,
                    )?,
                    occur_date: Some(date),
                    summary,
                    source: Some(source.into_proto()?),
                    corrects_entry_id: corrects,
                })?)
                .await
                .call("AppendTimelineEntry")?;
            output::record(format, &entry, "dancu.records.v1.TimelineEntry")
        }
        SubjectCommand::Timeline {
            subject_id,
            page_size,
            page_token,
        } => {
            let response = records
                .list_timeline_entries(caller.request(ListTimelineEntriesRequest {
                    subject_id,
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListTimelineEntries")?;
            output::list(
                format,
                &response,
                "dancu.records.v1.ListTimelineEntriesResponse",
                "entries",
                ENTRY_COLUMNS,
            )
        }
        SubjectCommand::Alerts {
            watch: true, after, ..
        } => {
            let mut streaming = RecordsServiceClient::new(global.stream_channel(Service::Records)?);
            let mut stream = streaming
                .watch_movement_alerts(caller.request(WatchMovementAlertsRequest {
                    after_alert_id: after,
                })?)
                .await
                .call("WatchMovementAlerts")?;
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                    item = stream.next() => match item {
                        None => return Ok(()),
                        Some(Err(status)) => {
                            return Err(CallError::new("WatchMovementAlerts", status).into())
                        }
                        Some(Ok(alert)) => output::stream_item(
                            format,
                            &alert,
                            "dancu.records.v1.MovementAlert",
                            ALERT_COLUMNS,
                        )?,
                    }
                }
            }
        }
        SubjectCommand::Alerts {
            page_size,
            page_token,
            ..
        } => {
            let response = records
                .list_movement_alerts(caller.request(ListMovementAlertsRequest {
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListMovementAlerts")?;
            output::list(
                format,
                &response,
                "dancu.records.v1.ListMovementAlertsResponse",
                "alerts",
                ALERT_COLUMNS,
            )
        }
        SubjectCommand::Hotspots {
            window_days,
            baseline,
            end,
            province,
            level,
        } => {
            let report = analysis
                .get_hotspots(caller.request(GetHotspotsRequest {
                    window_days,
                    baseline_windows: baseline,
                    end_date: end,
                    province_code: province,
                    level: enum_value("dancu.records.v1.AreaLevel", "AREA_LEVEL_", &level)?,
                })?)
                .await
                .call("GetHotspots")?;
            output::list(
                format,
                &report,
                "dancu.records.v1.HotspotReport",
                "areas",
                AREA_COLUMNS,
            )
        }
        SubjectCommand::Risk { subject_id } => {
            let risk = analysis
                .get_risk_indicator(caller.request(GetRiskIndicatorRequest { subject_id })?)
                .await
                .call("GetRiskIndicator")?;
            output::record(format, &risk, "dancu.records.v1.RiskIndicator")
        }
        SubjectCommand::Scorecard { unit, max_offences } => {
            let card = analysis
                .get_scorecard(caller.request(GetScorecardRequest { unit, max_offences })?)
                .await
                .call("GetScorecard")?;
            output::record(format, &card, "dancu.records.v1.Scorecard")
        }
        SubjectCommand::Revalidate { unit } => {
            let found = analysis
                .revalidate_subjects(caller.request(RevalidateSubjectsRequest { unit })?)
                .await
                .call("RevalidateSubjects")?;
            output::record(
                format,
                &found,
                "dancu.records.v1.RevalidateSubjectsResponse",
            )
        }
    }
}
