// The Rollbar-style item list: level, title, environment, total and last-24 h counts with an
// hourly sparkline, first and last seen, status; filters by status, level and environment; sort.

import { useMemo } from "preact/hooks";

import { Card, Empty, ErrorBox, Loading, PageHeader, useAsync } from "../../components/common";
import { type RollbarItem, rollbar } from "../../components/rollbar";
import { Sparkline } from "../../components/sparkline";
import { formatNumber } from "../../format";
import { href, navigate } from "../../router";
import { Ago, HourlyChart, LEVEL_COLORS, LEVELS, LevelBadge, StatusBadge } from "./shared";

const STATUSES = [
  ["active", "Active"],
  ["resolved", "Resolved"],
  ["muted", "Muted"],
  ["all", "All"],
] as const;
const SORTS = [
  ["last", "Last seen"],
  ["day", "Last 24 hours"],
  ["total", "Total occurrences"],
  ["first", "First seen"],
] as const;

interface Row {
  item: RollbarItem;
  day: number;
  counts: number[];
}

export function ItemList({ query }: { query: URLSearchParams }) {
  const status = query.get("status") ?? "active";
  const level = query.get("level") ?? "";
  const environment = query.get("environment") ?? "";
  const sort = query.get("sort") ?? "last";
  const page = Math.max(1, Number(query.get("page")) || 1);
  const set = (patch: Record<string, string | undefined>) =>
    navigate(href("/errors", { status, level, environment, sort, page: undefined, ...patch }), true);

  // The answer remembers its filters: a new URL reads as not loaded until its own answer is in.
  const filterKey = JSON.stringify([status, level, environment, page]);
  const answer = useAsync(
    () =>
      rollbar
        .items({ status: status === "all" ? undefined : status, level: level || undefined, environment: environment || undefined, page })
        .then((result) => ({ key: filterKey, result })),
    [filterKey],
  );
  const items = { data: answer.data?.result, error: answer.error, current: answer.data?.key === filterKey };
  const report = useAsync(() => rollbar.topActive(24), []);
  const counts = useMemo(() => new Map(report.data?.map((row) => [row.item.id, row.counts])), [report.data]);

  const rows: Row[] = useMemo(() => {
    const list = (items.data?.items ?? []).map((item) => {
      const hourly = counts.get(item.id) ?? new Array(24).fill(0);
      return { item, counts: hourly, day: hourly.reduce((a, b) => a + b, 0) };
    });
    const key: Record<string, (row: Row) => number> = {
      last: (r) => r.item.last_occurrence_timestamp,
      day: (r) => r.day,
      total: (r) => r.item.total_occurrences,
      first: (r) => r.item.first_occurrence_timestamp,
    };
    const by = key[sort] ?? key.last;
    return list.sort((a, b) => by(b) - by(a) || b.item.last_occurrence_timestamp - a.item.last_occurrence_timestamp);
  }, [items.data, counts, sort]);

  // Every occurrence of the last 24 hours, per hour and level (all statuses).
  const levelSeries = useMemo(() => {
    const byLevel = new Map<string, number[]>();
    for (const row of report.data ?? []) {
      const sums = byLevel.get(row.item.level) ?? new Array(row.counts.length).fill(0);
      row.counts.forEach((count, i) => (sums[i] += count));
      byLevel.set(row.item.level, sums);
    }
    return LEVELS.filter((l) => byLevel.has(l)).map((l) => ({ name: l, counts: byLevel.get(l)!, color: LEVEL_COLORS[l] }));
  }, [report.data]);
  const dayTotal = levelSeries.reduce((sum, s) => sum + s.counts.reduce((a, b) => a + b, 0), 0);
  const environments = useMemo(() => [...new Set([...(report.data ?? []).map((r) => r.item.environment), ...(items.data?.items ?? []).map((i) => i.environment), environment].filter(Boolean))].sort(), [report.data, items.data]);

  const loaded = items.current && (!!report.data || !!report.error);
  const total = items.data?.total_count ?? 0;
  const pages = Math.max(1, Math.ceil(total / 100));

  return (
    <main class="page errors-page" data-page="errors" data-loaded={String(loaded || !!items.error)}>
      <PageHeader title="Errors" subtitle="Rollbar items: occurrences grouped by fingerprint, from the notifiers posting to /api/1/item/">
        <div class="errors-segmented" role="group" aria-label="Status" data-testid="status-filter">
          {STATUSES.map(([value, label]) => (
            <button type="button" class={status === value ? "active" : ""} aria-pressed={status === value} onClick={() => set({ status: value })}>
              {label}
            </button>
          ))}
        </div>
        <select aria-label="Level" data-testid="level-filter" value={level} onChange={(e) => set({ level: e.currentTarget.value })}>
          <option value="">All levels</option>
          {LEVELS.map((l) => (
            <option value={l}>{l}</option>
          ))}
        </select>
        <select aria-label="Environment" data-testid="environment-filter" value={environment} onChange={(e) => set({ environment: e.currentTarget.value })}>
          <option value="">All environments</option>
          {environments.map((env) => (
            <option value={env}>{env}</option>
          ))}
        </select>
        <select aria-label="Sort" data-testid="sort" value={sort} onChange={(e) => set({ sort: e.currentTarget.value })}>
          {SORTS.map(([value, label]) => (
            <option value={value}>Sort: {label}</option>
          ))}
        </select>
      </PageHeader>

      <Card
        title="Occurrences in the last 24 hours"
        actions={
          <span class="muted" data-testid="day-total">
            {report.data ? `${formatNumber(dayTotal)} occurrence${dayTotal === 1 ? "" : "s"} · ${report.data.length} item${report.data.length === 1 ? "" : "s"}` : ""}
          </span>
        }
      >
        {report.error && <ErrorBox title="Cannot read the hourly counts" error={report.error} />}
        {!report.data && !report.error && <Loading label="Counting occurrences" />}
        {report.data && (dayTotal === 0 ? <Empty>No occurrences in the last 24 hours.</Empty> : <HourlyChart series={levelSeries} testid="day-chart" />)}
      </Card>

      <section class="card errors-table-card">
        {items.error && <ErrorBox title="Cannot list items" error={items.error} />}
        {!items.data && !items.error && <Loading label="Loading items" />}
        {items.data && rows.length === 0 && (
          <Empty>
            {status === "active" && !level && !environment
              ? "No active items. Errors that notifiers (pyrollbar, rollbar.js, Cruddur) post to /api/1/item/ show up here."
              : "No items match these filters."}
          </Empty>
        )}
        {rows.length > 0 && (
          <table class="data errors-table" data-testid="items">
            <thead>
              <tr>
                <th>Level</th>
                <th>Item</th>
                <th class="num">Total</th>
                <th class="num">24 h</th>
                <th>Last 24 hours</th>
                <th>First seen</th>
                <th>Last seen</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ item, counts, day }) => (
                <tr class="clickable" data-testid="item-row" data-item-id={item.id} onClick={(e) => !(e.target as Element).closest("a") && navigate(`/errors/${item.id}`)}>
                  <td>
                    <LevelBadge level={item.level} />
                  </td>
                  <td class="errors-title-cell">
                    <a href={`/errors/${item.id}`} class="errors-title" data-testid="item-title">
                      {item.title}
                    </a>
                    <div class="errors-sub">
                      <span class="mono">#{item.counter}</span> · <span data-testid="item-environment">{item.environment}</span>
                      {item.framework ? ` · ${item.framework}` : ""}
                      {item.language ? ` · ${item.language}` : ""}
                    </div>
                  </td>
                  <td class="num" data-testid="item-total" title={`${item.total_occurrences} occurrences in all`}>
                    {formatNumber(item.total_occurrences)}
                  </td>
                  <td class="num" data-testid="item-day">
                    {formatNumber(day)}
                  </td>
                  <td class="errors-spark" title={counts.map((c, i) => `${24 - i} h ago: ${c}`).join("\n")}>
                    <Sparkline values={counts} color={LEVEL_COLORS[item.level] ?? "#4c7cf0"} />
                  </td>
                  <td class="errors-when">
                    <Ago seconds={item.first_occurrence_timestamp} />
                  </td>
                  <td class="errors-when">
                    <Ago seconds={item.last_occurrence_timestamp} />
                  </td>
                  <td>
                    <StatusBadge status={item.status} testid="item-status" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {pages > 1 && (
          <div class="row errors-pager">
            <span class="muted">
              Page {page} of {pages} · {formatNumber(total)} items
            </span>
            <span class="spacer" />
            <button class="button small" disabled={page <= 1} onClick={() => navigate(href("/errors", { status, level, environment, sort, page: page - 1 }))}>
              Previous
            </button>
            <button class="button small" disabled={page >= pages} onClick={() => navigate(href("/errors", { status, level, environment, sort, page: page + 1 }))}>
              Next
            </button>
          </div>
        )}
      </section>
    </main>
  );
}
