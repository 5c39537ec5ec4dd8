// The selected span: what it is, its attributes, events (exceptions with their stack traces), links,
// resource, scope, ids and log lines; and "query spans like this".

import type { ComponentChildren } from "preact";

import type { Attributes, Span } from "../../api";
import { colorFor, formatDuration, formatTimeNanos, formatValue } from "../../format";
import type { TimeRange } from "../../time";
import { queryHref } from "../query/url";
import { type Node, logSeverity, logText, severityClass } from "./model";

const KIND_LABEL: Record<string, string> = {
  server: "Server",
  client: "Client",
  internal: "Internal",
  producer: "Producer",
  consumer: "Consumer",
  unspecified: "Unspecified",
};

/** The query page's time range around a span: the last hour while it is recent, else the hour around it. */
function rangeAround(nanos: number): TimeRange {
  const seconds = nanos / 1e9;
  const now = Date.now() / 1000;
  if (now - seconds < 3000) return { kind: "relative", seconds: 3600 };
  return { kind: "absolute", start: Math.floor(seconds - 1800), end: Math.ceil(seconds + 1800) };
}

export function spansLikeThisHref(span: Span): string {
  return queryHref({
    dataset: span.dataset,
    where: { name: span.name, "service.name": span.service_name || span.dataset },
    spec: { calculations: [{ op: "HEATMAP", column: "duration_ms" }, { op: "P99", column: "duration_ms" }, { op: "COUNT" }] },
    range: rangeAround(span.start_time_unix_nano),
  });
}

export function SpanDetails({ node, traceStart, onSelect, onClose }: {
  node: Node;
  traceStart: number;
  onSelect: (id: string) => void;
  onClose: () => void;
}) {
  const span = node.span;
  if (!span) {
    return (
      <aside class="tw-details card" data-testid="span-details">
        <div class="tw-details-head">
          <h2>Missing parent span</h2>
          <button type="button" class="button small" onClick={onClose} aria-label="Close details">
            ✕
          </button>
        </div>
        <p class="muted">
          {node.children.length} span(s) name <span class="mono">{node.missingParentId}</span> as their parent, but waggle never received
          that span. Its service may not export spans, may sample differently, or may still be sending them.
        </p>
      </aside>
    );
  }
  const service = span.service_name || span.dataset;
  const exceptions = span.events.filter((event) => event.name === "exception");
  const others = span.events.filter((event) => event.name !== "exception");
  return (
    <aside class="tw-details card" data-testid="span-details" data-span-id={span.span_id}>
      <div class="tw-details-head">
        <div style={{ minWidth: 0 }}>
          <div class="tw-details-service">
            <span class="tw-swatch" style={{ background: colorFor(service) }} />
            {service}
            <span class="badge">{KIND_LABEL[span.kind] ?? span.kind}</span>
            {node.error && <span class="badge error">error</span>}
          </div>
          <h2 class="tw-details-name" data-testid="details-name">
            {span.name}
          </h2>
        </div>
        <button type="button" class="button small" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </div>
      <div class="tw-facts">
        <Fact label="Duration" value={formatDuration(span.duration_ms)} title={`${span.duration_ms} ms`} />
        <Fact label="Starts at" value={`+${formatDuration((span.start_time_unix_nano - traceStart) / 1e6)}`} title={formatTimeNanos(span.start_time_unix_nano)} />
        <Fact label="Status" value={["unset", "ok", "error"][span.status_code] ?? String(span.status_code)} />
        <Fact label="Children" value={String(node.children.length)} />
      </div>
      {span.status_message && (
        <div class={span.status_code === 2 ? "error-box" : "muted"} data-testid="status-message">
          {span.status_message}
        </div>
      )}
      <div class="row">
        <a class="button small primary" href={spansLikeThisHref(span)} data-testid="query-like-this">
          ▦ Query spans like this
        </a>
        {node.parent?.span && (
          <button type="button" class="button small" onClick={() => onSelect(node.parent!.id)}>
            ↑ Parent
          </button>
        )}
      </div>

      {exceptions.map((event) => (
        <ExceptionBlock attributes={event.attributes} time={event.time_unix_nano} traceStart={traceStart} />
      ))}

      <Section title="Attributes" count={Object.keys(span.attributes).length}>
        <AttributeTable attributes={span.attributes} testid="span-attributes" />
      </Section>

      {node.logs.length > 0 && (
        <Section title="Log lines" count={node.logs.length}>
          <div class="tw-span-logs">
            {node.logs.map((log) => {
              const severity = logSeverity(log);
              return (
                <div class="tw-span-log">
                  <span class={`badge ${severityClass(severity)}`}>{severity}</span>
                  <span class="mono faint">+{formatDuration((log.time_unix_nano - traceStart) / 1e6)}</span>
                  <span class="mono">{logText(log)}</span>
                </div>
              );
            })}
          </div>
        </Section>
      )}

      {others.length > 0 && (
        <Section title="Events" count={others.length}>
          {others.map((event) => (
            <div class="tw-event">
              <div class="tw-event-head">
                <strong>{event.name}</strong>
                <span class="mono faint">+{formatDuration((event.time_unix_nano - traceStart) / 1e6)}</span>
              </div>
              {Object.keys(event.attributes).length > 0 && <AttributeTable attributes={event.attributes} />}
            </div>
          ))}
        </Section>
      )}

      {span.links.length > 0 && (
        <Section title="Links" count={span.links.length}>
          {span.links.map((link) => (
            <div class="tw-event" data-testid="span-link">
              <a href={`/trace/${link.trace_id}?span=${link.span_id}`} class="mono">
                trace {link.trace_id.slice(0, 12)}… / span {link.span_id}
              </a>
              {Object.keys(link.attributes).length > 0 && <AttributeTable attributes={link.attributes} />}
            </div>
          ))}
        </Section>
      )}

      <Section title="Resource" count={Object.keys(span.resource).length} closed>
        <AttributeTable attributes={span.resource} />
      </Section>
      <Section title="Instrumentation scope" closed>
        <AttributeTable attributes={{ name: span.scope.name, version: span.scope.version, ...span.scope.attributes }} />
      </Section>
      <Section title="Ids" closed>
        <AttributeTable
          attributes={{
            trace_id: span.trace_id,
            span_id: span.span_id,
            parent_span_id: span.parent_span_id ?? "(root)",
            dataset: span.dataset,
            trace_state: span.trace_state || "(none)",
            start: formatTimeNanos(span.start_time_unix_nano),
            end: formatTimeNanos(span.end_time_unix_nano),
          }}
        />
      </Section>
    </aside>
  );
}

function Fact({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div class="tw-fact" title={title}>
      <div class="tw-fact-label">{label}</div>
      <div class="tw-fact-value">{value}</div>
    </div>
  );
}

function Section({ title, count, closed, children }: { title: string; count?: number; closed?: boolean; children: ComponentChildren }) {
  return (
    <details class="tw-section" open={!closed}>
      <summary>
        {title}
        {count !== undefined && <span class="faint"> {count}</span>}
      </summary>
      {children}
    </details>
  );
}

export function AttributeTable({ attributes, testid }: { attributes: Attributes; testid?: string }) {
  const keys = Object.keys(attributes).sort();
  if (!keys.length) return <div class="faint tw-none">none</div>;
  return (
    <table class="data tw-attrs" data-testid={testid}>
      <tbody>
        {keys.map((key) => (
          <tr data-testid="attribute" data-key={key}>
            <th class="mono">{key}</th>
            <td class="mono">{formatValue(attributes[key])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** An `exception` span event: type, message and the stack trace as sent. */
function ExceptionBlock({ attributes, time, traceStart }: { attributes: Attributes; time: number; traceStart: number }) {
  const type = formatValue(attributes["exception.type"] ?? "Exception");
  const message = attributes["exception.message"];
  const stack = attributes["exception.stacktrace"];
  const rest = Object.fromEntries(Object.entries(attributes).filter(([key]) => !key.startsWith("exception.")));
  return (
    <div class="tw-exception" data-testid="exception">
      <div class="tw-exception-head">
        <strong>{type}</strong>
        <span class="mono faint">+{formatDuration((time - traceStart) / 1e6)}</span>
      </div>
      {message !== undefined && <div class="tw-exception-message">{formatValue(message)}</div>}
      {stack !== undefined && <pre class="tw-stack">{formatValue(stack)}</pre>}
      {Object.keys(rest).length > 0 && <AttributeTable attributes={rest} />}
    </div>
  );
}
