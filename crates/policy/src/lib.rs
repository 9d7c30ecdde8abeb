//! Authorization for dancu, evaluated by [Cedar](https://www.cedarpolicy.com/): the schema
//! and the policies are data files in this crate (`policies/`), embedded at compile time
//! and validated against each other when the [`Authorizer`] is built.
//!
//! One entry point, [`Authorizer::authorize`], takes an [`AccessRequest`] (who, what, on
//! which resource, why) and returns a [`Decision`]: allowed or not, the ids of the policies
//! that decided, the view of a person (full or minimal), the sensitive fields to mask, and
//! flags (break-glass used, self/family lookup). The crate does no I/O: callers supply the
//! areas (commune → province → nation) and units the request touches.

mod authorizer;
mod model;

pub use authorizer::{Authorizer, PolicyError};
pub use model::{
    AccessRequest, Action, Actor, AreaPath, Decision, Denial, NATION, Resource, Role,
    SensitiveField, UnknownRole, View,
};

/// The Cedar schema, as shipped.
pub const SCHEMA: &str = include_str!("../policies/schema.cedarschema");
/// The Cedar policies, as shipped.
pub const POLICIES: &str = include_str!("../policies/policies.cedar");
