// The waterfall: one row per visible span (virtualized: only the rows in view are in the DOM), a
// name column with the tree, and timing bars on a shared time axis.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { colorFor, formatDuration, formatNumber } from "../../format";
import { type Node, type TraceModel, ticks } from "./model";

export const ROW_HEIGHT = 28;
const MAX_HEIGHT = 640;
const OVERSCAN = 12;

export interface WaterfallProps {
  model: TraceModel;
  rows: Node[];
  collapsed: Set<string>;
  selected: string | null;
  matches: Set<string> | null;
  showCritical: boolean;
  /** Span id -> how many error occurrences (Rollbar) point at it. */
  occurrences: Map<string, number>;
  onSelect: (id: string) => void;
  onToggle: (id: string) => void;
}

export function Waterfall({ model, rows, collapsed, selected, matches, showCritical, occurrences, onSelect, onToggle }: WaterfallProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const total = Math.max(1, model.end - model.start);
  const axis = ticks(total);
  const height = Math.min(MAX_HEIGHT, Math.max(rows.length, 1) * ROW_HEIGHT);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const pct = (ns: number) => `${(((ns - model.start) / total) * 100).toFixed(4)}%`;

  // Keep the selected row in view when it changes (keyboard, URL, a click in the logs).
  useLayoutEffect(() => {
    const element = scroller.current;
    const index = rows.findIndex((row) => row.id === selected);
    if (!element || index < 0) return;
    const top = index * ROW_HEIGHT;
    if (top < element.scrollTop) element.scrollTop = top;
    else if (top + ROW_HEIGHT > element.scrollTop + element.clientHeight) element.scrollTop = top + ROW_HEIGHT - element.clientHeight;
  }, [selected]);

  useEffect(() => {
    // The rows shrank (collapse, search): clamp the scroll position.
    const element = scroller.current;
    if (element && element.scrollTop > rows.length * ROW_HEIGHT) element.scrollTop = 0;
  }, [rows.length]);

  const onKey = (event: KeyboardEvent) => {
    const index = rows.findIndex((row) => row.id === selected);
    const row = rows[index];
    if (event.key === "ArrowDown" || event.key === "j") {
      onSelect(rows[Math.min(rows.length - 1, index + 1)].id);
    } else if (event.key === "ArrowUp" || event.key === "k") {
      onSelect(rows[Math.max(0, index - 1)].id);
    } else if (row && event.key === "ArrowLeft") {
      if (row.children.length && !collapsed.has(row.id)) onToggle(row.id);
      else if (row.parent) onSelect(row.parent.id);
    } else if (row && event.key === "ArrowRight") {
      if (row.children.length && collapsed.has(row.id)) onToggle(row.id);
    } else {
      return;
    }
    event.preventDefault();
  };

  return (
    <div class="tw-waterfall" data-testid="waterfall">
      <div class="tw-head">
        <div class="tw-name-col">
          Span <span class="faint">({formatNumber(rows.length)} shown)</span>
        </div>
        <div class="tw-axis" data-testid="time-axis">
          {axis.map((t) => (
            <span class="tw-tick" style={{ left: `${(t / total) * 100}%` }}>
              {formatDuration(t / 1e6)}
            </span>
          ))}
        </div>
      </div>
      <div
        class="tw-scroll"
        ref={scroller}
        style={{ height: `${height}px` }}
        tabIndex={0}
        onKeyDown={onKey}
        onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      >
        <div class="tw-canvas" style={{ height: `${rows.length * ROW_HEIGHT}px` }}>
          <div class="tw-grid" aria-hidden="true">
            {axis.map((t) => (
              <span style={{ left: `${(t / total) * 100}%` }} />
            ))}
          </div>
          {rows.slice(first, last).map((node, offset) => (
            <Row
              key={node.id}
              node={node}
              top={(first + offset) * ROW_HEIGHT}
              pct={pct}
              total={total}
              start={model.start}
              collapsed={collapsed.has(node.id)}
              selected={node.id === selected}
              match={matches ? matches.has(node.id) : null}
              showCritical={showCritical}
              occurrences={occurrences.get(node.id) ?? 0}
              onSelect={onSelect}
              onToggle={onToggle}
            />
          ))}
        </div>
      </div>
    </div>
  );
}

/** Indentation in pixels: 14 per level, then 2 per level past 12 so deep trees keep their names. */
function indent(depth: number): number {
  return depth <= 12 ? depth * 14 : 168 + Math.min(depth - 12, 40) * 2;
}

interface RowProps {
  node: Node;
  top: number;
  pct: (ns: number) => string;
  total: number;
  start: number;
  collapsed: boolean;
  selected: boolean;
  match: boolean | null;
  showCritical: boolean;
  occurrences: number;
  onSelect: (id: string) => void;
  onToggle: (id: string) => void;
}

function Row({ node, top, pct, total, start, collapsed, selected, match, showCritical, occurrences, onSelect, onToggle }: RowProps) {
  const span = node.span;
  const service = span ? span.service_name || span.dataset : "";
  const color = span ? colorFor(service) : "#98a2b3";
  const width = Math.max(0, ((node.end - node.start) / total) * 100);
  const leftFraction = (node.start - start) / total;
  const critical = showCritical && node.critical.length > 0;
  const classes = ["tw-row"];
  if (selected) classes.push("selected");
  if (node.error) classes.push("error");
  if (match === true) classes.push("match");
  if (match === false) classes.push("context");
  if (!span) classes.push("missing");
  const duration = span ? formatDuration(span.duration_ms) : "";
  // The duration goes right of the bar, else left of it, else inside its end.
  const endFraction = leftFraction + width / 100;
  const labelPlace = endFraction < 0.86 ? "after" : leftFraction > 0.14 ? "before" : "inside";
  const labelStyle =
    labelPlace === "after"
      ? { left: `calc(${pct(node.end)} + 6px)` }
      : labelPlace === "before"
        ? { right: `calc(${(100 - leftFraction * 100).toFixed(4)}% + 6px)` }
        : { right: `calc(${(100 - endFraction * 100).toFixed(4)}% + 6px)` };
  // The service is named where it changes (roots, calls into another service).
  const parentService = node.parent?.span ? node.parent.span.service_name || node.parent.span.dataset : null;
  const showService = service !== parentService;
  const title = span
    ? `${service} · ${span.name}\n${formatDuration(span.duration_ms)} starting at +${formatDuration((node.start - start) / 1e6)}`
    : `parent span ${node.missingParentId} was not received`;
  return (
    <div
      class={classes.join(" ")}
      style={{ top: `${top}px`, height: `${ROW_HEIGHT}px` }}
      data-testid={span ? "span-row" : "missing-parent"}
      data-span-id={span?.span_id ?? node.missingParentId}
      data-service={service}
      data-depth={node.depth}
      data-critical={node.critical.length > 0 ? "true" : "false"}
      data-error={node.error ? "true" : "false"}
      onClick={() => onSelect(node.id)}
      title={title}
    >
      <div class="tw-name-col tw-name" style={{ paddingLeft: `${8 + indent(node.depth)}px` }}>
        {node.children.length > 0 ? (
          <button
            type="button"
            class="tw-toggle"
            data-testid="toggle"
            aria-expanded={!collapsed}
            aria-label={collapsed ? "Expand" : "Collapse"}
            onClick={(event) => {
              event.stopPropagation();
              onToggle(node.id);
            }}
          >
            {collapsed ? "▸" : "▾"}
          </button>
        ) : (
          <span class="tw-toggle-space" />
        )}
        {span ? (
          <>
            <span class="tw-swatch" style={{ background: color }} />
            {showService && <span class="tw-service">{service}</span>}
            <span class="tw-span-name">{span.name}</span>
          </>
        ) : (
          <span class="tw-missing-label">
            ⚠ missing parent <span class="mono">{node.missingParentId?.slice(0, 8)}…</span>
          </span>
        )}
        {collapsed && <span class="tw-hidden-count">+{node.descendants}</span>}
        {node.error && (
          <span class="tw-error-icon" title={span?.status_message || "error"}>
            ⚠
          </span>
        )}
        {node.logs.length > 0 && (
          <span class="tw-log-count" title={`${node.logs.length} log line(s)`}>
            ☰ {node.logs.length}
          </span>
        )}
        {occurrences > 0 && (
          <span class="tw-occ-count" title={`${occurrences} error occurrence(s) in Rollbar`}>
            ✖ {occurrences}
          </span>
        )}
      </div>
      <div class="tw-lane">
        <div
          class={span ? "tw-bar" : "tw-bar placeholder"}
          style={{ left: pct(node.start), width: `max(${width.toFixed(4)}%, 2px)`, background: span ? color : undefined }}
        />
        {critical &&
          node.critical.map(([from, to]) => (
            <div class="tw-critical" data-testid="critical-segment" style={{ left: pct(from), width: `max(${(((to - from) / total) * 100).toFixed(4)}%, 2px)` }} />
          ))}
        {node.logs.map((log) => (
          <span class="tw-log-mark" style={{ left: pct(log.time_unix_nano) }} />
        ))}
        {span && (
          <span class={`tw-duration ${labelPlace}`} style={labelStyle}>
            {duration}
          </span>
        )}
      </div>
    </div>
  );
}
