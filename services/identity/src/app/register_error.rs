//! Errors of the identity-card and foreigner use cases (one variant of
//! [`super::IdentityError`]).

use dancu_domain::card::CardRuleError;

/// What can go wrong with an identity card, a foreigner or an accommodation declaration.
/// Messages never carry personal data.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The citizen has never held a card.
    #[error("no identity card for this personal ID")]
    NoCard,
    /// Issue or renewal for someone not in the population register.
    #[error("the person is not in the population register")]
    PersonNotRegistered,
    /// A card rule refused the change (age, illegal transition).
    #[error("{0}")]
    CardRule(CardRuleError),
    /// The card changed since the etag the caller sent.
    #[error("the card changed since this etag was read; read it again")]
    StaleEtag,
    /// Another change of the same record won a race.
    #[error("the record was changed concurrently; retry")]
    Conflict,
    /// No foreigner with this id.
    #[error("no foreigner with this id")]
    ForeignerNotFound,
    /// A declaration names a foreigner who is not registered.
    #[error("the foreigner is not registered")]
    ForeignerNotRegistered,
    /// The nationality and passport number are already registered.
    #[error("a foreigner with this nationality and passport number is already registered")]
    ForeignerExists,
    /// No accommodation declaration with this id.
    #[error("no accommodation declaration with this id")]
    DeclarationNotFound,
    /// The guest has already checked out.
    #[error("the guest has already checked out")]
    AlreadyCheckedOut,
    /// A request field is wrong in a way only the stored data shows.
    #[error("{field}: {reason}")]
    InvalidField {
        /// Request field path.
        field: &'static str,
        /// What is wrong (never the value).
        reason: &'static str,
    },
}

impl From<CardRuleError> for RegisterError {
    fn from(error: CardRuleError) -> Self {
        match error {
            CardRuleError::NoCard => Self::NoCard,
            other => Self::CardRule(other),
        }
    }
}

impl RegisterError {
    /// The gRPC code the error maps to (also the audit outcome).
    pub fn code(&self) -> tonic::Code {
        use tonic::Code;
        match self {
            Self::NoCard | Self::ForeignerNotFound | Self::DeclarationNotFound => Code::NotFound,
            Self::PersonNotRegistered
            | Self::CardRule(_)
            | Self::ForeignerNotRegistered
            | Self::AlreadyCheckedOut => Code::FailedPrecondition,
            Self::StaleEtag | Self::Conflict => Code::Aborted,
            Self::ForeignerExists => Code::AlreadyExists,
            Self::InvalidField { .. } => Code::InvalidArgument,
        }
    }
}
