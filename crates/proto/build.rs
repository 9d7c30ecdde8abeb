//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and generates the tonic
//! code. prost writes no descriptor set when given a pre-compiled one, so the encoded set
//! for server reflection is written here as well.

use prost::Message;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "dancu/common/v1/common.proto",
        "dancu/identity/v1/identity.proto",
        "dancu/records/v1/records.proto",
        "dancu/audit/v1/audit.proto",
    ];
    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("dancu_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
