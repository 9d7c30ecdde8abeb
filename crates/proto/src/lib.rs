//! The dancu gRPC API: code generated from `proto/` at build time, and the encoded file
//! descriptor set that server reflection serves.
#![allow(missing_docs, clippy::all)]

/// Encoded `FileDescriptorSet` of every dancu proto file (for server reflection).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dancu_descriptor.bin"));

/// `dancu.common.v1`: types shared by every service.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("dancu.common.v1");
    }
}

/// `dancu.identity.v1`: the population register and officer login.
pub mod identity {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("dancu.identity.v1");
    }
}

/// `dancu.records.v1`: subject records.
pub mod records {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("dancu.records.v1");
    }
}

/// `dancu.audit.v1`: the audit log.
pub mod audit {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("dancu.audit.v1");
    }
}
