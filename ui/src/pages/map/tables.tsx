// The map's numbers as tables: every node and every edge, dense and sortable by eye (busiest first).
// Clicking a row selects it on the map, as clicking the map does.

import { colorFor, formatNumber, formatPercent, formatRate } from "../../format";
import { type CallStats, formatPercentile } from "../xray/model";
import { type MapEdge, type MapNode, kindLabel } from "./model";

function Share({ value, level }: { value: number; level: "error" | "fault" }) {
  return <span class={value > 0 ? `map-share ${level}` : "map-share"}>{formatPercent(value)}</span>;
}

function Cells({ stats }: { stats: CallStats }) {
  return (
    <>
      <td class="num" data-col="requests" data-value={stats.total}>{formatNumber(stats.total)}</td>
      <td class="num" data-col="rate">{formatRate(stats.perMinute)}</td>
      <td class="num" data-col="errors" data-value={stats.error + stats.throttle}>
        <Share value={stats.errorShare + stats.throttleShare} level="error" />
      </td>
      <td class="num" data-col="faults" data-value={stats.fault}>
        <Share value={stats.faultShare} level="fault" />
      </td>
      <td class="num" data-col="p50" data-value={stats.p50 ?? ""}>{formatPercentile(stats.p50)}</td>
      <td class="num" data-col="p99" data-value={stats.p99 ?? ""}>{formatPercentile(stats.p99)}</td>
    </>
  );
}

const HEAD = (
  <>
    <th class="num">Requests</th>
    <th class="num">Rate</th>
    <th class="num" title="4xx responses, throttles included">Errors</th>
    <th class="num" title="5xx responses and failed calls">Faults</th>
    <th class="num">P50</th>
    <th class="num">P99</th>
  </>
);

export function NodeTable({ nodes, selected, onSelect }: { nodes: MapNode[]; selected?: string; onSelect: (key: string) => void }) {
  const sorted = [...nodes].sort((a, b) => b.stats.total - a.stats.total);
  return (
    <table class="data map-table" data-testid="map-nodes">
      <thead>
        <tr>
          <th>Node</th>
          {HEAD}
        </tr>
      </thead>
      <tbody>
        {sorted.map((node) => (
          <tr
            class={node.key === selected ? "clickable selected" : "clickable"}
            data-testid="map-node-row"
            data-node={node.key}
            onClick={() => onSelect(node.key)}
          >
            <td>
              <span class="map-dot" style={{ background: colorFor(node.id.Name) }} /> <strong>{node.id.Name}</strong>{" "}
              <span class="muted">{kindLabel(node)}</span>
            </td>
            <Cells stats={node.stats} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EdgeTable({ edges, selected, onSelect }: { edges: MapEdge[]; selected?: string; onSelect: (key: string) => void }) {
  const sorted = [...edges].sort((a, b) => b.stats.total - a.stats.total);
  return (
    <table class="data map-table" data-testid="map-edges">
      <thead>
        <tr>
          <th>From</th>
          <th>To</th>
          {HEAD}
        </tr>
      </thead>
      <tbody>
        {sorted.map((edge) => (
          <tr
            class={edge.key === selected ? "clickable selected" : "clickable"}
            data-testid="map-edge-row"
            data-source={edge.source.key}
            data-target={edge.target.key}
            onClick={() => onSelect(edge.key)}
          >
            <td>
              <span class="map-dot" style={{ background: colorFor(edge.source.id.Name) }} /> {edge.source.id.Name}
            </td>
            <td>
              <span class="map-dot" style={{ background: colorFor(edge.target.id.Name) }} /> {edge.target.id.Name}{" "}
              <span class="muted">{kindLabel(edge.target)}</span>
            </td>
            <Cells stats={edge.stats} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
