//! The ingest path both OTLP receivers share: convert on a blocking thread, append, and answer only
//! once the store says the batch is durable.

use std::sync::Arc;

use waggle_otlp::{
    Converted, OtlpError, RequestContext, logs_service::ExportLogsServiceRequest,
    trace_service::ExportTraceServiceRequest,
};
use waggle_store::{Store, StoreError};

/// Why a request was not (fully) stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// The request itself is bad: the sender must not retry it.
    #[error(transparent)]
    Otlp(#[from] OtlpError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One decoded OTLP request.
pub(crate) enum Export {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
}

/// What was accepted: the count of rejected records and why.
pub(crate) struct Accepted {
    pub(crate) rejected: u64,
    pub(crate) error_message: Option<String>,
}

/// Converts and stores; resolves after the WAL fsync. `decode` runs on the blocking pool too, since
/// decompression and protobuf decoding can take milliseconds.
pub(crate) async fn ingest(
    store: Arc<dyn Store>,
    context: RequestContext,
    decode: impl FnOnce() -> Result<Export, OtlpError> + Send + 'static,
) -> Result<Accepted, IngestError> {
    let (ticket, accepted) = tokio::task::spawn_blocking(move || -> Result<_, IngestError> {
        let Converted { batch, rejected, error_message } = match decode()? {
            Export::Traces(request) => waggle_otlp::traces_to_batch(request, &context),
            Export::Logs(request) => waggle_otlp::logs_to_batch(request, &context),
        };
        let ticket = if batch.is_empty() { None } else { Some(store.append(batch)?) };
        Ok((ticket, Accepted { rejected, error_message }))
    })
    .await
    .map_err(|err| StoreError::Unavailable(format!("ingest task failed: {err}")))??;
    if let Some(ticket) = ticket {
        ticket.wait().await?;
    }
    Ok(accepted)
}
