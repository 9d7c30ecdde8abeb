//! Outbound gRPC channels. Every call made through a [`TracedChannel`] carries the W3C
//! trace context of the span it is made in, so one trace spans every service it touches.

use std::time::Duration;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// A channel whose calls carry the current trace context.
pub type TracedChannel = InterceptedService<Channel, TracePropagation>;

/// Why a channel could not be built.
#[derive(Debug, thiserror::Error)]
#[error("invalid service endpoint {endpoint:?}: {reason}")]
pub struct ClientError {
    endpoint: String,
    reason: String,
}

/// A lazily connecting channel to `endpoint` (`http://host:port`), injecting the trace
/// context. Connection failures surface per call as `UNAVAILABLE`.
pub fn traced_channel(endpoint: &str) -> Result<TracedChannel, ClientError> {
    let channel = Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| ClientError {
            endpoint: endpoint.to_owned(),
            reason: e.to_string(),
        })?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .connect_lazy();
    Ok(InterceptedService::new(channel, TracePropagation))
}

/// Interceptor writing the current span's `traceparent` into request metadata.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracePropagation;

impl Interceptor for TracePropagation {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        crate::telemetry::inject_current_context(request.metadata_mut());
        Ok(request)
    }
}
