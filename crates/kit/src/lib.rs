//! What every dancu service shares: configuration, telemetry, the gRPC server builder,
//! traced client channels, bearer-token authentication, the call context (purpose, case),
//! error mapping and database connections.

pub mod auth;
pub mod call;
pub mod client;
pub mod config;
pub mod convert;
pub mod db;
pub mod error;
pub mod import_stream;
pub mod paging;
pub mod pg_socket;
pub mod server;
pub mod sqlite_direct;
pub mod telemetry;

/// A random 32-byte secret, URL-safe base64 encoded (for generated passwords and keys).
pub fn random_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
