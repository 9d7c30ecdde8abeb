//! The context every personal-data call declares in metadata: why (purpose, from a fixed
//! vocabulary), under which case, and who (the verified principal).

use crate::auth::Principal;
use crate::error::FieldViolations;
use dancu_domain::Purpose;
use tonic::Status;

/// Metadata key carrying the declared purpose code.
pub const PURPOSE_HEADER: &str = "x-dancu-purpose";
/// Metadata key carrying the case reference.
pub const CASE_HEADER: &str = "x-dancu-case";

/// Who calls, why, and under which case: what every audit event records.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The verified caller.
    pub principal: Principal,
    /// Declared purpose.
    pub purpose: Purpose,
    /// Case reference; required for purposes that need one.
    pub case_reference: Option<String>,
    /// Full gRPC method being served, e.g. `/dancu.identity.v1.IdentityService/GetCitizen`.
    pub rpc: &'static str,
    /// Trace id of the call, when traced.
    pub trace_id: Option<String>,
    /// The caller's network address (`ip:port`), when the transport knows it.
    pub client_address: Option<String>,
}

impl CallContext {
    /// Reads the principal, purpose and case reference of a personal-data call. A missing,
    /// unknown or incomplete purpose fails with `INVALID_ARGUMENT` before any data is read.
    pub fn from_request<T>(request: &tonic::Request<T>, rpc: &'static str) -> Result<Self, Status> {
        let principal = crate::auth::principal(request)?;
        let metadata = request.metadata();
        let mut violations = FieldViolations::new();
        let purpose = match metadata.get(PURPOSE_HEADER).map(|v| v.to_str()) {
            None => {
                violations.add(
                    PURPOSE_HEADER,
                    "a purpose is required for personal-data calls",
                );
                None
            }
            Some(Err(_)) => {
                violations.add(PURPOSE_HEADER, "must be ASCII");
                None
            }
            Some(Ok(code)) => match code.trim().parse::<Purpose>() {
                Ok(purpose) => Some(purpose),
                Err(e) => {
                    violations.add(PURPOSE_HEADER, e.to_string());
                    None
                }
            },
        };
        let case_reference = match metadata.get(CASE_HEADER).map(|v| v.to_str()) {
            None => None,
            Some(Err(_)) => {
                violations.add(CASE_HEADER, "must be ASCII");
                None
            }
            Some(Ok(raw)) => match dancu_domain::validate_case_reference(raw) {
                Ok(case) => Some(case),
                Err(e) => {
                    violations.add(CASE_HEADER, e.to_string());
                    None
                }
            },
        };
        if let Some(purpose) = purpose
            && purpose.requires_case_reference()
            && case_reference.is_none()
            && metadata.get(CASE_HEADER).is_none()
        {
            violations.add(
                CASE_HEADER,
                format!("purpose {} requires a case reference", purpose.as_str()),
            );
        }
        violations.check()?;
        // A missing purpose always recorded a violation above.
        let purpose = purpose.ok_or_else(|| Status::internal("purpose validation incomplete"))?;
        Ok(Self {
            principal,
            purpose,
            case_reference,
            rpc,
            trace_id: crate::telemetry::current_trace_id(),
            client_address: request.remote_addr().map(|a| a.to_string()),
        })
    }
}
