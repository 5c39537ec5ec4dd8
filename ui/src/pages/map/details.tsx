// The side panel: what is selected on the map (a node or an edge) with its numbers, its
// response-time distribution and the ways out: its traces (X-Ray filter) and a query of its spans.

import type { QuerySpec } from "../../api";
import { colorFor, formatDuration, formatNumber, formatPercent, formatRate } from "../../format";
import type { TimeRange } from "../../time";
import { queryHref } from "../query/url";
import { type CallStats, type Histogram, edgeFilter, formatPercentile, serviceFilter } from "../xray/model";
import { ResponseTimeChart, binResponseTimes } from "../xray/response-times";
import { xrayHref } from "../xray/url";
import { STATUS_COLORS } from "./graph-chart";
import { type MapEdge, type MapNode, kindLabel } from "./model";

const SPANS_SPEC: QuerySpec = {
  calculations: [{ op: "COUNT" }, { op: "P50", column: "duration_ms" }, { op: "P99", column: "duration_ms" }],
  breakdowns: ["name"],
  orders: [{ op: "COUNT", order: "descending" }],
};

/** The traces of a node or an edge (the X-Ray traces page, filtered). */
export function nodeTracesHref(node: MapNode, range: TimeRange, group: string): string {
  return xrayHref({ filter: serviceFilter(node.id), group, range });
}
export function edgeTracesHref(edge: MapEdge, range: TimeRange, group: string): string {
  return xrayHref({ filter: edgeFilter(edge.source.id, edge.target.id), group, range });
}

/** A query of the spans behind a node: its own dataset, or for an inferred node its callers' calls out. */
function nodeQueryHref(node: MapNode, callers: MapNode[], range: TimeRange): string {
  if (node.kind === "service") return queryHref({ dataset: node.id.Name, spec: SPANS_SPEC, range });
  const caller = callers.find((c) => c.kind === "service");
  const filters =
    node.kind === "database"
      ? [{ column: "db.system", op: "exists" }]
      : [{ column: "span.kind", op: "=", value: "client" }];
  return queryHref({ dataset: caller?.id.Name, spec: { ...SPANS_SPEC, filters }, range });
}

function edgeQueryHref(edge: MapEdge, range: TimeRange): string {
  if (edge.target.kind === "service") return queryHref({ dataset: edge.target.id.Name, spec: SPANS_SPEC, range });
  return nodeQueryHref(edge.target, [edge.source], range);
}

function StatusBar({ stats }: { stats: CallStats }) {
  const parts: [string, number, string][] = [
    ["OK", stats.ok, STATUS_COLORS.ok],
    ["Error", stats.error, STATUS_COLORS.error],
    ["Throttle", stats.throttle, STATUS_COLORS.throttle],
    ["Fault", stats.fault, STATUS_COLORS.fault],
  ];
  return (
    <div class="map-statusbar" aria-hidden="true">
      {parts
        .filter(([, count]) => count > 0)
        .map(([label, count, color]) => (
          <span style={{ flexGrow: count, background: color }} title={`${label}: ${formatNumber(count)}`} />
        ))}
    </div>
  );
}

function Stats({ stats, histogram }: { stats: CallStats; histogram: Histogram }) {
  const bins = binResponseTimes(histogram.map((bucket) => ({ value: Math.max(bucket.Value, 0.0005), count: bucket.Count })), 20);
  return (
    <>
      <StatusBar stats={stats} />
      <dl class="map-stats" data-testid="map-details-stats">
        <div>
          <dt>Requests</dt>
          <dd data-stat="requests">{formatNumber(stats.total)}</dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd data-stat="rate">{formatRate(stats.perMinute)}</dd>
        </div>
        <div>
          <dt>Average</dt>
          <dd>{formatDuration(stats.avg)}</dd>
        </div>
        <div>
          <dt>P50</dt>
          <dd data-stat="p50">{formatPercentile(stats.p50)}</dd>
        </div>
        <div>
          <dt>P99</dt>
          <dd data-stat="p99">{formatPercentile(stats.p99)}</dd>
        </div>
        <div>
          <dt>
            <i style={{ background: STATUS_COLORS.error }} /> Errors 4xx
          </dt>
          <dd data-stat="errors">
            {formatPercent(stats.errorShare)} <span class="muted">({formatNumber(stats.error)})</span>
          </dd>
        </div>
        <div>
          <dt>
            <i style={{ background: STATUS_COLORS.throttle }} /> Throttles 429
          </dt>
          <dd>
            {formatPercent(stats.throttleShare)} <span class="muted">({formatNumber(stats.throttle)})</span>
          </dd>
        </div>
        <div>
          <dt>
            <i style={{ background: STATUS_COLORS.fault }} /> Faults 5xx
          </dt>
          <dd data-stat="faults">
            {formatPercent(stats.faultShare)} <span class="muted">({formatNumber(stats.fault)})</span>
          </dd>
        </div>
      </dl>
      <h3 class="map-subhead">Response time distribution</h3>
      {bins.length ? <ResponseTimeChart bins={bins} height={130} /> : <div class="muted">No calls.</div>}
    </>
  );
}

export function NodeDetails({ node, callers, callees, range, group, onClose }: {
  node: MapNode;
  callers: MapNode[];
  callees: MapNode[];
  range: TimeRange;
  group: string;
  onClose: () => void;
}) {
  return (
    <aside class="map-details card" data-testid="map-details" data-node={node.key}>
      <div class="map-details-head">
        <div>
          <h2>
            <span class="map-dot" style={{ background: colorFor(node.id.Name) }} /> {node.id.Name}
          </h2>
          <div class="muted">{kindLabel(node)}{node.root ? " · entry point" : ""}</div>
        </div>
        <button type="button" class="button small" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </div>
      <div class="map-actions">
        <a class="button primary small" href={nodeTracesHref(node, range, group)} data-testid="map-view-traces">
          View traces
        </a>
        <a class="button small" href={nodeQueryHref(node, callers, range)} data-testid="map-query">
          Query spans
        </a>
      </div>
      <Stats stats={node.stats} histogram={node.histogram} />
      {(callers.length > 0 || callees.length > 0) && (
        <div class="map-neighbours">
          {callers.length > 0 && (
            <div>
              <h3 class="map-subhead">Called by</h3>
              {callers.map((c) => (
                <div class="mono">← {c.id.Name}</div>
              ))}
            </div>
          )}
          {callees.length > 0 && (
            <div>
              <h3 class="map-subhead">Calls</h3>
              {callees.map((c) => (
                <div class="mono">→ {c.id.Name}</div>
              ))}
            </div>
          )}
        </div>
      )}
    </aside>
  );
}

export function EdgeDetails({ edge, range, group, onClose }: { edge: MapEdge; range: TimeRange; group: string; onClose: () => void }) {
  return (
    <aside class="map-details card" data-testid="map-details" data-edge={edge.key}>
      <div class="map-details-head">
        <div>
          <h2>
            {edge.source.id.Name} → {edge.target.id.Name}
          </h2>
          <div class="muted">
            calls from {kindLabel(edge.source)} to {kindLabel(edge.target)}
          </div>
        </div>
        <button type="button" class="button small" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </div>
      <div class="map-actions">
        <a class="button primary small" href={edgeTracesHref(edge, range, group)} data-testid="map-view-traces">
          View traces
        </a>
        <a class="button small" href={edgeQueryHref(edge, range)} data-testid="map-query">
          Query spans
        </a>
      </div>
      <Stats stats={edge.stats} histogram={edge.histogram} />
    </aside>
  );
}
