//! Households (hộ gia đình): one head and members, each with a relation to the head.

/// A member's relation to the household head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HouseholdRelation {
    /// The head (chủ hộ) — exactly one per household.
    Head,
    /// Husband or wife of the head.
    Spouse,
    /// Child of the head.
    Child,
    /// Father or mother of the head.
    Parent,
    /// Brother or sister of the head.
    Sibling,
    /// Grandchild of the head.
    Grandchild,
    /// Grandparent of the head.
    Grandparent,
    /// Any other relation (relative, lodger registered with the household).
    Other,
}

impl HouseholdRelation {
    /// Every value.
    pub const ALL: [Self; 8] = [
        Self::Head,
        Self::Spouse,
        Self::Child,
        Self::Parent,
        Self::Sibling,
        Self::Grandchild,
        Self::Grandparent,
        Self::Other,
    ];

    /// Storage code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Spouse => "spouse",
            Self::Child => "child",
            Self::Parent => "parent",
            Self::Sibling => "sibling",
            Self::Grandchild => "grandchild",
            Self::Grandparent => "grandparent",
            Self::Other => "other",
        }
    }

    /// Parses a storage code.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in HouseholdRelation::ALL {
            assert_eq!(HouseholdRelation::parse(r.as_str()), Some(r));
        }
        assert_eq!(HouseholdRelation::parse("boss"), None);
    }
}
