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
/// Metadata key invoking break-glass: its value is the written justification (ASCII,
/// [`MIN_JUSTIFICATION_CHARS`] to [`MAX_JUSTIFICATION_CHARS`] characters); break-glass also
/// needs a case reference.
pub const BREAK_GLASS_HEADER: &str = "x-dancu-break-glass";
/// Shortest accepted break-glass justification.
pub const MIN_JUSTIFICATION_CHARS: usize = 20;
/// Longest accepted break-glass justification.
pub const MAX_JUSTIFICATION_CHARS: usize = 500;

/// Who calls, why, and under which case: what every audit event records.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The verified caller.
    pub principal: Principal,
    /// Declared purpose.
    pub purpose: Purpose,
    /// Case reference; required for purposes that need one.
    pub case_reference: Option<String>,
    /// The written justification when the caller invokes break-glass.
    pub break_glass_justification: Option<String>,
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
        let break_glass_justification = match metadata.get(BREAK_GLASS_HEADER).map(|v| v.to_str()) {
            None => None,
            Some(Err(_)) => {
                violations.add(BREAK_GLASS_HEADER, "must be ASCII");
                None
            }
            Some(Ok(raw)) => {
                let text = raw.trim();
                let len = text.chars().count();
                if !(MIN_JUSTIFICATION_CHARS..=MAX_JUSTIFICATION_CHARS).contains(&len) {
                    violations.add(
                        BREAK_GLASS_HEADER,
                        format!(
                            "a break-glass justification must be {MIN_JUSTIFICATION_CHARS} to \
                             {MAX_JUSTIFICATION_CHARS} characters"
                        ),
                    );
                    None
                } else {
                    if metadata.get(CASE_HEADER).is_none() {
                        violations.add(CASE_HEADER, "break-glass requires a case reference");
                    }
                    Some(text.to_owned())
                }
            }
        };
        violations.check()?;
        // A missing purpose always recorded a violation above.
        let purpose = purpose.ok_or_else(|| Status::internal("purpose validation incomplete"))?;
        Ok(Self {
            principal,
            purpose,
            case_reference,
            break_glass_justification,
            rpc,
            trace_id: crate::telemetry::current_trace_id(),
            client_address: request.remote_addr().map(|a| a.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn request(headers: &[(&'static str, &str)]) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        request.extensions_mut().insert(Principal {
            id: "officer".to_owned(),
            username: "officer".to_owned(),
            unit: "CAX-01001".to_owned(),
            roles: vec!["investigator".to_owned()],
            area: Some("01001".to_owned()),
            issued_at: 0,
            token_id: "t".to_owned(),
            expires_at: i64::MAX,
            token: Arc::from("token"),
        });
        for (key, value) in headers {
            request
                .metadata_mut()
                .insert(*key, value.parse().expect("ascii"));
        }
        request
    }

    fn violated(status: &Status) -> Vec<String> {
        use tonic_types::StatusExt;
        status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default()
    }

    const JUSTIFICATION: &str = "suspect seen in this commune last night";

    #[test]
    fn break_glass_needs_a_case_and_a_real_justification() {
        let ok = CallContext::from_request(
            &request(&[
                (PURPOSE_HEADER, "investigation"),
                (CASE_HEADER, "12/VKS-HS"),
                (BREAK_GLASS_HEADER, JUSTIFICATION),
            ]),
            "/x",
        )
        .expect("accepted");
        assert_eq!(ok.break_glass_justification.as_deref(), Some(JUSTIFICATION));
        let none =
            CallContext::from_request(&request(&[(PURPOSE_HEADER, "identity_verification")]), "/x")
                .expect("accepted");
        assert_eq!(none.break_glass_justification, None);

        let no_case = CallContext::from_request(
            &request(&[
                (PURPOSE_HEADER, "identity_verification"),
                (BREAK_GLASS_HEADER, JUSTIFICATION),
            ]),
            "/x",
        )
        .unwrap_err();
        assert_eq!(no_case.code(), tonic::Code::InvalidArgument);
        assert_eq!(violated(&no_case), [CASE_HEADER]);
        for short in ["urgent", &"x".repeat(MAX_JUSTIFICATION_CHARS + 1)] {
            let refused = CallContext::from_request(
                &request(&[
                    (PURPOSE_HEADER, "investigation"),
                    (CASE_HEADER, "12/VKS-HS"),
                    (BREAK_GLASS_HEADER, short),
                ]),
                "/x",
            )
            .unwrap_err();
            assert_eq!(violated(&refused), [BREAK_GLASS_HEADER]);
        }
    }
}
