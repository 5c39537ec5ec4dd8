// The results table: one row per group (breakdown values, then each calculation), in result
// order, with the group's chart colour. Clicking a row lists that group's traces.

import type { Calculation, HeatmapValue, Row } from "../../api";
import { formatNumber, formatValue } from "../../format";
import { calcKey, isHeatmap } from "./model";
import { type Group, formatterFor } from "./results";
import { MAX_SERIES } from "./lines";

export function ResultsTable({ groups, breakdowns, calculations, selected, onPick }: {
  groups: Group[];
  breakdowns: string[];
  calculations: Calculation[];
  selected: string | null;
  onPick: (group: Group) => void;
}) {
  const calcs = calculations.filter((c) => !isHeatmap(c)).map(calcKey);
  const formats = calcs.map(formatterFor);
  // A HEATMAP's cell is a histogram: the table shows how many values it counted.
  const heatmaps = calculations.filter(isHeatmap).map(calcKey);
  const counted = (row: Row, key: string) => (row[key] as HeatmapValue | null)?.buckets?.reduce((sum, b) => sum + b.count, 0) ?? 0;
  return (
    <div class="qb-table-wrap">
      <table class="data qb-table" data-testid="results-table">
        <thead>
          <tr>
            <th class="qb-swatch-cell" />
            {breakdowns.length === 0 && <th>group</th>}
            {breakdowns.map((b) => (
              <th>{b}</th>
            ))}
            {heatmaps.map((c) => (
              <th class="num" title={`Values counted by ${c}`}>
                count in {c}
              </th>
            ))}
            {calcs.map((c) => (
              <th class="num">{c}</th>
            ))}
            <th class="qb-go" />
          </tr>
        </thead>
        <tbody>
          {groups.map((group, i) => (
            <tr
              class={`clickable ${selected === group.key ? "qb-row-selected" : ""}`}
              data-testid="result-row"
              onClick={() => onPick(group)}
              title="Show example traces of this group"
            >
              <td class="qb-swatch-cell">{i < MAX_SERIES && <span class="qb-swatch" style={{ background: group.color }} />}</td>
              {breakdowns.length === 0 && <td class="muted">all events</td>}
              {breakdowns.map((b) => (
                <td class={group.row[b] === null || group.row[b] === undefined ? "muted" : ""} data-column={b}>
                  {formatValue(group.row[b])}
                </td>
              ))}
              {heatmaps.map((c) => (
                <td class="num" data-column={c}>
                  {formatNumber(counted(group.row, c))}
                </td>
              ))}
              {calcs.map((c, j) => (
                <td class="num" data-column={c} title={String(group.row[c] ?? "")}>
                  {formats[j](group.row[c])}
                </td>
              ))}
              <td class="qb-go">traces ›</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
