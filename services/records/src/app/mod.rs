//! Records use cases. Creating a record first checks with the identity service (over
//! gRPC, on the caller's behalf) that the person exists, then stores the record with a
//! snapshot of name and date of birth, and its audit event, in one transaction.

mod error;
mod identity;
mod subjects;

pub use error::RecordsError;
pub use identity::{IdentityDirectory, PersonSnapshot};
pub use subjects::{
    Classification, NewSubjectRecord, Source, SourceKind, SubjectRecord, SubjectRecords,
};
