//! X-Ray's errors, each with the code botocore reads (`x-amzn-ErrorType`) and its HTTP status.

/// What went wrong, as the X-Ray API reports it.
#[derive(Debug, thiserror::Error)]
pub enum XrayError {
    /// A missing or invalid parameter, or a filter expression waggle cannot evaluate.
    #[error("{0}")]
    InvalidRequest(String),
    /// No group or sampling rule of that name.
    #[error("{0}")]
    NotFound(String),
    /// Too many sampling rules (X-Ray's limit is 25).
    #[error("{0}")]
    RuleLimitExceeded(String),
    /// The store refused the write because it is behind: retry later.
    #[error("{0}")]
    Throttled(String),
    /// The store or the configuration file failed.
    #[error("{0}")]
    Internal(String),
}

impl XrayError {
    /// The error code botocore matches on (`InvalidRequestException`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequestException",
            // X-Ray answers an unknown group or rule with InvalidRequestException too.
            Self::NotFound(_) => "InvalidRequestException",
            Self::RuleLimitExceeded(_) => "RuleLimitExceededException",
            Self::Throttled(_) => "ThrottledException",
            Self::Internal(_) => "InternalFailure",
        }
    }

    /// The HTTP status of the error response.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) | Self::NotFound(_) | Self::RuleLimitExceeded(_) => 400,
            Self::Throttled(_) => 429,
            Self::Internal(_) => 500,
        }
    }

    /// A shorthand for [`XrayError::InvalidRequest`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }
}

impl From<waggle_store::StoreError> for XrayError {
    fn from(err: waggle_store::StoreError) -> Self {
        match err {
            waggle_store::StoreError::Overloaded { .. } | waggle_store::StoreError::Unavailable(_) => {
                Self::Throttled(err.to_string())
            }
            other => Self::Internal(format!("storage error: {other}")),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = XrayError> = std::result::Result<T, E>;
