//! The error catalogue of ERRORS.md: 26 types, each with its HTTP status.

use std::fmt;

macro_rules! error_types {
    ($($variant:ident = $status:literal,)*) => {
        /// One error type of the catalogue. The wire name is the variant name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorType { $($variant,)* }

        /// Every type in catalogue order (the order of the published error list).
        pub const ERROR_TYPES: [ErrorType; 26] = [$(ErrorType::$variant,)*];

        impl ErrorType {
            /// The HTTP status the catalogue gives this type; the body's `code` carries it too.
            pub const fn status(self) -> u16 {
                match self { $(ErrorType::$variant => $status,)* }
            }

            /// The name on the wire (`type` field).
            pub fn name(self) -> &'static str {
                match self { $(ErrorType::$variant => stringify!($variant),)* }
            }
        }
    };
}

error_types! {
    Unknown = 500,
    Internal = 500,
    Unauthorized = 401,
    Forbidden = 403,
    PayloadTooLarge = 413,
    InvalidPayload = 400,
    UnsupportedMediaType = 415,
    MethodNotFound = 405,
    ResourceNotFound = 404,
    InvalidJsonSchema = 400,
    InvalidDataFormat = 400,
    InvalidIdentifier = 400,
    RelationConflict = 409,
    ReferenceConstraint = 409,
    ResourceLockedConflict = 409,
    ResourceGone = 410,
    ReferenceNotFound = 400,
    InvalidQuery = 400,
    Runtime = 400,
    AlreadyExists = 409,
    RateLimited = 429,
    PaymentRequired = 402,
    QuotaExceeded = 403,
    LimitExceeded = 413,
    BreakingChanges = 400,
    OperationTimeout = 504,
}

impl ErrorType {
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
