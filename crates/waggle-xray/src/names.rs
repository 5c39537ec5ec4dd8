//! Field names of X-Ray data in the store. Where OpenTelemetry's semantic conventions have a name
//! (`http.request.method`, `url.full`, `db.query.text`, `cloud.region`) the X-Ray value is stored
//! under it; what only X-Ray has lives under `xray.` (and `annotation.` for annotations).

/// `segment` or `subsegment`: the row came from an X-Ray document.
pub const TYPE: &str = "xray.type";
/// A subsegment's `namespace` (`aws`, `remote`, `local`).
pub const NAMESPACE: &str = "xray.namespace";
/// A segment's `origin` (`AWS::EC2::Instance`, ...): the node type in the service graph.
pub const ORIGIN: &str = "xray.origin";
/// `true` on a segment sent before it ended; a later complete segment replaces it.
pub const IN_PROGRESS: &str = "xray.in_progress";
/// `true` on an inferred segment.
pub const INFERRED: &str = "xray.inferred";
/// X-Ray's client-error flag (4xx).
pub const ERROR: &str = "xray.error";
/// X-Ray's fault flag (5xx).
pub const FAULT: &str = "xray.fault";
/// X-Ray's throttle flag (429).
pub const THROTTLE: &str = "xray.throttle";
/// The `metadata` object, as JSON text.
pub const METADATA: &str = "xray.metadata";
/// `precursor_ids`.
pub const PRECURSOR_IDS: &str = "xray.precursor_ids";
/// A `cause` given as the id of an exception recorded elsewhere.
pub const CAUSE_ID: &str = "xray.cause.id";
/// `cause.working_directory`.
pub const CAUSE_WORKING_DIRECTORY: &str = "xray.cause.working_directory";
/// `http.request.x_forwarded_for`.
pub const HTTP_X_FORWARDED_FOR: &str = "xray.http.x_forwarded_for";
/// `http.request.traced`.
pub const HTTP_TRACED: &str = "xray.http.traced";
/// The document as sent (segments and subsegments sent on their own), for BatchGetTraces.
pub const DOCUMENT: &str = "meta.xray.document";
/// The AWS access key id the document was signed with (PutTraceSegments).
pub const ACCESS_KEY_ID: &str = "meta.aws.access_key_id";
/// Prefix of annotation columns: `annotation.<key>`.
pub const ANNOTATION_PREFIX: &str = "annotation.";
/// End user (X-Ray's `user`), as OpenTelemetry names it.
pub const USER: &str = "enduser.id";
