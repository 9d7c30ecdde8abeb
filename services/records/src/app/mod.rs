//! Records use cases. Creating a record first checks with the identity service (over
//! gRPC, on the caller's behalf) that the person exists, then stores the record with a
//! snapshot of identity data, and its audit event, in one transaction.

mod alerts;
pub mod analysis;
mod classify;
mod error;
mod follower;
mod identity;
mod import;
mod model;
mod subject_cases;
mod subjects;
mod timeline;

pub use classify::contradiction;
pub use error::RecordsError;
pub use follower::{Follower, FollowerHandle};
pub use identity::{Asker, IdentityDirectory, PersonSnapshot};
pub use import::{
    BatchOutcome, IMPORT_RESOURCE, ImportClass, ImportEntry, RowError, SubjectCandidate,
    SubjectImporter, UnitArea, unit_area,
};
pub use model::{
    Alert, ClassStatus, Entry, NewClass, NewEntry, NewSubject, PersonRef, Subject, SubjectClass,
    TimelineKind,
};
pub use subject_cases::{Page, SubjectCases};
pub use subjects::{
    Classification, NewSubjectRecord, Source, SourceKind, SubjectRecord, SubjectRecords,
};
