//! Who the command line acts as: a token given on the command line or in the environment,
//! else the session saved by `dancu login`, else a login with a password.
//!
//! The saved session lives in `$DANCU_CONFIG_DIR/session.json` (default: the user's
//! configuration directory, e.g. `$XDG_CONFIG_HOME/dancu/`), readable by its owner only
//! (mode 0600) and replaced atomically (written to a temporary file, then renamed).

use crate::exit::NotLoggedIn;
use anyhow::Context;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
use dancu_proto::identity::v1::{LoginRequest, LoginResponse, RefreshRequest};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Environment variable overriding the directory holding the saved session.
pub const CONFIG_DIR_ENV: &str = "DANCU_CONFIG_DIR";
/// Name of the saved-session file inside the configuration directory.
const SESSION_FILE: &str = "session.json";
/// A saved token this close to its expiry is refreshed before use.
const REFRESH_MARGIN_SECONDS: i64 = 30;

/// How a command authenticates: a bearer token, the saved session, or a login at identity.
#[derive(Clone, Debug, clap::Args)]
pub struct Credentials {
    /// Bearer token to use instead of the saved session.
    #[arg(long, global = true, env = "DANCU_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Identity endpoint (login, and the register's services).
    #[arg(
        long = "identity-endpoint",
        global = true,
        value_name = "URL",
        env = "DANCU_IDENTITY_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub identity: String,
    /// Officer to log in as when there is no token and no saved session.
    #[arg(long, global = true, env = "DANCU_USER", default_value = "admin")]
    pub username: String,
    /// Password for that login.
    #[arg(long, global = true, env = "DANCU_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

impl Credentials {
    /// The bearer token: the given one, else the saved session's (refreshed when it is about
    /// to expire), else one obtained by logging in with the password. Fails with
    /// [`NotLoggedIn`] when there is none of these.
    pub async fn token(&self) -> anyhow::Result<String> {
        if let Some(token) = self.token.as_ref().filter(|t| !t.is_empty()) {
            return Ok(token.clone());
        }
        if let Some(path) = session_path()
            && let Some(saved) = SavedSession::load(&path)?
        {
            return saved.fresh_token(&path).await;
        }
        let Some(password) = &self.password else {
            return Err(NotLoggedIn.into());
        };
        let response = login(&self.identity, &self.username, password).await?;
        Ok(response.access_token)
    }
}

/// Logs in at `endpoint`.
pub async fn login(
    endpoint: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<LoginResponse> {
    let mut client = AuthServiceClient::new(crate::client::channel(endpoint)?);
    let response = client
        .login(LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
        })
        .await
        .map_err(|status| crate::exit::CallError::new("Login", status))?;
    Ok(response.into_inner())
}

/// A session saved by `dancu login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedSession {
    /// Identity endpoint the session was opened at (refresh and logout go there).
    pub endpoint: String,
    /// Officer username.
    pub username: String,
    /// Access token.
    pub access_token: String,
    /// Access token expiry, seconds since the Unix epoch (0 if unknown).
    pub expire_unix: i64,
    /// Refresh token (single use), or empty.
    pub refresh_token: String,
}

impl SavedSession {
    /// A session from a login answer.
    pub fn from_login(endpoint: &str, username: &str, login: &LoginResponse) -> Self {
        SavedSession {
            endpoint: endpoint.to_owned(),
            username: username.to_owned(),
            access_token: login.access_token.clone(),
            expire_unix: login.expire_time.as_ref().map_or(0, |t| t.seconds),
            refresh_token: login.refresh_token.clone(),
        }
    }

    /// Reads the session at `path`; `None` when there is none.
    pub fn load(path: &Path) -> anyhow::Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "the saved session {} is unreadable; run `dancu logout` and log in again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the session to `path` atomically, readable by the owner only.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path
            .parent()
            .context("the session path has no parent directory")?;
        create_private_dir(dir)?;
        let temporary = dir.join(format!(".{SESSION_FILE}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&temporary);
        let result = (|| -> anyhow::Result<()> {
            let mut file = private_file(&temporary)?;
            file.write_all(&serde_json::to_vec_pretty(self)?)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result.with_context(|| format!("cannot save the session in {}", path.display()))
    }

    /// The access token, refreshed first (and the session re-saved) when it has expired or
    /// is about to.
    async fn fresh_token(self, path: &Path) -> anyhow::Result<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if self.expire_unix == 0
            || self.expire_unix > now + REFRESH_MARGIN_SECONDS
            || self.refresh_token.is_empty()
        {
            return Ok(self.access_token);
        }
        let mut client = AuthServiceClient::new(crate::client::channel(&self.endpoint)?);
        let response = client
            .refresh(RefreshRequest {
                refresh_token: self.refresh_token.clone(),
            })
            .await
            .map_err(|status| crate::exit::CallError::new("Refresh", status))
            .context("the saved session has expired; run `dancu login` again")?
            .into_inner();
        let renewed = SavedSession::from_login(&self.endpoint, &self.username, &response);
        renewed.save(path)?;
        Ok(renewed.access_token)
    }
}

/// Where the session is saved: `$DANCU_CONFIG_DIR/session.json`, else
/// `<user config dir>/dancu/session.json`; `None` if neither is known.
pub fn session_path() -> Option<PathBuf> {
    let dir = match std::env::var_os(CONFIG_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => dirs::config_dir()?.join("dancu"),
    };
    Some(dir.join(SESSION_FILE))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
