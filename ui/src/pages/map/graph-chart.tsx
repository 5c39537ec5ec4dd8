// The map itself: ECharts' graph series on our layered layout. Each node is a ring split by the
// share of OK, error (4xx), throttle (429) and fault (5xx) calls, as X-Ray draws them, sized by its
// request count, with its average response time and rate inside; each edge is labelled with its
// rate and P99. Hover for the exact numbers, click to select.

import type { EChartsCoreOption } from "echarts/core";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { Chart, type ECharts } from "../../components/chart";
import { colorFor, formatDuration, formatNumber, formatPercent, formatRate } from "../../format";
import { type CallStats, formatPercentile } from "../xray/model";
import { type MapEdge, type MapNode, type ServiceMap, kindLabel } from "./model";

export const STATUS_COLORS = { ok: "#18a77a", error: "#f5a524", throttle: "#9b5de5", fault: "#d92d20" };
const CLIENT_KEY = "__clients__";

export type Selection = { kind: "node"; key: string } | { kind: "edge"; key: string } | null;

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The node's ring as an SVG image: arcs per status share, the numbers inside. */
function nodeImage(node: MapNode, size: number, selected: boolean): string {
  const stroke = Math.max(6, size * 0.1);
  const center = size / 2;
  const radius = center - stroke / 2 - 3;
  const circumference = 2 * Math.PI * radius;
  const { ok, error, throttle, fault, total } = node.stats;
  const parts: [number, string][] = [
    [ok, STATUS_COLORS.ok],
    [error, STATUS_COLORS.error],
    [throttle, STATUS_COLORS.throttle],
    [fault, STATUS_COLORS.fault],
  ];
  let offset = 0;
  const arcs = parts
    .filter(([count]) => count > 0)
    .map(([count, color]) => {
      const length = (count / Math.max(1, total)) * circumference;
      const arc = `<circle cx="${center}" cy="${center}" r="${radius}" fill="none" stroke="${color}" stroke-width="${stroke}" stroke-dasharray="${length} ${circumference - length}" stroke-dashoffset="${-offset}" transform="rotate(-90 ${center} ${center})"/>`;
      offset += length;
      return arc;
    })
    .join("");
  const empty = total === 0 ? `<circle cx="${center}" cy="${center}" r="${radius}" fill="none" stroke="#cfd4dc" stroke-width="${stroke}"/>` : "";
  const halo = selected ? `<circle cx="${center}" cy="${center}" r="${center - 1}" fill="none" stroke="#4c7cf0" stroke-width="2" stroke-dasharray="4 3"/>` : "";
  const big = Math.round(size * 0.17);
  const small = Math.round(size * 0.13);
  const text =
    node.kind === "client"
      ? `<text x="${center}" y="${center + big * 0.35}" font-size="${big * 1.3}" text-anchor="middle" fill="#667085">⇢</text>`
      : `<text x="${center}" y="${center - 1}" font-size="${big}" font-weight="600" text-anchor="middle" fill="#1d2330">${escapeXml(formatDuration(node.stats.avg))}</text>` +
        `<text x="${center}" y="${center + small + 2}" font-size="${small}" text-anchor="middle" fill="#667085">${escapeXml(formatRate(node.stats.perMinute))}</text>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="Inter, system-ui, sans-serif">` +
    `<circle cx="${center}" cy="${center}" r="${radius}" fill="#fff"/>${empty}${arcs}${halo}${text}</svg>`;
  return `image://data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

function statsTable(stats: CallStats): string {
  const row = (label: string, value: string, color?: string) =>
    `<tr><td style="color:#667085;padding-right:14px">${color ? `<span style="display:inline-block;width:8px;height:8px;border-radius:50%;background:${color};margin-right:5px"></span>` : ""}${label}</td><td style="text-align:right;font-variant-numeric:tabular-nums">${value}</td></tr>`;
  return (
    `<table style="font-size:12px;border-collapse:collapse">` +
    row("Requests", `${formatNumber(stats.total)} (${formatRate(stats.perMinute)})`) +
    row("OK", `${formatNumber(stats.ok)}`, STATUS_COLORS.ok) +
    row("Errors (4xx)", `${formatNumber(stats.error)} · ${formatPercent(stats.errorShare)}`, STATUS_COLORS.error) +
    row("Throttles (429)", `${formatNumber(stats.throttle)} · ${formatPercent(stats.throttleShare)}`, STATUS_COLORS.throttle) +
    row("Faults (5xx)", `${formatNumber(stats.fault)} · ${formatPercent(stats.faultShare)}`, STATUS_COLORS.fault) +
    row("Average", formatDuration(stats.avg)) +
    row("P50", formatPercentile(stats.p50)) +
    row("P99", formatPercentile(stats.p99)) +
    `</table>`
  );
}

const escapeHtml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

function edgeColor(edge: MapEdge, selected: boolean): string {
  if (selected) return "#4c7cf0";
  if (edge.stats.faultShare > 0) return "#e8837a";
  if (edge.stats.errorShare + edge.stats.throttleShare > 0) return "#f0bf6e";
  return "#aab2c5";
}

export function MapChart({ map, selection, onSelect, onOpen }: {
  map: ServiceMap;
  selection: Selection;
  onSelect: (selection: Selection) => void;
  /** Double click: straight to the traces. */
  onOpen: (selection: Selection) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const roots = map.nodes.filter((node) => node.root);
  // ECharts fits the drawing (aspect kept) into 80% of the chart: the height that fits its width.
  const [width, setWidth] = useState(900);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth || 900));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const layers = map.nodes.map((node) => node.layer);
  const drawingWidth = (Math.max(...layers) - Math.min(0, ...layers) + 0.75) * 280 + 220;
  const drawingHeight = (Math.max(...countPerColumn(map), 1) - 1) * 135 + 200;
  const scale = Math.min(1, (0.8 * width) / drawingWidth);
  const height = Math.max(360, Math.min(1000, Math.round((drawingHeight * scale) / 0.8)));

  const option = useMemo<EChartsCoreOption>(() => {
    const maxTotal = Math.max(1, ...map.nodes.map((node) => node.stats.total));
    // Symbols keep their pixel size when ECharts scales the drawing down: shrink them with it.
    const shrink = Math.max(0.6, scale);
    const sizeOf = (node: MapNode) => Math.round((56 + 36 * Math.sqrt(node.stats.total / maxTotal)) * shrink);
    const minLayer = Math.min(0, ...map.nodes.map((node) => node.layer));
    const client = roots.length
      ? {
          id: CLIENT_KEY,
          name: "Clients",
          x: (minLayer - 0.75) * 280,
          y: roots.reduce((sum, node) => sum + node.y, 0) / roots.length,
          symbol: nodeImage({ ...roots[0], key: CLIENT_KEY, kind: "client", stats: { ...roots[0].stats, total: 0, ok: 0, error: 0, throttle: 0, fault: 0 } }, 48, false),
          symbolSize: 48,
          label: { show: true, position: "bottom", formatter: "{name|Clients}", rich: { name: { color: "#667085", fontSize: 12 } } },
          tooltip: { formatter: `<b>Clients</b><br/><span style="color:#667085">Requests from outside the traces enter at ${roots.map((n) => escapeHtml(n.id.Name)).join(", ")}</span>` },
        }
      : null;
    const nodes = map.nodes.map((node) => {
      const size = sizeOf(node);
      const selected = selection?.kind === "node" && selection.key === node.key;
      return {
        id: node.key,
        name: node.id.Name,
        x: node.x,
        y: node.y,
        value: node.stats.total,
        symbol: nodeImage(node, size, selected),
        symbolSize: size,
        label: {
          show: true,
          position: "bottom",
          distance: 6,
          formatter: `{dot|●} {name|${node.id.Name.replace(/[{}|]/g, "")}}\n{kind|${kindLabel(node).replace(/[{}|]/g, "")}}`,
          rich: {
            dot: { color: colorFor(node.id.Name), fontSize: 11 },
            name: { fontWeight: 600, fontSize: Math.round(13 * Math.max(0.85, shrink)), color: "#1d2330", lineHeight: 17 },
            kind: { color: "#667085", fontSize: Math.round(11 * Math.max(0.9, shrink)), align: "center" },
          },
        },
        tooltip: {
          formatter: `<div style="font-weight:600;margin-bottom:2px">${escapeHtml(node.id.Name)}</div><div style="color:#667085;font-size:11px;margin-bottom:6px">${escapeHtml(kindLabel(node))}</div>${statsTable(node.stats)}<div style="color:#98a2b3;font-size:11px;margin-top:6px">Click for details · double-click for traces</div>`,
        },
      };
    });
    const maxRate = Math.max(...map.edges.map((edge) => edge.stats.perMinute), 1e-9);
    const links = map.edges.map((edge) => {
      const selected = selection?.kind === "edge" && selection.key === edge.key;
      return {
        id: edge.key,
        source: edge.source.key,
        target: edge.target.key,
        value: edge.stats.total,
        lineStyle: {
          width: 1.5 + 3.5 * Math.sqrt(edge.stats.perMinute / maxRate) + (selected ? 1 : 0),
          color: edgeColor(edge, selected),
          curveness: edge.curveness,
          opacity: 0.95,
        },
        label: {
          show: map.edges.length <= 12,
          formatter: `${formatRate(edge.stats.perMinute)} · P99 ${formatPercentile(edge.stats.p99)}${edge.stats.faultShare > 0 ? ` · ${formatPercent(edge.stats.faultShare)} 5xx` : ""}`,
          color: selected ? "#2c4fb8" : "#475467",
          fontSize: 11,
          backgroundColor: "rgba(255,255,255,0.9)",
          padding: [2, 4],
          borderRadius: 3,
        },
        tooltip: {
          formatter: `<div style="font-weight:600;margin-bottom:6px">${escapeHtml(edge.source.id.Name)} → ${escapeHtml(edge.target.id.Name)}</div>${statsTable(edge.stats)}<div style="color:#98a2b3;font-size:11px;margin-top:6px">Click for details · double-click for traces</div>`,
        },
      };
    });
    const clientLinks = client
      ? roots.map((root) => ({
          source: CLIENT_KEY,
          target: root.key,
          lineStyle: { width: 1.5, color: "#cfd4dc", type: "dashed", curveness: 0 },
          label: { show: false },
          tooltip: { formatter: `Entry point: <b>${escapeHtml(root.id.Name)}</b>` },
        }))
      : [];
    // Two invisible corner nodes pad the drawing: ECharts fits the nodes' bounding box into the
    // chart, and a single row (or a single node) would otherwise have no height to fit.
    const xs = [...map.nodes.map((n) => n.x), ...(client ? [client.x] : [])];
    const ys = map.nodes.map((n) => n.y);
    const corner = (x: number, y: number, id: string) => ({ id, name: "", x, y, symbol: "none", symbolSize: 0, label: { show: false }, tooltip: { show: false }, silent: true });
    const corners = [
      corner(Math.min(...xs) - 110, Math.min(...ys) - 90, "__corner_a__"),
      corner(Math.max(...xs) + 110, Math.max(...ys) + 110, "__corner_b__"),
    ];
    return {
      animation: false,
      tooltip: { trigger: "item", confine: true, backgroundColor: "#fff", borderColor: "#e3e6eb", textStyle: { color: "#1d2330" }, extraCssText: "box-shadow:0 6px 18px rgba(16,24,40,.12)" },
      series: [
        {
          type: "graph",
          layout: "none",
          roam: true,
          draggable: false,
          edgeSymbol: ["none", "arrow"],
          edgeSymbolSize: [0, 9],
          // Past a dozen edges the labels pile up: the tooltips and the table keep the numbers.
          edgeLabel: { show: map.edges.length <= 12 },
          // No adjacency focus: after a click re-renders the chart ECharts keeps the rest dimmed.
          emphasis: { scale: 1.06, lineStyle: { opacity: 1 } },
          data: [...(client ? [client] : []), ...nodes, ...corners],
          links: [...clientLinks, ...links],
        },
      ],
    };
  }, [map, selection, scale]);

  // Where each node landed, in pixels, on the container: what the tests click on; and the points
  // ECharts drew each edge through (ends, then the control point of a curve): what they measure.
  const recordPositions = (_params: unknown, chart: ECharts) => {
    const pixel = (point: number[]) => {
      const at = chart.convertToPixel({ seriesIndex: 0 }, point) as unknown as number[] | undefined;
      return at ? [Math.round(at[0]), Math.round(at[1])] : null;
    };
    const positions: Record<string, number[] | null> = {};
    for (const node of map.nodes) positions[node.key] = pixel([node.x, node.y]);
    const edgeData = (chart as unknown as EdgeLayouts).getModel().getSeriesByIndex(0).getEdgeData();
    const edges: Record<string, (number[] | null)[]> = {};
    for (let index = 0; index < edgeData.count(); index++) {
      const id = edgeData.getId(index);
      if (map.edges.some((edge) => edge.key === id)) edges[id] = edgeData.getItemLayout(index).map(pixel);
    }
    container.current?.setAttribute("data-positions", JSON.stringify(positions));
    container.current?.setAttribute("data-edges", JSON.stringify(edges));
  };

  return (
    <div ref={container} class="map-canvas" data-testid="map-canvas">
      <Chart
        option={option}
        style={{ height: `${height}px` }}
        on={{
          click: (params) => {
            if (params.dataType === "node" && map.nodes.some((n) => n.key === params.data.id)) onSelect({ kind: "node", key: params.data.id });
            else if (params.dataType === "edge" && params.data.id) onSelect({ kind: "edge", key: params.data.id });
          },
          dblclick: (params) => {
            if (params.dataType === "node" && map.nodes.some((n) => n.key === params.data.id)) onOpen({ kind: "node", key: params.data.id });
            else if (params.dataType === "edge" && params.data.id) onOpen({ kind: "edge", key: params.data.id });
          },
          finished: recordPositions,
        }}
      />
    </div>
  );
}

/** The part of ECharts' model that holds a graph series' edge layouts (not in its public types). */
interface EdgeLayouts {
  getModel(): {
    getSeriesByIndex(index: number): {
      getEdgeData(): { count(): number; getId(index: number): string; getItemLayout(index: number): number[][] };
    };
  };
}

function countPerColumn(map: ServiceMap): number[] {
  const counts = new Map<number, number>();
  for (const node of map.nodes) counts.set(node.layer, (counts.get(node.layer) ?? 0) + 1);
  return [...counts.values()];
}
