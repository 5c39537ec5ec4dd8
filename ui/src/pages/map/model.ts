// The service map's model: GetServiceGraph's services and edges with their numbers, and a layered
// layout (callers left, callees right) so a request reads left to right.

import { type CallStats, type Histogram, type Service, type ServiceGraph, type ServiceId, callStats } from "../xray/model";

export type NodeKind = "service" | "database" | "aws" | "remote" | "client";

export interface MapNode {
  key: string;
  id: ServiceId;
  kind: NodeKind;
  root: boolean;
  stats: CallStats;
  histogram: Histogram;
  /** Column (0 = entry points) and position in the column. */
  layer: number;
  x: number;
  y: number;
}

export interface MapEdge {
  key: string;
  source: MapNode;
  target: MapNode;
  stats: CallStats;
  histogram: Histogram;
  /** An edge back to an earlier column (a cycle), drawn curved. */
  backwards: boolean;
  /** ECharts' `lineStyle.curveness`: 0 draws it straight; others bend it around nodes in its way. */
  curveness: number;
}

export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
  seconds: number;
}

export const nodeKey = (id: ServiceId) => (id.Type ? `${id.Name}|${id.Type}` : id.Name);

export function nodeKind(id: ServiceId): NodeKind {
  const type = id.Type ?? "";
  if (type.startsWith("Database::")) return "database";
  if (type === "remote") return "remote";
  if (type.startsWith("AWS::") && !/::(EC2|ECS|EKS|ElasticBeanstalk)::/.test(type)) return "aws";
  return "service";
}

export function kindLabel(node: { id: ServiceId; kind: NodeKind }): string {
  switch (node.kind) {
    case "database":
      return node.id.Type === "Database::SQL" ? "SQL database" : node.id.Type!;
    case "aws":
      return node.id.Type!.replace(/^AWS::/, "AWS ");
    case "remote":
      return "remote service";
    case "client":
      return "callers outside the traces";
    default:
      return node.id.Type ? node.id.Type : "service";
  }
}

const COLUMN_GAP = 280;
const ROW_GAP = 135;

export function buildMap(graph: ServiceGraph): ServiceMap {
  const seconds = Math.max(1, graph.EndTime - graph.StartTime);
  const byRef = new Map<number, Service>(graph.Services.map((service) => [service.ReferenceId, service]));
  const nodes: MapNode[] = graph.Services.map((service) => ({
    key: nodeKey(service),
    id: { Name: service.Name, Names: service.Names, Type: service.Type },
    kind: nodeKind(service),
    root: service.Root,
    stats: callStats(service.SummaryStatistics, service.ResponseTimeHistogram, seconds),
    histogram: service.ResponseTimeHistogram,
    layer: 0,
    x: 0,
    y: 0,
  }));
  const nodeOfRef = new Map<number, MapNode>(graph.Services.map((service, index) => [service.ReferenceId, nodes[index]]));
  const edges: MapEdge[] = [];
  for (const service of graph.Services) {
    for (const edge of service.Edges) {
      const target = nodeOfRef.get(edge.ReferenceId);
      if (!target || !byRef.has(edge.ReferenceId)) continue;
      const source = nodeOfRef.get(service.ReferenceId)!;
      edges.push({
        key: `${source.key}->${target.key}`,
        source,
        target,
        stats: callStats(edge.SummaryStatistics, edge.ResponseTimeHistogram, seconds),
        histogram: edge.ResponseTimeHistogram,
        backwards: false,
        curveness: 0,
      });
    }
  }
  layout(nodes, edges);
  for (const edge of edges) edge.curveness = edge.backwards ? BACKWARDS_CURVENESS : detour(edge, nodes);
  return { nodes, edges, seconds };
}

/** Longest-path layers from the entry points (back edges of cycles ignored), then barycentre order. */
function layout(nodes: MapNode[], edges: MapEdge[]): void {
  const outgoing = new Map<MapNode, MapEdge[]>(nodes.map((node) => [node, []]));
  const incoming = new Map<MapNode, number>(nodes.map((node) => [node, 0]));
  for (const edge of edges) {
    if (edge.source === edge.target) continue;
    outgoing.get(edge.source)!.push(edge);
    incoming.set(edge.target, incoming.get(edge.target)! + 1);
  }
  // Depth-first from the entry points marks the edges that close a cycle.
  const state = new Map<MapNode, "open" | "done">();
  const visit = (node: MapNode) => {
    state.set(node, "open");
    for (const edge of outgoing.get(node)!) {
      const seen = state.get(edge.target);
      if (seen === "open") edge.backwards = true;
      else if (!seen) visit(edge.target);
    }
    state.set(node, "done");
  };
  const starts = [...nodes].sort((a, b) => incoming.get(a)! - incoming.get(b)! || Number(b.root) - Number(a.root) || a.key.localeCompare(b.key));
  for (const node of starts) if (!state.has(node)) visit(node);
  for (const edge of edges) if (edge.source === edge.target) edge.backwards = true;

  // Longest path over the forward edges (a DAG now), in topological order.
  const forward = edges.filter((edge) => !edge.backwards);
  const indegree = new Map<MapNode, number>(nodes.map((node) => [node, 0]));
  for (const edge of forward) indegree.set(edge.target, indegree.get(edge.target)! + 1);
  const queue = nodes.filter((node) => indegree.get(node) === 0);
  while (queue.length) {
    const node = queue.shift()!;
    for (const edge of forward) {
      if (edge.source !== node) continue;
      edge.target.layer = Math.max(edge.target.layer, node.layer + 1);
      indegree.set(edge.target, indegree.get(edge.target)! - 1);
      if (indegree.get(edge.target) === 0) queue.push(edge.target);
    }
  }

  // Within a column: by the mean row of the callers (fewer crossings), busiest first otherwise.
  const columns = new Map<number, MapNode[]>();
  for (const node of nodes) columns.set(node.layer, [...(columns.get(node.layer) ?? []), node]);
  const rows = new Map<MapNode, number>();
  for (const layer of [...columns.keys()].sort((a, b) => a - b)) {
    const column = columns.get(layer)!;
    const weight = (node: MapNode) => {
      const callers = forward.filter((edge) => edge.target === node && rows.has(edge.source)).map((edge) => rows.get(edge.source)!);
      return callers.length ? callers.reduce((a, b) => a + b, 0) / callers.length : Number.POSITIVE_INFINITY;
    };
    column.sort((a, b) => weight(a) - weight(b) || b.stats.total - a.stats.total || a.key.localeCompare(b.key));
    column.forEach((node, index) => {
      node.x = layer * COLUMN_GAP;
      node.y = (index - (column.length - 1) / 2) * ROW_GAP;
      rows.set(node, node.y);
    });
  }
}

const BACKWARDS_CURVENESS = 0.35;
/** Bends tried, gentlest first, for an edge whose straight line would cross a node. */
const DETOURS = [0.15, -0.15, 0.25, -0.25, 0.35, -0.35, 0.5, -0.5];

/**
 * The curveness that keeps an edge clear of the nodes it does not connect. An edge skipping a
 * column (a service calling the database its callee also calls) would otherwise run through that
 * column's nodes and their labels.
 */
function detour(edge: MapEdge, nodes: MapNode[]): number {
  const others = nodes.filter((node) => node !== edge.source && node !== edge.target);
  const clearance = (curveness: number) => Math.min(Infinity, ...others.map((node) => nodeClearance(edge, curveness, node)));
  if (clearance(0) >= 1) return 0;
  return DETOURS.find((curveness) => clearance(curveness) >= 1) ?? DETOURS.reduce((best, next) => (clearance(next) > clearance(best) ? next : best));
}

/** Room a node takes around its centre: its circle (radius up to 46) and, below it, its label. */
const NODE_REACH = { side: 56, above: 56, below: 90 };

/** How far an edge bent by `curveness` passes from `node`, in NODE_REACHes: clear from 1 on. */
function nodeClearance(edge: MapEdge, curveness: number, node: MapNode): number {
  const [from, to] = [edge.source, edge.target];
  // ECharts' control point for a curved graph edge (echarts/lib/chart/graph/simpleLayoutHelper).
  const control = [(from.x + to.x) / 2 - (from.y - to.y) * curveness, (from.y + to.y) / 2 - (to.x - from.x) * curveness];
  let nearest = Infinity;
  for (let step = 0; step <= 32; step++) {
    const t = step / 32;
    const [a, b, c] = [(1 - t) * (1 - t), 2 * t * (1 - t), t * t];
    const dx = (a * from.x + b * control[0] + c * to.x - node.x) / NODE_REACH.side;
    const dy = a * from.y + b * control[1] + c * to.y - node.y;
    nearest = Math.min(nearest, Math.hypot(dx, dy / (dy < 0 ? NODE_REACH.above : NODE_REACH.below)));
  }
  return nearest;
}

/** Text for a node's or edge's error situation, worst first. */
export function health(stats: CallStats): { level: "ok" | "error" | "fault"; text: string } {
  if (stats.fault > 0) return { level: "fault", text: `${stats.fault} faults` };
  if (stats.error + stats.throttle > 0) return { level: "error", text: `${stats.error + stats.throttle} errors` };
  return { level: "ok", text: "OK" };
}
