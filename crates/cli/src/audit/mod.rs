//! `dancu audit …`: operator commands against the audit service.

mod verify;

use dancu_proto::identity::v1::LoginRequest;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;

/// `dancu audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log independently: fetch the latest signed checkpoint and every
    /// entry, recompute each leaf hash and the root, check the signature, and check
    /// consistency with a checkpoint saved by an earlier run (then save the new one).
    /// Exits non-zero naming the first bad leaf.
    ///
    /// Example: `DANCU_PASSWORD=… dancu audit verify --username auditor
    /// --checkpoint-file audit-checkpoint.txt`
    Verify(verify::VerifyArgs),
}

/// How the command authenticates: a bearer token, or a login at identity.
#[derive(Clone, Debug, clap::Args)]
pub struct Credentials {
    /// Bearer token of an auditor or administrator.
    #[arg(long, env = "DANCU_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Identity endpoint to log in at when no token is given.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub identity: String,
    /// Officer to log in as when no token is given.
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Password of that officer.
    #[arg(long, env = "DANCU_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

impl Credentials {
    /// The bearer token: the given one, or one obtained by logging in.
    pub async fn token(&self) -> anyhow::Result<String> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let Some(password) = &self.password else {
            anyhow::bail!("give --token (DANCU_TOKEN) or a password (DANCU_PASSWORD)");
        };
        let channel = tonic::transport::Endpoint::from_shared(self.identity.clone())?
            .connect()
            .await?;
        let response = AuthServiceClient::new(channel)
            .login(LoginRequest {
                username: self.username.clone(),
                password: password.clone(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("login failed: {}", s.message()))?;
        Ok(response.into_inner().access_token)
    }
}

/// Runs an audit subcommand.
pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify(args) => verify::run(args).await,
    }
}
