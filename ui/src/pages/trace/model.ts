// The trace as the waterfall draws it: a tree of spans (orphans under "missing parent" placeholders),
// the critical path, errors, search matches, and the visible rows for a set of collapsed spans.
// Everything here is computed once per trace (or per search / collapse change), in linear time, so
// traces of thousands of spans stay fast.

import type { LogRecord, Span, Trace } from "../../api";

/** A row of the waterfall: a span, or a placeholder for a parent that never arrived. */
export interface Node {
  id: string;
  span: Span | null;
  /** For placeholders: the missing parent's id. */
  missingParentId?: string;
  parent: Node | null;
  children: Node[];
  depth: number;
  /** Nanoseconds, absolute. Placeholders cover their children. */
  start: number;
  end: number;
  error: boolean;
  /** Number of spans under this node (all depths). */
  descendants: number;
  /** The part of the span (absolute ns) on the critical path; empty when it is not on it. */
  critical: [number, number][];
  logs: LogRecord[];
}

export interface TraceModel {
  roots: Node[];
  byId: Map<string, Node>;
  /** Every node in tree (depth-first) order. */
  order: Node[];
  start: number;
  end: number;
  services: string[];
  spanCount: number;
  errorCount: number;
  /** The root span (without a parent) that ends last, if any. */
  root: Span | null;
  missingParents: number;
  criticalCount: number;
}

export const isErrorSpan = (span: Span) => span.status_code === 2 || span.events.some((event) => event.name === "exception");

export function buildModel(trace: Trace): TraceModel {
  const byId = new Map<string, Node>();
  for (const span of trace.spans) {
    byId.set(span.span_id, {
      id: span.span_id,
      span,
      parent: null,
      children: [],
      depth: 0,
      start: span.start_time_unix_nano,
      end: Math.max(span.end_time_unix_nano, span.start_time_unix_nano),
      error: isErrorSpan(span),
      descendants: 0,
      critical: [],
      logs: [],
    });
  }
  const roots: Node[] = [];
  const placeholders = new Map<string, Node>();
  let missingParents = 0;
  // Spans come ordered by start time, so children lists are ordered too.
  for (const span of trace.spans) {
    const node = byId.get(span.span_id)!;
    const parentId = span.parent_span_id;
    if (!parentId || parentId === span.span_id) {
      roots.push(node);
      continue;
    }
    let parent = byId.get(parentId);
    if (!parent) {
      parent = placeholders.get(parentId);
      if (!parent) {
        missingParents++;
        parent = {
          id: `missing:${parentId}`,
          span: null,
          missingParentId: parentId,
          parent: null,
          children: [],
          depth: 0,
          start: node.start,
          end: node.end,
          error: false,
          descendants: 0,
          critical: [],
          logs: [],
        };
        placeholders.set(parentId, parent);
        byId.set(parent.id, parent);
        roots.push(parent);
      }
    }
    node.parent = parent;
    parent.children.push(node);
  }
  // A cycle (a -> b -> a) leaves spans unreachable from any root: show them as roots.
  const order: Node[] = [];
  const visit = (node: Node, depth: number) => {
    const stack: [Node, number][] = [[node, depth]];
    while (stack.length) {
      const [current, level] = stack.pop()!;
      current.depth = level;
      order.push(current);
      for (let i = current.children.length - 1; i >= 0; i--) stack.push([current.children[i], level + 1]);
    }
  };
  for (const root of roots) visit(root, 0);
  if (order.length < byId.size) {
    const seen = new Set(order);
    for (const node of byId.values()) {
      if (!seen.has(node)) {
        node.parent?.children.splice(node.parent.children.indexOf(node), 1);
        node.parent = null;
        roots.push(node);
        const before = order.length;
        visit(node, 0);
        for (let i = before; i < order.length; i++) seen.add(order[i]);
      }
    }
  }
  // Sizes and placeholder extents, children before parents.
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    for (const child of node.children) {
      node.descendants += 1 + child.descendants;
      if (!node.span) {
        node.start = Math.min(node.start, child.start);
        node.end = Math.max(node.end, child.end);
      }
    }
  }
  for (const log of trace.logs) {
    // Rollbar occurrences are log rows too; the error panel and the row's ✖ count show them.
    if (log.dataset === "rollbar") continue;
    const node = log.span_id ? byId.get(log.span_id) : undefined;
    if (node) node.logs.push(log);
  }

  let start = Infinity;
  let end = -Infinity;
  const services = new Set<string>();
  let errorCount = 0;
  for (const span of trace.spans) {
    start = Math.min(start, span.start_time_unix_nano);
    end = Math.max(end, span.end_time_unix_nano);
    services.add(span.service_name || span.dataset);
    if (isErrorSpan(span)) errorCount++;
  }
  for (const log of trace.logs) {
    if (!Number.isFinite(start)) start = end = log.time_unix_nano;
  }
  if (!Number.isFinite(start)) start = end = 0;

  const realRoots = roots.filter((node) => node.span && !node.span.parent_span_id);
  const mainRoot = realRoots.reduce<Node | null>((best, node) => (!best || node.end > best.end ? node : best), null) ?? roots[0] ?? null;
  let criticalCount = 0;
  if (mainRoot) criticalCount = markCriticalPath(mainRoot);

  return {
    roots,
    byId,
    order,
    start,
    end: Math.max(end, start),
    services: [...services].sort(),
    spanCount: trace.spans.length,
    errorCount,
    root: mainRoot?.span ?? null,
    missingParents,
    criticalCount,
  };
}

/**
 * The chain of spans that determines the end-to-end latency: from `root`, the child that ends last
 * (before the current cursor) is critical from its start to the cursor, then the cursor moves to
 * that child's start and the next child ending before it is looked for; the time between is the
 * parent's own (a gap). Iterative, so deep traces cannot overflow the stack. Returns how many
 * spans are on the path.
 */
function markCriticalPath(root: Node): number {
  const onPath = new Set<Node>();
  const work: [Node, number, number][] = [[root, root.start, root.end]];
  while (work.length) {
    const [node, from, to] = work.pop()!;
    if (to <= from) continue;
    onPath.add(node);
    node.critical.push([from, to]);
    const children = [...node.children].sort((a, b) => b.end - a.end);
    let cursor = to;
    for (const child of children) {
      if (cursor <= from) break;
      if (child.start >= cursor) continue;
      const childEnd = Math.min(child.end, cursor);
      const childStart = Math.max(child.start, from);
      if (childEnd > childStart) work.push([child, childStart, childEnd]);
      cursor = childStart;
    }
  }
  return onPath.size;
}

/** Nodes whose span's name, service, ids or attribute values contain `text` (case-insensitive). */
export function searchSpans(model: TraceModel, text: string): Set<string> {
  const needle = text.trim().toLowerCase();
  const found = new Set<string>();
  if (!needle) return found;
  const has = (value: unknown): boolean => {
    if (value === null || value === undefined) return false;
    if (typeof value === "object") return Object.values(value as Record<string, unknown>).some(has);
    return String(value).toLowerCase().includes(needle);
  };
  for (const node of model.order) {
    const span = node.span;
    if (!span) continue;
    if (
      span.name.toLowerCase().includes(needle) ||
      span.service_name.toLowerCase().includes(needle) ||
      span.span_id.includes(needle) ||
      span.status_message.toLowerCase().includes(needle) ||
      Object.entries(span.attributes).some(([key, value]) => key.toLowerCase().includes(needle) || has(value)) ||
      span.events.some((event) => event.name.toLowerCase().includes(needle) || has(event.attributes))
    ) {
      found.add(node.id);
    }
  }
  return found;
}

/** The rows shown: depth-first, skipping the subtrees of collapsed nodes; with a search, only the
 * matches and their ancestors (for context). */
export function visibleRows(model: TraceModel, collapsed: Set<string>, matches: Set<string> | null): Node[] {
  let keep: Set<Node> | null = null;
  if (matches) {
    keep = new Set();
    for (const id of matches) {
      for (let node: Node | null = model.byId.get(id) ?? null; node && !keep.has(node); node = node.parent) keep.add(node);
    }
  }
  const rows: Node[] = [];
  const stack = [...model.roots].reverse();
  while (stack.length) {
    const node = stack.pop()!;
    if (keep && !keep.has(node)) continue;
    rows.push(node);
    if (collapsed.has(node.id) && !matches) continue;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
  }
  return rows;
}

/** Round tick steps (1, 2, 5 x 10^k ns) giving about `count` ticks over `span` ns. */
export function ticks(span: number, count = 6): number[] {
  if (span <= 0) return [0];
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= span + step * 1e-9; t += step) out.push(t);
  return out;
}

/** A log body as one line of text (JSON bodies by their message). */
export function logText(log: LogRecord): string {
  const body = log.body;
  if (typeof body === "string") {
    if (body.startsWith("{")) {
      try {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        const message = parsed.message ?? parsed.msg ?? parsed.event;
        if (typeof message === "string") return message;
      } catch {
        // not JSON after all: show it as is
      }
    }
    return body;
  }
  return body === null || body === undefined ? "" : JSON.stringify(body);
}

/** The severity of a log line, as a word (`INFO`, `ERROR`): the text, the number, or the JSON `level`. */
export function logSeverity(log: LogRecord): string {
  if (log.severity_text) return log.severity_text.toUpperCase();
  const n = log.severity_number;
  if (n >= 21) return "FATAL";
  if (n >= 17) return "ERROR";
  if (n >= 13) return "WARN";
  if (n >= 9) return "INFO";
  if (n >= 5) return "DEBUG";
  if (n >= 1) return "TRACE";
  return "LOG";
}

export function severityClass(severity: string): string {
  if (/^(ERROR|FATAL|CRITICAL)/.test(severity)) return "error";
  if (/^WARN/.test(severity)) return "warning";
  if (/^INFO/.test(severity)) return "info";
  return "";
}
