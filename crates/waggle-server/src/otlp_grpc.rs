//! OTLP/gRPC (`:4317`): the trace and logs services (gzip and zstd accepted, an explicit message
//! size limit); the metrics service answers UNIMPLEMENTED so senders see the refusal.

use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataMap;
use tonic::service::Routes;
use tonic::{Request, Response, Status};
use waggle_otlp::logs_service::logs_service_server::{LogsService, LogsServiceServer};
use waggle_otlp::logs_service::{ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse};
use waggle_otlp::metrics_service::metrics_service_server::{MetricsService, MetricsServiceServer};
use waggle_otlp::metrics_service::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use waggle_otlp::trace_service::trace_service_server::{TraceService, TraceServiceServer};
use waggle_otlp::trace_service::{ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse};
use waggle_otlp::{OtlpError, RequestContext};
use waggle_store::StoreError;

use crate::AppState;
use crate::ingest::{Accepted, Export, IngestError, ingest};

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves.
pub async fn serve_otlp_grpc(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(tower::util::MapResponseLayer::new(resource_exhausted_for_oversize))
        .add_routes(routes(state))
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), shutdown)
        .await
}

/// tonic answers OUT_OF_RANGE for a message over the size limit; gRPC's convention (grpc-core,
/// grpc-go, the OpenTelemetry Collector) is RESOURCE_EXHAUSTED, which clients know not to retry.
fn resource_exhausted_for_oversize<B>(mut response: axum::http::Response<B>) -> axum::http::Response<B> {
    let headers = response.headers_mut();
    let oversize = headers.get("grpc-status").is_some_and(|code| code == "11")
        && headers.get("grpc-message").and_then(|message| message.to_str().ok()).is_some_and(|message| {
            message.contains("message%20length%20too%20large") || message.contains("message length too large")
        });
    if oversize {
        headers.insert("grpc-status", axum::http::HeaderValue::from_static("8"));
    }
    response
}

/// The gRPC services.
fn routes(state: AppState) -> Routes {
    let max = state.limits.max_grpc_message_bytes;
    let receiver = OtlpGrpc { state };
    Routes::new(
        TraceServiceServer::new(receiver.clone())
            .max_decoding_message_size(max)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd),
    )
    .add_service(
        LogsServiceServer::new(receiver.clone())
            .max_decoding_message_size(max)
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd),
    )
    .add_service(MetricsServiceServer::new(receiver).max_decoding_message_size(max))
}

#[derive(Clone)]
struct OtlpGrpc {
    state: AppState,
}

fn context(metadata: &MetadataMap) -> RequestContext {
    let get = |name: &str| metadata.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    RequestContext { team: get(waggle_otlp::TEAM_HEADER), dataset_header: get(waggle_otlp::DATASET_HEADER) }
}

fn to_status(err: IngestError) -> Status {
    match err {
        IngestError::Otlp(err) => Status::new(err.grpc_code(), err.to_string()),
        IngestError::Store(err @ (StoreError::Overloaded { .. } | StoreError::Unavailable(_))) => {
            Status::unavailable(err.to_string())
        }
        IngestError::Store(err) => {
            tracing::error!(%err, "store failed during ingest");
            Status::internal("internal storage error; see the waggle log")
        }
    }
}

impl OtlpGrpc {
    async fn export(&self, metadata: &MetadataMap, export: Export) -> Result<Accepted, Status> {
        ingest(self.state.store.clone(), context(metadata), move || Ok::<_, OtlpError>(export)).await.map_err(to_status)
    }
}

#[tonic::async_trait]
impl TraceService for OtlpGrpc {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let accepted = OtlpGrpc::export(self, &metadata, Export::Traces(message)).await?;
        let partial_success = (accepted.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: accepted.rejected as i64,
            error_message: accepted.error_message.unwrap_or_default(),
        });
        Ok(Response::new(ExportTraceServiceResponse { partial_success }))
    }
}

#[tonic::async_trait]
impl LogsService for OtlpGrpc {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let accepted = OtlpGrpc::export(self, &metadata, Export::Logs(message)).await?;
        let partial_success = (accepted.rejected > 0).then(|| ExportLogsPartialSuccess {
            rejected_log_records: accepted.rejected as i64,
            error_message: accepted.error_message.unwrap_or_default(),
        });
        Ok(Response::new(ExportLogsServiceResponse { partial_success }))
    }
}

#[tonic::async_trait]
impl MetricsService for OtlpGrpc {
    async fn export(
        &self,
        _: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        Err(Status::unimplemented("metrics are not supported by waggle: nothing was stored; send traces and logs"))
    }
}
