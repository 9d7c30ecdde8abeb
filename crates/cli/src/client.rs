//! Connection settings shared by every operator command (global flags) and the requests
//! they build: bearer token, declared purpose, case reference and break-glass
//! justification in metadata.

use crate::output::Format;
use crate::session::Credentials;
use anyhow::Context;
use dancu_kit::call::{BREAK_GLASS_HEADER, CASE_HEADER, PURPOSE_HEADER};
use std::time::Duration;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

/// Global flags of the operator commands.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Endpoint of the service the command talks to, overriding the per-service endpoint
    /// (e.g. `http://10.0.0.5:50051`).
    #[arg(long, global = true, env = "DANCU_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// Records service endpoint.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "DANCU_RECORDS_ENDPOINT",
        default_value = "http://127.0.0.1:50052"
    )]
    pub records_endpoint: String,
    /// Audit service endpoint.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "DANCU_AUDIT_ENDPOINT",
        default_value = "http://127.0.0.1:50053"
    )]
    pub audit_endpoint: String,
    /// Purpose of the access, sent in `x-dancu-purpose` and recorded in the audit log
    /// (e.g. residence_management, investigation, identity_verification, audit_review).
    #[arg(long, global = true, env = "DANCU_PURPOSE", value_name = "CODE")]
    pub purpose: Option<String>,
    /// Case reference, sent in `x-dancu-case` (required by investigation and
    /// judgment_enforcement).
    #[arg(
        long = "case",
        global = true,
        env = "DANCU_CASE",
        value_name = "REFERENCE"
    )]
    pub case_reference: Option<String>,
    /// Invoke break-glass with this written justification (sent in `x-dancu-break-glass`;
    /// needs --case). Every use raises an alert.
    #[arg(long, global = true, value_name = "JUSTIFICATION")]
    pub break_glass: Option<String>,
    /// Output format: human-readable tables, or JSON for scripts.
    #[arg(
        id = "output_format",
        long = "output",
        short = 'o',
        global = true,
        value_name = "FORMAT",
        value_enum,
        default_value_t = Format::Table,
        env = "DANCU_OUTPUT"
    )]
    pub output: Format,
    /// Seconds to wait for an answer (streams such as `watch` are not limited).
    #[arg(long, global = true, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
    /// How to authenticate.
    #[command(flatten)]
    pub credentials: Credentials,
}

/// Which service a command talks to.
#[derive(Clone, Copy, Debug)]
pub enum Service {
    /// Identity: the register, cards, households, foreigners, login.
    Identity,
    /// Records: subject records.
    Records,
    /// Audit: the log and alerts.
    Audit,
}

impl Global {
    /// Endpoint of `service`: `--endpoint` if given, else the per-service one.
    pub fn endpoint_of(&self, service: Service) -> &str {
        if let Some(endpoint) = &self.endpoint {
            return endpoint;
        }
        match service {
            Service::Identity => &self.credentials.identity,
            Service::Records => &self.records_endpoint,
            Service::Audit => &self.audit_endpoint,
        }
    }

    /// A lazily connecting channel to `service` with the request timeout.
    pub fn channel(&self, service: Service) -> anyhow::Result<Channel> {
        Ok(endpoint(self.endpoint_of(service))?
            .timeout(Duration::from_secs(self.timeout.max(1)))
            .connect_lazy())
    }

    /// A channel to `service` without a request timeout (for streams).
    pub fn stream_channel(&self, service: Service) -> anyhow::Result<Channel> {
        Ok(endpoint(self.endpoint_of(service))?.connect_lazy())
    }

    /// Opens the call: obtains the token and returns a request builder.
    pub async fn caller(&self) -> anyhow::Result<Caller> {
        Ok(Caller {
            token: self.credentials.token().await?,
            purpose: self.purpose.clone(),
            case_reference: self.case_reference.clone(),
            break_glass: self.break_glass.clone(),
        })
    }
}

/// Builds authenticated requests carrying the declared purpose.
#[derive(Clone, Debug)]
pub struct Caller {
    token: String,
    purpose: Option<String>,
    case_reference: Option<String>,
    break_glass: Option<String>,
}

impl Caller {
    /// `message` with the bearer token, purpose, case and break-glass metadata.
    pub fn request<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {}", self.token))
                .context("the token is not valid ASCII")?,
        );
        for (key, value, what) in [
            (PURPOSE_HEADER, &self.purpose, "--purpose"),
            (CASE_HEADER, &self.case_reference, "--case"),
            (BREAK_GLASS_HEADER, &self.break_glass, "--break-glass"),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                metadata.insert(
                    key,
                    MetadataValue::try_from(value.as_str())
                        .map_err(|_| crate::exit::Usage(format!("{what} must be ASCII")))?,
                );
            }
        }
        Ok(request)
    }
}

fn endpoint(address: &str) -> anyhow::Result<Endpoint> {
    let address = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    Ok(Endpoint::from_shared(address.clone())
        .map_err(|_| crate::exit::Usage(format!("invalid endpoint {address:?}")))?
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true))
}

/// A lazily connecting channel to `address` (`http://host:port` or `host:port`).
pub fn channel(address: &str) -> anyhow::Result<Channel> {
    Ok(endpoint(address)?
        .timeout(Duration::from_secs(30))
        .connect_lazy())
}
