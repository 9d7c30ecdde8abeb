//! `dancu household …`: households (HouseholdService).

use super::parse::enum_value;
use crate::client::{Global, Service};
use crate::exit::{CallResult, Usage};
use crate::output;
use dancu_proto::identity::v1::household_service_client::HouseholdServiceClient;
use dancu_proto::identity::v1::{
    CreateHouseholdRequest, GetHouseholdRequest, HouseholdMember, MoveMemberRequest,
};

const HOUSEHOLD: &str = "dancu.identity.v1.Household";
const RELATION: (&str, &str) = ("dancu.identity.v1.HouseholdRelation", "HOUSEHOLD_RELATION_");

/// `dancu household` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HouseholdCommand {
    /// Create a household with its members (exactly one head).
    #[command(
        after_help = "Example:\n  dancu household create --commune 01001 --address \"12 Phố Huế\" \\\n    --member 001090000001:head --member 001195000002:spouse --purpose residence_management"
    )]
    Create {
        /// Commune code (5 digits).
        #[arg(long)]
        commune: String,
        /// Address within the commune.
        #[arg(long)]
        address: String,
        /// A member as PERSONAL_ID:RELATION (head, spouse, child, parent, sibling,
        /// grandchild, grandparent, other); repeat for each member.
        #[arg(long = "member", required = true)]
        members: Vec<String>,
    },
    /// Show a household and its members.
    #[command(
        after_help = "Example:\n  dancu household get 0195f3a2-… --purpose residence_management"
    )]
    Get {
        /// Household id.
        household_id: String,
    },
    /// Move a person into a household (leaving their current one).
    #[command(
        after_help = "Example:\n  dancu household move 001195000002 --to 0195f3a2-… --relation spouse \\\n    --purpose residence_management"
    )]
    Move {
        /// Personal ID of the person who moves.
        personal_id: String,
        /// Id of the household they join.
        #[arg(long = "to")]
        household_id: String,
        /// Their relation to the head of that household.
        #[arg(long)]
        relation: String,
    },
}

fn member(spec: &str) -> anyhow::Result<HouseholdMember> {
    let (personal_id, relation) = spec.split_once(':').ok_or_else(|| {
        Usage(format!(
            "invalid --member {spec:?}: expected PERSONAL_ID:RELATION, e.g. 001090000001:head"
        ))
    })?;
    Ok(HouseholdMember {
        personal_id: personal_id.trim().to_owned(),
        relation: enum_value(RELATION.0, RELATION.1, relation)?,
        join_time: None,
    })
}

/// Runs a `dancu household` subcommand.
pub async fn run(command: HouseholdCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = HouseholdServiceClient::new(global.channel(Service::Identity)?);
    let household = match command {
        HouseholdCommand::Create {
            commune,
            address,
            members,
        } => {
            let members = members
                .iter()
                .map(|m| member(m))
                .collect::<anyhow::Result<Vec<_>>>()?;
            client
                .create_household(caller.request(CreateHouseholdRequest {
                    commune_code: commune,
                    address,
                    members,
                })?)
                .await
                .call("CreateHousehold")?
        }
        HouseholdCommand::Get { household_id } => client
            .get_household(caller.request(GetHouseholdRequest { household_id })?)
            .await
            .call("GetHousehold")?,
        HouseholdCommand::Move {
            personal_id,
            household_id,
            relation,
        } => client
            .move_member(caller.request(MoveMemberRequest {
                personal_id,
                household_id,
                relation: enum_value(RELATION.0, RELATION.1, &relation)?,
            })?)
            .await
            .call("MoveMember")?,
    };
    output::record(global.output, &household, HOUSEHOLD)
}
