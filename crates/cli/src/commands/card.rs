//! `dancu card …`: identity cards (CardService).

use crate::client::{Caller, Global, Service};
use crate::exit::CallResult;
use crate::output;
use dancu_proto::identity::v1::card_service_client::CardServiceClient;
use dancu_proto::identity::v1::{
    GetCardRequest, IssueCardRequest, ListCardEventsRequest, RenewCardRequest,
    ReportCardLostRequest, RevokeCardRequest,
};
use tonic::transport::Channel;

const CARD: &str = "dancu.identity.v1.IdentityCard";

/// A change to an existing card: whose, why, and the etag last read.
#[derive(Debug, clap::Args)]
pub struct CardChange {
    /// Personal ID of the card holder.
    pub personal_id: String,
    /// Why (kept in the card's events).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Etag last read; without it, the current card's etag is fetched first.
    #[arg(long)]
    pub etag: Option<String>,
}

/// `dancu card` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CardCommand {
    /// Issue a first identity card.
    #[command(
        after_help = "Example:\n  dancu card issue 001090000001 --purpose residence_management"
    )]
    Issue {
        /// Personal ID of the holder.
        personal_id: String,
        /// The request is made by a guardian (holders under 14).
        #[arg(long)]
        guardian_request: bool,
        /// Why the card is issued.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Renew a card (new expiry date).
    #[command(
        after_help = "Example:\n  dancu card renew 001090000001 --reason \"reached 25\" --purpose residence_management"
    )]
    Renew(CardChange),
    /// Report a card lost.
    #[command(
        after_help = "Example:\n  dancu card report-lost 001090000001 --reason \"lost on 2026-11-20\" \\\n    --purpose residence_management"
    )]
    ReportLost(CardChange),
    /// Revoke a card.
    #[command(
        after_help = "Example:\n  dancu card revoke 001090000001 --reason \"holder deceased\" --purpose residence_management"
    )]
    Revoke(CardChange),
    /// Show a person's card.
    #[command(
        after_help = "Example:\n  dancu card get 001090000001 --purpose identity_verification"
    )]
    Get {
        /// Personal ID of the holder.
        personal_id: String,
    },
    /// List the events of a person's card, oldest first.
    #[command(
        after_help = "Example:\n  dancu card events 001090000001 --purpose residence_management"
    )]
    Events {
        /// Personal ID of the holder.
        personal_id: String,
    },
}

async fn etag(
    client: &mut CardServiceClient<Channel>,
    caller: &Caller,
    change: &CardChange,
) -> anyhow::Result<String> {
    if let Some(etag) = &change.etag {
        return Ok(etag.clone());
    }
    Ok(client
        .get_card(caller.request(GetCardRequest {
            personal_id: change.personal_id.clone(),
        })?)
        .await
        .call("GetCard")?
        .etag)
}

/// Runs a `dancu card` subcommand.
pub async fn run(command: CardCommand, global: &Global) -> anyhow::Result<()> {
    let caller = global.caller().await?;
    let mut client = CardServiceClient::new(global.channel(Service::Identity)?);
    let card = match command {
        CardCommand::Issue {
            personal_id,
            guardian_request,
            reason,
        } => client
            .issue_card(caller.request(IssueCardRequest {
                personal_id,
                guardian_request,
                reason,
            })?)
            .await
            .call("IssueCard")?,
        CardCommand::Renew(change) => {
            let etag = etag(&mut client, &caller, &change).await?;
            client
                .renew_card(caller.request(RenewCardRequest {
                    personal_id: change.personal_id,
                    etag,
                    reason: change.reason,
                })?)
                .await
                .call("RenewCard")?
        }
        CardCommand::ReportLost(change) => {
            let etag = etag(&mut client, &caller, &change).await?;
            client
                .report_card_lost(caller.request(ReportCardLostRequest {
                    personal_id: change.personal_id,
                    etag,
                    reason: change.reason,
                })?)
                .await
                .call("ReportCardLost")?
        }
        CardCommand::Revoke(change) => {
            let etag = etag(&mut client, &caller, &change).await?;
            client
                .revoke_card(caller.request(RevokeCardRequest {
                    personal_id: change.personal_id,
                    etag,
                    reason: change.reason,
                })?)
                .await
                .call("RevokeCard")?
        }
        CardCommand::Get { personal_id } => client
            .get_card(caller.request(GetCardRequest { personal_id })?)
            .await
            .call("GetCard")?,
        CardCommand::Events { personal_id } => {
            let response = client
                .list_card_events(caller.request(ListCardEventsRequest { personal_id })?)
                .await
                .call("ListCardEvents")?;
            return output::list(
                global.output,
                &response,
                "dancu.identity.v1.ListCardEventsResponse",
                "events",
                &[
                    ("SEQ", "sequence"),
                    ("TYPE", "type"),
                    ("TIME", "event_time"),
                    ("BY", "actor_id"),
                    ("ISSUED", "issue_date"),
                    ("EXPIRES", "expire_date"),
                    ("REASON", "reason"),
                ],
            );
        }
    };
    output::record(global.output, &card, CARD)
}
