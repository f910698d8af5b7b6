//! The error catalogue of ERRORS.md: 26 types, each with its HTTP status.

use std::fmt;

/// One error type of the catalogue. The wire name is the variant name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    Unknown,
    Internal,
    Unauthorized,
    Forbidden,
    PayloadTooLarge,
    InvalidPayload,
    UnsupportedMediaType,
    MethodNotFound,
    ResourceNotFound,
    InvalidJsonSchema,
    InvalidDataFormat,
    InvalidIdentifier,
    RelationConflict,
    ReferenceConstraint,
    ResourceLockedConflict,
    ResourceGone,
    ReferenceNotFound,
    InvalidQuery,
    Runtime,
    AlreadyExists,
    RateLimited,
    PaymentRequired,
    QuotaExceeded,
    LimitExceeded,
    BreakingChanges,
    OperationTimeout,
}

/// Every type in catalogue order (the order of the published error list).
pub const ERROR_TYPES: [ErrorType; 26] = {
    use ErrorType::*;
    [
        Unknown,
        Internal,
        Unauthorized,
        Forbidden,
        PayloadTooLarge,
        InvalidPayload,
        UnsupportedMediaType,
        MethodNotFound,
        ResourceNotFound,
        InvalidJsonSchema,
        InvalidDataFormat,
        InvalidIdentifier,
        RelationConflict,
        ReferenceConstraint,
        ResourceLockedConflict,
        ResourceGone,
        ReferenceNotFound,
        InvalidQuery,
        Runtime,
        AlreadyExists,
        RateLimited,
        PaymentRequired,
        QuotaExceeded,
        LimitExceeded,
        BreakingChanges,
        OperationTimeout,
    ]
};

impl ErrorType {
    /// The HTTP status the catalogue gives this type; the body's `code` carries it too.
    pub const fn status(self) -> u16 {
        use ErrorType::*;
        match self {
            Unknown | Internal => 500,
            Unauthorized => 401,
            Forbidden | QuotaExceeded => 403,
            PayloadTooLarge | LimitExceeded => 413,
            InvalidPayload | InvalidJsonSchema | InvalidDataFormat | InvalidIdentifier | ReferenceNotFound
            | InvalidQuery | Runtime | BreakingChanges => 400,
            UnsupportedMediaType => 415,
            MethodNotFound => 405,
            ResourceNotFound => 404,
            RelationConflict | ReferenceConstraint | ResourceLockedConflict | AlreadyExists => 409,
            ResourceGone => 410,
            RateLimited => 429,
            PaymentRequired => 402,
            OperationTimeout => 504,
        }
    }

    /// The name on the wire (`type` field).
    pub fn name(self) -> &'static str {
        use ErrorType::*;
        match self {
            Unknown => "Unknown",
            Internal => "Internal",
            Unauthorized => "Unauthorized",
            Forbidden => "Forbidden",
            PayloadTooLarge => "PayloadTooLarge",
            InvalidPayload => "InvalidPayload",
            UnsupportedMediaType => "UnsupportedMediaType",
            MethodNotFound => "MethodNotFound",
            ResourceNotFound => "ResourceNotFound",
            InvalidJsonSchema => "InvalidJsonSchema",
            InvalidDataFormat => "InvalidDataFormat",
            InvalidIdentifier => "InvalidIdentifier",
            RelationConflict => "RelationConflict",
            ReferenceConstraint => "ReferenceConstraint",
            ResourceLockedConflict => "ResourceLockedConflict",
            ResourceGone => "ResourceGone",
            ReferenceNotFound => "ReferenceNotFound",
            InvalidQuery => "InvalidQuery",
            Runtime => "Runtime",
            AlreadyExists => "AlreadyExists",
            RateLimited => "RateLimited",
            PaymentRequired => "PaymentRequired",
            QuotaExceeded => "QuotaExceeded",
            LimitExceeded => "LimitExceeded",
            BreakingChanges => "BreakingChanges",
            OperationTimeout => "OperationTimeout",
        }
    }

    /// Looks a wire name up in the catalogue.
    pub fn from_name(name: &str) -> Option<Self> {
        ERROR_TYPES.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for t in ERROR_TYPES {
            assert!(seen.insert(t.name()));
            assert_eq!(ErrorType::from_name(t.name()), Some(t));
        }
        assert_eq!(ErrorType::from_name("NotAType"), None);
    }

    #[test]
    fn statuses_match_the_catalogue() {
        assert_eq!(ErrorType::QuotaExceeded.status(), 403);
        assert_eq!(ErrorType::LimitExceeded.status(), 413);
        assert_eq!(ErrorType::ReferenceNotFound.status(), 400);
        assert_eq!(ErrorType::ResourceGone.status(), 410);
        assert_eq!(ErrorType::OperationTimeout.status(), 504);
    }
}
