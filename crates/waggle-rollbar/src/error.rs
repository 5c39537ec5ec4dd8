//! Rollbar errors: each knows the status Rollbar answers it with; the body is always
//! `{"err": 1, "message": "..."}`.

use waggle_store::StoreError;

/// Why a Rollbar call failed.
#[derive(Debug, thiserror::Error)]
pub enum RollbarError {
    /// No access token in the body or the `X-Rollbar-Access-Token` header (403).
    #[error("access token required: send it as access_token in the body or the X-Rollbar-Access-Token header")]
    TokenMissing,
    /// The token is not one of the project's (403).
    #[error("access token not found: {0}")]
    TokenNotFound(String),
    /// The token lacks the scope the call needs (403).
    #[error("insufficient privileges: {needed} scope is required but the access token only has {has}.")]
    InsufficientScope {
        /// The scope needed.
        needed: &'static str,
        /// The token's scopes.
        has: String,
    },
    /// The body is not JSON, or not a form with `payload` (400).
    #[error("{0}")]
    BadRequest(String),
    /// The payload is JSON but not a valid item (422).
    #[error("Payload validation failed: {0}")]
    Invalid(String),
    /// No such item (404).
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than Rollbar takes (413).
    #[error("request entity too large: items are at most {0} bytes")]
    TooLarge(usize),
    /// The store refused (overloaded) or failed (503).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The item state could not be saved (500).
    #[error("cannot save the item state: {0}")]
    Save(String),
}

/// Result alias of this crate.
pub type Result<T, E = RollbarError> = std::result::Result<T, E>;

impl RollbarError {
    /// The HTTP status Rollbar answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::TokenMissing | Self::TokenNotFound(_) | Self::InsufficientScope { .. } => 403,
            Self::BadRequest(_) => 400,
            Self::Invalid(_) => 422,
            Self::NotFound(_) => 404,
            Self::TooLarge(_) => 413,
            Self::Store(_) => 503,
            Self::Save(_) => 500,
        }
    }

    /// Rollbar's error body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"err": 1, "message": self.to_string()})
    }
}
