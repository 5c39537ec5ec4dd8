//! Log records to `Log` events. Trace and span ids are optional on logs, but a record carrying an id
//! of the wrong length is rejected.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use waggle_model::{Batch, Event, EventKind, Field, IdError, Origin, SpanId, TraceId, names};

use super::{
    Converted, Rejections, RequestContext, UNKNOWN_LOG_SOURCE, any_value_to_value, attributes_to_fields, int, nanos,
    push_dropped, push_scope_and_team, service_name, unique_fields,
};

/// Converts a logs export into events. Never fails: records with malformed ids are counted in
/// [`Converted::rejected`] and the rest is kept.
pub fn logs_to_batch(request: ExportLogsServiceRequest, context: &RequestContext) -> Converted {
    let team = context.team();
    let mut events = Vec::new();
    let mut rejections = Rejections::new("log record", "log records");
    for resource_logs in request.resource_logs {
        let resource_attributes = resource_logs.resource.map(|resource| resource.attributes);
        let resource_attributes = resource_attributes.unwrap_or_default();
        let dataset = logs_dataset(context, &resource_attributes);
        let resource_fields = attributes_to_fields(resource_attributes, Origin::Resource);
        for scope_logs in resource_logs.scope_logs {
            let scope = scope_logs.scope.unwrap_or_default();
            let mut scope_and_team = Vec::new();
            push_scope_and_team(&mut scope_and_team, &scope.name, &scope.version, team);
            let scope_fields = attributes_to_fields(scope.attributes, Origin::Scope);
            for (index, mut record) in scope_logs.log_records.into_iter().enumerate() {
                let ids = match check_ids(&record) {
                    Ok(ids) => ids,
                    Err(reason) => {
                        let scope_name = &scope.name;
                        rejections.reject(format!("log record {index} of scope '{scope_name}': {reason}"));
                        continue;
                    }
                };
                let mut fields = record_derived_fields(&mut record);
                fields.extend_from_slice(&scope_and_team);
                push_dropped(&mut fields, names::DROPPED_ATTRIBUTES, record.dropped_attributes_count);
                fields.extend_from_slice(&resource_fields);
                fields.extend_from_slice(&scope_fields);
                fields.extend(attributes_to_fields(record.attributes, Origin::Attribute));
                let time = match record.time_unix_nano {
                    0 => record.observed_time_unix_nano,
                    time => time,
                };
                events.push(Event {
                    kind: EventKind::Log,
                    dataset: dataset.clone(),
                    time_unix_nano: nanos(time),
                    duration_nano: 0,
                    trace_id: ids.0,
                    span_id: ids.1,
                    parent_id: None,
                    fields: unique_fields(fields),
                });
            }
        }
    }
    rejections.into_converted(Batch { events })
}

/// Honeycomb's rule for logs: the trimmed `service.name`, else the dataset header, else
/// `unknown_log_source`. (Unlike traces, an `unknown_service:...` name is kept as it is.)
fn logs_dataset(context: &RequestContext, resource_attributes: &[KeyValue]) -> String {
    service_name(resource_attributes).or_else(|| context.dataset_header()).unwrap_or(UNKNOWN_LOG_SOURCE).to_owned()
}

/// Empty or all-zero ids mean "not in a span"; any other length than 16 / 8 bytes is an error.
fn check_ids(record: &LogRecord) -> Result<(Option<TraceId>, Option<SpanId>), String> {
    let trace_id = optional_id(TraceId::from_bytes(&record.trace_id), record.trace_id.is_empty())?;
    let span_id = optional_id(SpanId::from_bytes(&record.span_id), record.span_id.is_empty())?;
    Ok((trace_id, span_id))
}

fn optional_id<T>(parsed: Result<T, IdError>, empty: bool) -> Result<Option<T>, String> {
    match parsed {
        Ok(id) => Ok(Some(id)),
        Err(_) if empty => Ok(None),
        Err(IdError::Zero { .. }) => Ok(None),
        Err(error) => Err(error.to_string()),
    }
}

/// `body`, `severity`, `severity_code`, `observed_time_unix_nano`, `trace.flags`, `name`.
fn record_derived_fields(record: &mut LogRecord) -> Vec<Field> {
    let mut fields = Vec::new();
    if let Some(body) = record.body.take().and_then(any_value_to_value) {
        fields.push(Field::new(names::BODY, body, Origin::Derived));
    }
    if !record.severity_text.is_empty() {
        fields.push(Field::new(names::SEVERITY, record.severity_text.as_str(), Origin::Derived));
    }
    if record.severity_number != 0 {
        fields.push(Field::new(names::SEVERITY_CODE, i64::from(record.severity_number), Origin::Derived));
    }
    if record.observed_time_unix_nano != 0 {
        let observed = nanos(record.observed_time_unix_nano);
        fields.push(Field::new(names::OBSERVED_TIME, observed, Origin::Derived));
    }
    if record.flags != 0 {
        fields.push(Field::new(names::TRACE_FLAGS, int(record.flags), Origin::Derived));
    }
    if !record.event_name.is_empty() {
        fields.push(Field::new(names::NAME, record.event_name.as_str(), Origin::Derived));
    }
    fields
}

#[cfg(test)]
mod tests;
