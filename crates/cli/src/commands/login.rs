//! `dancu login` and `dancu logout`: open a session and keep its token in the user's
//! configuration directory, or revoke it and forget it.

use crate::client::Global;
use crate::exit::{CallResult, Usage};
use crate::output::Format;
use crate::session::{SavedSession, login, session_path};
use anyhow::Context;
use dancu_proto::identity::v1::LogoutRequest;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
use std::io::{BufRead, IsTerminal};

/// Settings of `dancu login`.
#[derive(Clone, Debug, clap::Args)]
pub struct LoginArgs {
    /// Read the password from standard input (one line) instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

fn read_password(args: &LoginArgs, global: &Global) -> anyhow::Result<String> {
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Some(password) = &global.credentials.password {
        return Ok(password.clone());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Usage(
            "no terminal to prompt for the password: use --password-stdin or DANCU_PASSWORD"
                .to_owned(),
        )
        .into());
    }
    rpassword::prompt_password(format!("Password for {}: ", global.credentials.username))
        .context("cannot read the password")
}

/// `dancu login`.
pub async fn run_login(args: LoginArgs, global: &Global) -> anyhow::Result<()> {
    let path = session_path().context("no configuration directory: set DANCU_CONFIG_DIR")?;
    let password = read_password(&args, global)?;
    let endpoint = global
        .endpoint_of(crate::client::Service::Identity)
        .to_owned();
    let username = &global.credentials.username;
    let response = login(&endpoint, username, &password).await?;
    let session = SavedSession::from_login(&endpoint, username, &response);
    session.save(&path)?;
    let expires = response
        .expire_time
        .map(|t| t.to_string())
        .unwrap_or_default();
    match global.output {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "username": username,
                "officer_id": response.officer_id,
                "unit": response.unit,
                "roles": response.roles,
                "area": response.area,
                "expire_time": expires,
                "session_file": path.display().to_string(),
            })
        ),
        Format::Table => {
            println!(
                "Logged in as {username} (unit {}, roles {}).",
                response.unit,
                response.roles.join(", ")
            );
            println!(
                "Session saved in {} (token expires {expires}).",
                path.display()
            );
        }
    }
    Ok(())
}

/// `dancu logout`: revokes the saved token at identity, then deletes the saved session.
pub async fn run_logout(global: &Global) -> anyhow::Result<()> {
    let path = session_path().context("no configuration directory: set DANCU_CONFIG_DIR")?;
    let Some(session) = SavedSession::load(&path)? else {
        println!("Not logged in (no session in {}).", path.display());
        return Ok(());
    };
    let revoked = async {
        let mut client = AuthServiceClient::new(crate::client::channel(&session.endpoint)?);
        let mut request = tonic::Request::new(LogoutRequest {
            refresh_token: session.refresh_token.clone(),
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", session.access_token)
                .parse()
                .context("the saved token is not ASCII")?,
        );
        client.logout(request).await.call("Logout")?;
        anyhow::Ok(())
    }
    .await;
    std::fs::remove_file(&path).with_context(|| format!("cannot delete {}", path.display()))?;
    // A token identity no longer accepts (expired, already revoked) needs no revocation.
    let revoked = revoked.or_else(|error| {
        let refused = error
            .downcast_ref::<crate::exit::CallError>()
            .is_some_and(|e| e.status.code() == tonic::Code::Unauthenticated);
        if refused { Ok(()) } else { Err(error) }
    });
    match revoked {
        Ok(()) => {
            if global.output == Format::Table {
                println!("Logged out: token revoked, session deleted.");
            } else {
                println!(
                    "{}",
                    serde_json::json!({"revoked": true, "session_deleted": true})
                );
            }
            Ok(())
        }
        Err(error) => Err(error.context(
            "session deleted, but the token could not be revoked (it stays valid until it expires)",
        )),
    }
}
