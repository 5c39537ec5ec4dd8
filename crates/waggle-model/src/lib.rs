//! The data model every waggle receiver writes and every reader gets back: wide events.
//!
//! Following Honeycomb, a span, a span event, a span link and a log record are each one [`Event`]:
//! a few fixed, typed columns the store indexes (time, duration, trace and span ids) plus any number
//! of typed [`Field`]s, one per attribute, under its OpenTelemetry name. Receivers convert their wire
//! formats into [`Event`]s; the store persists them; the query layer reads them back.
//!
//! Layout: `ids` (trace and span ids), `value` (attribute values), `event` (the row), `names` (the
//! well-known field names, as constants).

#![warn(missing_docs)]

mod event;
mod ids;
pub mod names;
mod value;

pub use event::{Batch, Event, EventKind, Field, Origin, SignalTable};
pub use ids::{IdError, SpanId, TraceId};
pub use value::Value;
