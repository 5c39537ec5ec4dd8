//! Export errors.
//!
//! Each message carries its cause inline ("cannot write /x.parquet: permission denied (os error
//! 13)"), so the causes are deliberately not chained as `source()`: printing the error with
//! anyhow's `{:#}` would otherwise repeat them.

use std::io;
use std::path::{Path, PathBuf};

use parquet::errors::ParquetError;
use waggle_store::StoreError;

/// Result alias for the export.
pub(crate) type Result<T, E = ExportError> = std::result::Result<T, E>;

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store could not be scanned.
    #[error("cannot read the store: {0}")]
    Store(StoreError),
    /// The Parquet encoder refused the data (a bug rather than a user error).
    #[error("cannot encode {} as parquet: {error}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The encoder's error.
        error: ParquetError,
    },
    /// The output file could not be created, written or moved into place.
    #[error("cannot write {}: {}", path.display(), describe_io(error))]
    Io {
        /// The file the user asked for.
        path: PathBuf,
        /// The underlying error.
        error: io::Error,
    },
}

impl From<StoreError> for ExportError {
    fn from(error: StoreError) -> Self {
        ExportError::Store(error)
    }
}

impl ExportError {
    /// An I/O error on the output `path`.
    pub(crate) fn io(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
        move |error| ExportError::Io { path: path.to_owned(), error }
    }

    /// A Parquet error while writing `path`. The encoder reports failed writes (disk full, ...) as
    /// wrapped I/O errors: those become [`ExportError::Io`], which says what to fix.
    pub(crate) fn parquet(path: &Path) -> impl FnOnce(ParquetError) -> ExportError + '_ {
        move |error| match error {
            ParquetError::External(inner) => match inner.downcast::<io::Error>() {
                Ok(io_error) => ExportError::Io { path: path.to_owned(), error: *io_error },
                Err(other) => ExportError::Parquet { path: path.to_owned(), error: ParquetError::External(other) },
            },
            error => ExportError::Parquet { path: path.to_owned(), error },
        }
    }
}

/// The OS's description, starting lowercase: "permission denied (os error 13)".
fn describe_io(error: &io::Error) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_export_error_io_message_is_lowercase_with_path() {
        let error = ExportError::io(Path::new("/x.parquet"))(io::Error::from_raw_os_error(13));
        assert_eq!(error.to_string(), "cannot write /x.parquet: permission denied (os error 13)");
    }

    #[test]
    fn test_export_error_parquet_unwraps_io() {
        let wrapped = ParquetError::from(io::Error::new(io::ErrorKind::StorageFull, "No space left on device"));
        let error = ExportError::parquet(Path::new("/x.parquet"))(wrapped);
        assert_eq!(error.to_string(), "cannot write /x.parquet: no space left on device");
    }
}
