//! Pure domain types and rules for the dancu population register.
//!
//! This crate contains no I/O: no files are read at run time (the province
//! table is embedded at compile time), no network access and no async code.
//! It models the Vietnamese personal identification number (*số định danh cá
//! nhân*, Decree 137/2015/NĐ-CP art. 13 and Circular 07/2016/TT-BCA), the
//! province codes it uses, birth-date and full-name rules, and the purposes
//! for which register data may be accessed.
//!
//! Error messages produced by this crate never echo the input value, because
//! the inputs are personal data.

pub mod area;
pub mod card;
pub mod date;
pub mod foreigner;
pub mod household;
pub mod name;
pub mod partial_date;
pub mod personal_id;
pub mod province;
pub mod purpose;
pub mod residence;
pub mod sex;

pub use area::{AreaProvince, AreaTable, AreaTableError, Commune};
pub use date::{BirthDateError, parse_ymd, validate_birth_date};
pub use household::HouseholdRelation;
pub use name::{NameError, name_search_key, normalize_full_name};
pub use partial_date::{PartialDate, PartialDateError};
pub use personal_id::{PersonalId, PersonalIdError, PersonalIdMismatch};
pub use province::{Province, province_by_code, provinces, provinces_since_2025};
pub use purpose::{CaseReferenceError, Purpose, UnknownPurpose, validate_case_reference};
pub use residence::{ResidenceKind, ResidenceRuleError, Supervision};
pub use sex::Sex;
