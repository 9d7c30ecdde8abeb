//! `dancu citizen …`: the population register (IdentityService).

use super::parse::{date_arg, enum_value};
use crate::client::{Global, Service};
use crate::exit::{CallResult, Usage};
use crate::output::{self, Column};
use dancu_proto::common::v1::Date;
use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
use dancu_proto::identity::v1::{
    Citizen, FamilyLinks, GetCitizenRequest, ListCitizenHistoryRequest, RegisterCitizenRequest,
    SearchCitizensRequest, UpdateCitizenRequest,
};

const CITIZEN: &str = "dancu.identity.v1.Citizen";
const COLUMNS: &[Column] = &[
    ("PERSONAL ID", "personal_id"),
    ("FULL NAME", "full_name"),
    ("SEX", "sex"),
    ("BORN", "date_of_birth"),
    ("RESIDES IN", "residence.current_commune_code"),
    ("STATUS", "life_status"),
];

/// `dancu citizen` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CitizenCommand {
    /// Show one citizen by personal ID.
    #[command(
        after_help = "Example:\n  dancu citizen get 001090000001 --purpose residence_management"
    )]
    Get {
        /// Personal ID (12 digits).
        personal_id: String,
    },
    /// Find citizens by name (any case, with or without diacritics).
    #[command(
        after_help = "Example:\n  dancu citizen search \"nguyen van an\" --birth-year 1990 --province 01 \\\n    --purpose investigation --case 12/VKS-HS"
    )]
    Search(SearchArgs),
    /// Register a citizen, with a given personal ID or a newly assigned one.
    #[command(
        after_help = "Examples:\n  dancu citizen register --personal-id 001090000001 --full-name \"Nguyễn Văn An\" \\\n    --sex male --date-of-birth 1990-05-17 --purpose residence_management\n  dancu citizen register --birth-registration-code 001 --full-name \"Trần Thị Bình\" \\\n    --sex female --date-of-birth 1995 --purpose residence_management\n  dancu citizen register --from-json citizen.json --purpose residence_management"
    )]
    Register(Box<RegisterArgs>),
    /// Change fields of a citizen; only the fields given are changed.
    #[command(
        after_help = "Example:\n  dancu citizen update 001090000001 --phone 0912345678 --reason \"citizen request 2026-11\" \\\n    --purpose residence_management"
    )]
    Update(Box<UpdateArgs>),
    /// List the changes made to a citizen, oldest first.
    #[command(after_help = "Example:\n  dancu citizen history 001090000001 --purpose data_quality")]
    History {
        /// Personal ID (12 digits).
        personal_id: String,
        /// Most entries per page (1–500).
        #[arg(long, default_value_t = 0)]
        page_size: i32,
        /// Token of the page to show, from an earlier answer.
        #[arg(long, default_value = "")]
        page_token: String,
    },
}

/// Settings of `dancu citizen search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Full name to match.
    pub full_name: String,
    /// Year of birth.
    #[arg(long, default_value_t = 0)]
    pub birth_year: i32,
    /// Province code (2 digits) of current residence.
    #[arg(long, default_value = "")]
    pub province: String,
    /// Commune code (5 digits) of current residence.
    #[arg(long, default_value = "")]
    pub commune: String,
    /// Most results per page (1–500).
    #[arg(long, default_value_t = 0)]
    pub page_size: i32,
    /// Token of the page to show, from an earlier answer.
    #[arg(long, default_value = "")]
    pub page_token: String,
}

/// Citizen fields settable from flags (register and update).
#[derive(Debug, Default, clap::Args)]
pub struct CitizenFields {
    /// Full birth name, e.g. "Nguyễn Văn An".
    #[arg(long)]
    pub full_name: Option<String>,
    /// Sex: male or female.
    #[arg(long)]
    pub sex: Option<String>,
    /// Date of birth: YYYY-MM-DD, YYYY-MM or YYYY.
    #[arg(long, value_parser = date_arg)]
    pub date_of_birth: Option<Date>,
    /// Place of birth, free text.
    #[arg(long)]
    pub place_of_birth: Option<String>,
    /// Other name the person is known by (repeat for several).
    #[arg(long = "other-name")]
    pub other_names: Vec<String>,
    /// Home town (quê quán).
    #[arg(long)]
    pub home_town: Option<String>,
    /// Ethnicity, e.g. Kinh.
    #[arg(long)]
    pub ethnicity: Option<String>,
    /// Religion (empty for none).
    #[arg(long)]
    pub religion: Option<String>,
    /// Nationality, ISO 3166-1 alpha-3 (VNM when omitted on registration).
    #[arg(long)]
    pub nationality: Option<String>,
    /// Blood type: a, b, ab or o.
    #[arg(long)]
    pub blood_type: Option<String>,
    /// Marital status: single, married, divorced or widowed.
    #[arg(long)]
    pub marital_status: Option<String>,
    /// Phone number (0xxxxxxxxx or +84xxxxxxxxx).
    #[arg(long)]
    pub phone: Option<String>,
    /// E-mail address.
    #[arg(long)]
    pub email: Option<String>,
    /// Father's personal ID.
    #[arg(long)]
    pub father_id: Option<String>,
    /// Mother's personal ID.
    #[arg(long)]
    pub mother_id: Option<String>,
    /// Spouse's personal ID.
    #[arg(long)]
    pub spouse_id: Option<String>,
    /// Life status: alive, deceased or missing (with --life-status-date).
    #[arg(long)]
    pub life_status: Option<String>,
    /// Date of death or of the declaration of disappearance.
    #[arg(long, value_parser = date_arg)]
    pub life_status_date: Option<Date>,
}

impl CitizenFields {
    /// Writes the given flags into `citizen`; returns the update-mask paths they set.
    fn apply(&self, citizen: &mut Citizen) -> anyhow::Result<Vec<String>> {
        let mut paths = Vec::new();
        let mut set = |path: &str| paths.push(path.to_owned());
        macro_rules! text {
            ($field:ident) => {
                if let Some(value) = &self.$field {
                    citizen.$field = value.clone();
                    set(stringify!($field));
                }
            };
        }
        text!(full_name);
        text!(place_of_birth);
        text!(home_town);
        text!(ethnicity);
        text!(religion);
        text!(nationality);
        text!(phone);
        text!(email);
        if let Some(sex) = &self.sex {
            citizen.sex = enum_value("dancu.common.v1.Sex", "SEX_", sex)?;
            set("sex");
        }
        if let Some(date) = self.date_of_birth {
            citizen.date_of_birth = Some(date);
            set("date_of_birth");
        }
        if !self.other_names.is_empty() {
            citizen.other_names = self.other_names.clone();
            set("other_names");
        }
        if let Some(value) = &self.blood_type {
            citizen.blood_type = enum_value("dancu.identity.v1.BloodType", "BLOOD_TYPE_", value)?;
            set("blood_type");
        }
        if let Some(value) = &self.marital_status {
            citizen.marital_status =
                enum_value("dancu.identity.v1.MaritalStatus", "MARITAL_STATUS_", value)?;
            set("marital_status");
        }
        if self.father_id.is_some() || self.mother_id.is_some() || self.spouse_id.is_some() {
            let family = citizen.family.get_or_insert_with(FamilyLinks::default);
            if let Some(id) = &self.father_id {
                family.father_id = id.clone();
            }
            if let Some(id) = &self.mother_id {
                family.mother_id = id.clone();
            }
            if let Some(id) = &self.spouse_id {
                family.spouse_id = id.clone();
            }
            set("family");
        }
        if let Some(value) = &self.life_status {
            citizen.life_status =
                enum_value("dancu.identity.v1.LifeStatus", "LIFE_STATUS_", value)?;
            citizen.life_status_date = self.life_status_date;
            set("life_status");
        } else if self.life_status_date.is_some() {
            return Err(Usage("--life-status-date needs --life-status".to_owned()).into());
        }
        Ok(paths)
    }
}

/// Settings of `dancu citizen register`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// Personal ID to register under (omit to have one assigned).
    #[arg(long)]
    pub personal_id: Option<String>,
    /// Three-digit birth-registration province code, when no personal ID is given.
    #[arg(long, default_value = "")]
    pub birth_registration_code: String,
    /// Read the citizen from a JSON file (proto3 JSON of `Citizen`; `-` for standard input);
    /// flags given as well override its fields.
    #[arg(long)]
    pub from_json: Option<std::path::PathBuf>,
    /// Citizen fields.
    #[command(flatten)]
    pub fields: CitizenFields,
}

/// Settings of `dancu citizen update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Personal ID of the citizen to change.
    pub personal_id: String,
    /// Why the record changes (kept in its history).
    #[arg(long)]
    pub reason: String,
    /// Etag last read; without it, the current record's etag is fetched first.
    #[arg(long)]
    pub etag: Option<String>,
    /// Fields to change.
    #[command(flatten)]
    pub fields: CitizenFields,
}

fn read_json_file(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    if path.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin()).context("cannot read standard input");
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Runs a `dancu citizen` subcommand.
pub async fn run(command: CitizenCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = IdentityServiceClient::new(global.channel(Service::Identity)?);
    let format = global.output;
    match command {
        CitizenCommand::Get { personal_id } => {
            let citizen = client
                .get_citizen(caller.request(GetCitizenRequest { personal_id })?)
                .await
                .call("GetCitizen")?;
            output::record(format, &citizen, CITIZEN)
        }
        CitizenCommand::Search(args) => {
            let response = client
                .search_citizens(caller.request(SearchCitizensRequest {
                    full_name: args.full_name,
                    birth_year: args.birth_year,
                    province_code: args.province,
                    commune_code: args.commune,
                    page_size: args.page_size,
                    page_token: args.page_token,
                })?)
                .await
                .call("SearchCitizens")?;
            output::list(
                format,
                &response,
                "dancu.identity.v1.SearchCitizensResponse",
                "citizens",
                COLUMNS,
            )
        }
        CitizenCommand::Register(args) => {
            let mut citizen: Citizen = match &args.from_json {
                Some(path) => output::from_json(&read_json_file(path)?, CITIZEN)?,
                None => Citizen::default(),
            };
            if let Some(id) = args.personal_id {
                citizen.personal_id = id;
            }
            args.fields.apply(&mut citizen)?;
            let citizen = client
                .register_citizen(caller.request(RegisterCitizenRequest {
                    citizen: Some(citizen),
                    birth_registration_code: args.birth_registration_code,
                })?)
                .await
                .call("RegisterCitizen")?;
            output::record(format, &citizen, CITIZEN)
        }
        CitizenCommand::Update(args) => {
            let etag = match args.etag {
                Some(etag) => etag,
                None => {
                    client
                        .get_citizen(caller.request(GetCitizenRequest {
                            personal_id: args.personal_id.clone(),
                        })?)
                        .await
                        .call("GetCitizen")?
                        .etag
                }
            };
            let mut citizen = Citizen {
                personal_id: args.personal_id,
                ..Citizen::default()
            };
            let paths = args.fields.apply(&mut citizen)?;
            if paths.is_empty() {
                return Err(Usage("give at least one field to change".to_owned()).into());
            }
            let citizen = client
                .update_citizen(caller.request(UpdateCitizenRequest {
                    citizen: Some(citizen),
                    update_mask: Some(prost_types::FieldMask { paths }),
                    etag,
                    reason: args.reason,
                })?)
                .await
                .call("UpdateCitizen")?;
            output::record(format, &citizen, CITIZEN)
        }
        CitizenCommand::History {
            personal_id,
            page_size,
            page_token,
        } => {
            let response = client
                .list_citizen_history(caller.request(ListCitizenHistoryRequest {
                    personal_id,
                    page_size,
                    page_token,
                })?)
                .await
                .call("ListCitizenHistory")?;
            output::list(
                format,
                &response,
                "dancu.identity.v1.ListCitizenHistoryResponse",
                "changes",
                &[
                    ("VERSION", "version"),
                    ("TIME", "change_time"),
                    ("BY", "changed_by"),
                    ("FIELDS", "fields"),
                    ("REASON", "reason"),
                ],
            )
        }
    }
}
