// The service map (route /map): X-Ray's GetServiceGraph over every trace of the time range (X-Ray
// segments and OpenTelemetry spans alike), optionally filtered by an X-Ray group. The URL holds the
// range (`t` or `from`/`to`), the group (`group`) and the selection (`sel=node:KEY` / `edge:KEY`).

import { useMemo } from "preact/hooks";

import { Card, Empty, ErrorBox, Loading, PageHeader, TimePicker, useAsync } from "../../components/common";
import { formatNumber } from "../../format";
import { href, navigate } from "../../router";
import { DEFAULT_RANGE, type TimeRange, describeRange, rangeBounds, rangeFromQuery, rangeToQuery } from "../../time";
import { DEFAULT_GROUP, type Group, xrayApi } from "../xray/model";
import { EdgeDetails, NodeDetails, edgeTracesHref, nodeTracesHref } from "./details";
import { MapChart, STATUS_COLORS, type Selection } from "./graph-chart";
import { buildMap } from "./model";
import { EdgeTable, NodeTable } from "./tables";
import "./map.css";

function parseSelection(text: string | null): Selection {
  const match = /^(node|edge):(.+)$/.exec(text ?? "");
  return match ? { kind: match[1] as "node" | "edge", key: match[2] } : null;
}

function Legend() {
  const items: [string, string][] = [
    ["OK", STATUS_COLORS.ok],
    ["Error (4xx)", STATUS_COLORS.error],
    ["Throttle (429)", STATUS_COLORS.throttle],
    ["Fault (5xx)", STATUS_COLORS.fault],
  ];
  return (
    <div class="map-legend" data-testid="map-legend">
      {items.map(([label, color]) => (
        <span>
          <i style={{ background: color }} /> {label}
        </span>
      ))}
      <span class="muted">Ring: share of calls · size: requests · inside: average, rate · edges: rate · P99</span>
    </div>
  );
}

function GroupSelect({ groups, value, onChange }: { groups: Group[] | undefined; value: string; onChange: (group: string) => void }) {
  const names = groups?.map((group) => group.GroupName) ?? [DEFAULT_GROUP];
  if (value && !names.includes(value)) names.push(value);
  const current = groups?.find((group) => group.GroupName === value);
  return (
    <label class="map-group" title={current?.FilterExpression ? `Filter: ${current.FilterExpression}` : "Every trace"}>
      <span class="muted">Group</span>
      <select data-testid="map-group" value={value || DEFAULT_GROUP} onChange={(event) => onChange(event.currentTarget.value)}>
        {names.map((name) => (
          <option value={name}>{name}</option>
        ))}
      </select>
    </label>
  );
}

export function MapPage({ query }: { query: URLSearchParams }) {
  const range = rangeFromQuery(query, DEFAULT_RANGE);
  const group = query.get("group") ?? "";
  const selection = parseSelection(query.get("sel"));
  const refresh = query.get("r") ?? "";
  const rangeKey = JSON.stringify(range);

  const update = (changes: { range?: TimeRange; group?: string; sel?: Selection; refresh?: boolean }, replace = false) => {
    const nextRange = changes.range ?? range;
    const nextGroup = changes.group !== undefined ? changes.group : group;
    const nextSel = changes.sel !== undefined ? changes.sel : selection;
    navigate(
      href("/map", {
        ...rangeToQuery(nextRange),
        group: nextGroup === DEFAULT_GROUP ? "" : nextGroup,
        sel: nextSel ? `${nextSel.kind}:${nextSel.key}` : "",
        r: changes.refresh ? String(Date.now()) : refresh,
      }),
      replace,
    );
  };

  const groups = useAsync(() => xrayApi.groups(), []);
  // The answer carries the request it answers: until the current one's is in, the page is not loaded
  // (tests read the page as soon as data-loaded says so).
  const requestKey = `${rangeKey}|${group}|${refresh}`;
  const graph = useAsync(() => {
    const { start, end } = rangeBounds(range);
    return xrayApi.serviceGraph(Math.floor(start), Math.ceil(end), group).then((data) => ({ key: requestKey, data }));
  }, [requestKey]);
  const map = useMemo(() => (graph.data ? buildMap(graph.data.data) : undefined), [graph.data]);

  const selectedNode = selection?.kind === "node" ? map?.nodes.find((node) => node.key === selection.key) : undefined;
  const selectedEdge = selection?.kind === "edge" ? map?.edges.find((edge) => edge.key === selection.key) : undefined;
  const loaded = !graph.loading && (graph.data?.key === requestKey || graph.error !== undefined);
  const requests = map?.nodes.filter((node) => node.root).reduce((sum, node) => sum + node.stats.total, 0) ?? 0;

  const open = (target: Selection) => {
    if (!map || !target) return;
    if (target.kind === "node") {
      const node = map.nodes.find((n) => n.key === target.key);
      if (node) navigate(nodeTracesHref(node, range, group));
    } else {
      const edge = map.edges.find((e) => e.key === target.key);
      if (edge) navigate(edgeTracesHref(edge, range, group));
    }
  };

  return (
    <main class="page map-page" data-page="map" data-loaded={loaded ? "true" : "false"}>
      <PageHeader
        title="Service map"
        subtitle={
          map
            ? `${map.nodes.length} nodes · ${map.edges.length} edges · ${formatNumber(requests)} entry requests · ${describeRange(range).toLowerCase()}`
            : "Services, databases and AWS resources your traces pass through"
        }
      >
        <GroupSelect groups={groups.data} value={group} onChange={(next) => update({ group: next, sel: null })} />
        <TimePicker value={range} onChange={(next) => update({ range: next })} />
        <button type="button" class="button" onClick={() => update({ refresh: true }, true)} title="Fetch the graph again" data-testid="map-refresh">
          ↻ Refresh
        </button>
      </PageHeader>

      {graph.error && (
        <ErrorBox
          title="The service graph could not be loaded"
          error={`${graph.error.message}${group ? ` (group ${group}: check its filter expression on the X-Ray traces page)` : ""}`}
        />
      )}
      {groups.error && <ErrorBox title="The X-Ray groups could not be loaded" error={groups.error} />}

      {!map && graph.loading && <Loading label="Building the service graph" />}

      {map && map.nodes.length === 0 && (
        <Empty>
          <div data-testid="map-empty">
            <strong>No traces {group && group !== DEFAULT_GROUP ? `of group ${group} ` : ""}in {describeRange(range).toLowerCase()}.</strong>
            <div class="muted">
              Widen the time range, pick another group, or send traces: OTLP to port 4318, X-Ray segments to the daemon (port 2000) or
              PutTraceSegments.
            </div>
          </div>
        </Empty>
      )}

      {map && map.nodes.length > 0 && (
        <>
          <div class="map-layout">
            <Card class={graph.loading ? "map-card reloading" : "map-card"} testid="map-card">
              <Legend />
              <MapChart map={map} selection={selection} onSelect={(sel) => update({ sel }, true)} onOpen={open} />
            </Card>
            {selectedNode ? (
              <NodeDetails
                node={selectedNode}
                callers={map.edges.filter((edge) => edge.target === selectedNode).map((edge) => edge.source)}
                callees={map.edges.filter((edge) => edge.source === selectedNode).map((edge) => edge.target)}
                range={range}
                group={group}
                onClose={() => update({ sel: null }, true)}
              />
            ) : selectedEdge ? (
              <EdgeDetails edge={selectedEdge} range={range} group={group} onClose={() => update({ sel: null }, true)} />
            ) : (
              <aside class="map-details card map-hint">
                <h2>Nodes</h2>
                <p class="muted">Click a node or an edge on the map (or a row below) for its numbers, its traces and a query of its spans.</p>
                <ul class="map-hint-list">
                  {[...map.nodes]
                    .sort((a, b) => b.stats.total - a.stats.total)
                    .map((node) => (
                      <li>
                        <button type="button" class="link-button" onClick={() => update({ sel: { kind: "node", key: node.key } }, true)}>
                          {node.id.Name}
                        </button>{" "}
                        <span class="muted">{formatNumber(node.stats.total)} calls</span>
                      </li>
                    ))}
                </ul>
              </aside>
            )}
          </div>
          <Card title="Edges" testid="map-edges-card">
            {map.edges.length ? (
              <EdgeTable edges={map.edges} selected={selection?.kind === "edge" ? selection.key : undefined} onSelect={(key) => update({ sel: { kind: "edge", key } }, true)} />
            ) : (
              <div class="muted">No calls between nodes in this range.</div>
            )}
          </Card>
          <Card title="Nodes" testid="map-nodes-card">
            <NodeTable nodes={map.nodes} selected={selection?.kind === "node" ? selection.key : undefined} onSelect={(key) => update({ sel: { kind: "node", key } }, true)} />
          </Card>
        </>
      )}
    </main>
  );
}
