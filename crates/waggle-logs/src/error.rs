//! CloudWatch Logs errors: each knows the `__type` and HTTP status AWS answers it with.

use waggle_store::StoreError;

/// Why a CloudWatch Logs call failed.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// A parameter is missing, malformed or out of range (`InvalidParameterException`).
    #[error("{0}")]
    InvalidParameter(String),
    /// The log group, log stream or query does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The log group or stream exists already (`ResourceAlreadyExistsException`).
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// A Logs Insights query does not parse (`MalformedQueryException`).
    #[error("{0}")]
    MalformedQuery(String),
    /// The body is not the JSON the operation takes (`SerializationException`).
    #[error("{0}")]
    Serialization(String),
    /// An operation waggle does not implement (`UnknownOperationException`).
    #[error("{0}")]
    UnknownOperation(String),
    /// The store refused (overloaded) or failed (`ServiceUnavailableException`).
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Result alias of this crate.
pub type Result<T, E = LogsError> = std::result::Result<T, E>;

impl LogsError {
    /// The `__type` of the JSON 1.1 error body (botocore and the AWS SDKs read it as the error code).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            Self::MalformedQuery(_) => "MalformedQueryException",
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Store(_) => "ServiceUnavailableException",
        }
    }

    /// HTTP status: 400 for the caller's errors, 503 when the store is behind or failed (SDKs retry).
    pub fn status(&self) -> u16 {
        match self {
            Self::Store(_) => 503,
            _ => 400,
        }
    }

    pub(crate) fn group_not_found() -> Self {
        Self::ResourceNotFound("The specified log group does not exist.".into())
    }

    pub(crate) fn stream_not_found() -> Self {
        Self::ResourceNotFound("The specified log stream does not exist.".into())
    }
}
