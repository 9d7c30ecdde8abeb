//! Analysis over subject records: hotspots per area, the per-subject risk indicator, and
//! the data-quality scorecard of a unit. The figures are computed by the pure modules
//! below from what the store and identity return.

pub mod hotspots;
pub mod risk;
pub mod scorecard;
