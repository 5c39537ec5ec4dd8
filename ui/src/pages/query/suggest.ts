// Autocomplete data: a dataset's columns (GET /1/columns) and a column's frequent values (a small
// COUNT query broken down by the column, 20 groups), both cached for the page's lifetime.

import { type Column, honeycomb } from "../../api";
import { useAsync } from "../../components/common";
import { formatNumber } from "../../format";
import { type TimeRange, rangeToSpec } from "../../time";

const columnCache = new Map<string, Promise<Column[]>>();

/** The dataset's columns, derived ones first, each name once. */
export function loadColumns(dataset: string): Promise<Column[]> {
  let cached = columnCache.get(dataset);
  if (!cached) {
    cached = honeycomb.columns(dataset).then((columns) => {
      const seen = new Set<string>();
      return columns.filter((c) => !seen.has(c.key_name) && seen.add(c.key_name));
    });
    cached.catch(() => columnCache.delete(dataset));
    columnCache.set(dataset, cached);
  }
  return cached;
}

export function useColumns(dataset: string): Column[] {
  const { data } = useAsync(() => loadColumns(dataset).catch(() => [] as Column[]), [dataset]);
  return data ?? [];
}

export interface Suggestion {
  value: string;
  detail?: string;
}

const valueCache = new Map<string, Promise<Suggestion[]>>();

/** The column's 20 most frequent values in the range, with their counts. */
export function loadValues(dataset: string, column: string, range: TimeRange): Promise<Suggestion[]> {
  const key = JSON.stringify([dataset, column, range]);
  let cached = valueCache.get(key);
  if (!cached) {
    cached = honeycomb
      .run(dataset, { calculations: [{ op: "COUNT" }], breakdowns: [column], limit: 20, ...rangeToSpec(range) }, { disable_series: true, record_history: false })
      .then((result) =>
        result.data.results
          .filter((row) => row.data[column] !== null && row.data[column] !== undefined)
          .map((row) => {
            const value = row.data[column];
            return { value: typeof value === "string" ? value : JSON.stringify(value), detail: formatNumber(Number(row.data.COUNT)) };
          }),
      );
    cached.catch(() => valueCache.delete(key));
    valueCache.set(key, cached);
  }
  return cached;
}
