//! Operator commands, one module per command group. Each talks to one service over gRPC
//! with the global connection flags ([`crate::client::Global`]).

pub mod alerts;
pub mod audit;
pub mod card;
pub mod citizen;
pub mod completions;
pub mod foreigner;
pub mod household;
pub mod login;
pub mod parse;
pub mod residence;
pub mod subject;
