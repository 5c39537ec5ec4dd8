// One log event: time, stream, level, the message (JSON lines summarised, expandable to pretty,
// coloured JSON) and a link to its trace.

import { useState } from "preact/hooks";

import { formatTime } from "../../format";
import type { LogEvent } from "./cw";
import { parseJsonObject, traceIdOf } from "./traceid";

/** Keys shown as the summary's message, and keys left out of the summary's field list. */
const MESSAGE_KEYS = ["message", "msg", "@message"];
const HIDDEN_KEYS = new Set(["timestamp", "level", "logger", "trace_id", "span_id", ...MESSAGE_KEYS]);

export interface ParsedEvent extends LogEvent {
  key: string;
  json: Record<string, unknown> | null;
  traceId: string | null;
  level: string | null;
}

export function parseEvent(event: LogEvent, index: number): ParsedEvent {
  const json = parseJsonObject(event.message);
  const level = json && typeof json.level === "string" ? json.level.toUpperCase() : null;
  return {
    ...event,
    key: event.eventId ?? `${event.logStreamName ?? ""}/${event.timestamp}/${event.ingestionTime}/${index}`,
    json,
    traceId: traceIdOf(event.message, json),
    level,
  };
}

const levelClass = (level: string | null) =>
  level === "ERROR" || level === "CRITICAL" || level === "FATAL" ? "error" : level === "WARN" || level === "WARNING" ? "warning" : level === "INFO" ? "info" : "";

export function LogLine({ event, showStream, fresh }: { event: ParsedEvent; showStream: boolean; fresh: boolean }) {
  const [open, setOpen] = useState(false);
  const expandable = event.json !== null || event.message.includes("\n");
  return (
    <div class={`logs-line${fresh ? " logs-fresh" : ""}${open ? " logs-open" : ""}`} data-testid="log-line" data-trace-id={event.traceId ?? undefined}>
      <div class="logs-line-row" onClick={() => expandable && setOpen(!open)}>
        <span class="logs-caret" aria-hidden="true">{expandable ? (open ? "▾" : "▸") : ""}</span>
        <time class="logs-time mono" title={`${new Date(event.timestamp).toISOString()} (ingested ${new Date(event.ingestionTime).toISOString()})`}>
          {formatTime(new Date(event.timestamp))}
        </time>
        {showStream && (
          <span class="logs-stream mono" title={event.logStreamName}>
            {event.logStreamName}
          </span>
        )}
        <span class="logs-level">{event.level && <span class={`badge ${levelClass(event.level)}`}>{event.level}</span>}</span>
        <span class="logs-message mono" data-testid="log-message">
          {event.json ? <JsonSummary json={event.json} /> : event.message}
        </span>
        {event.traceId && (
          <a class="logs-trace" href={`/trace/${event.traceId}`} data-testid="trace-link" title={`Open trace ${event.traceId}`} onClick={(e) => e.stopPropagation()}>
            trace ↗
          </a>
        )}
      </div>
      {open && (
        <pre class="logs-detail mono" data-testid="log-detail">
          {event.json ? <JsonView value={event.json} indent={0} /> : event.message}
        </pre>
      )}
    </div>
  );
}

/** Fields shown first in a summary, in this order; the rest follow as sent. */
const FIRST_KEYS = ["status", "duration_ms", "user_id", "error"];

const summaryValue = (value: unknown) =>
  typeof value === "string" ? value : typeof value === "number" && !Number.isInteger(value) ? String(Number(value.toPrecision(4))) : JSON.stringify(value);

function JsonSummary({ json }: { json: Record<string, unknown> }) {
  const messageKey = MESSAGE_KEYS.find((key) => typeof json[key] === "string");
  const text = messageKey ? (json[messageKey] as string) : "";
  // Fields the message already says (`GET /api/x 200`) are left out of the summary.
  const said = (key: string, value: unknown) =>
    ["method", "path", "status"].includes(key) && (typeof value === "string" || typeof value === "number") && text.includes(String(value));
  const rank = (key: string) => (FIRST_KEYS.includes(key) ? FIRST_KEYS.indexOf(key) : FIRST_KEYS.length);
  const fields = Object.entries(json)
    .filter(([key, value]) => !HIDDEN_KEYS.has(key) && !said(key, value))
    .sort(([a], [b]) => rank(a) - rank(b));
  return (
    <>
      {messageKey && <span class="logs-msg-text">{json[messageKey] as string}</span>}
      {fields.map(([key, value]) => (
        <span class="logs-field">
          <span class="logs-key">{key}</span>=<span class="logs-value">{summaryValue(value)}</span>
        </span>
      ))}
    </>
  );
}

/** Pretty-printed JSON with colours per type. */
export function JsonView({ value, indent }: { value: unknown; indent: number }) {
  const pad = "  ".repeat(indent + 1);
  const end = "  ".repeat(indent);
  if (value === null) return <span class="json-null">null</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <>[]</>;
    return (
      <>
        {"[\n"}
        {value.map((item, i) => (
          <>
            {pad}
            <JsonView value={item} indent={indent + 1} />
            {i < value.length - 1 ? ",\n" : "\n"}
          </>
        ))}
        {end}]
      </>
    );
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return <>{"{}"}</>;
    return (
      <>
        {"{\n"}
        {entries.map(([key, item], i) => (
          <>
            {pad}
            <span class="json-key">"{key}"</span>: <JsonView value={item} indent={indent + 1} />
            {i < entries.length - 1 ? ",\n" : "\n"}
          </>
        ))}
        {end}
        {"}"}
      </>
    );
  }
  if (typeof value === "string") return <span class="json-string">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span class="json-number">{String(value)}</span>;
  return <span class="json-bool">{String(value)}</span>;
}
