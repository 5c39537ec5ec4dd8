// The query builder: VISUALIZE, WHERE, GROUP BY on the first row, ORDER BY, LIMIT, HAVING on the
// second, as in Honeycomb. It edits a Draft; the page runs it.

import type { ComponentChildren } from "preact";

import type { Column } from "../../api";
import { Combo } from "./combo";
import { CALC_OPS, type Draft, FILTER_OPS, HAVING_OPS, LIST_OPS, NO_COLUMN, NO_VALUE, NUMERIC_OPS, calcKey } from "./model";
import { type Suggestion, loadValues } from "./suggest";

interface BuilderProps {
  draft: Draft;
  columns: Column[];
  onChange: (draft: Draft) => void;
  onRun: () => void;
}

function Clause({ label, hint, children, testid, onAdd, addLabel }: {
  label: string;
  hint?: ComponentChildren;
  children: ComponentChildren;
  testid: string;
  onAdd?: () => void;
  addLabel?: string;
}) {
  return (
    <div class="qb-clause" data-testid={testid}>
      <div class="qb-clause-head">
        <span class="qb-clause-label">{label}</span>
        {hint && <span class="qb-clause-hint">{hint}</span>}
      </div>
      <div class="qb-clause-body">
        {children}
        {onAdd && (
          <button type="button" class="qb-add" onClick={onAdd} data-testid={`${testid}-add`} title={addLabel}>
            + {addLabel}
          </button>
        )}
      </div>
    </div>
  );
}

const Remove = ({ onClick, label }: { onClick: () => void; label: string }) => (
  <button type="button" class="qb-remove" onClick={onClick} aria-label={label} title={label}>
    ×
  </button>
);

const typeMark: Record<Column["type"], string> = { string: "str", integer: "int", float: "float", boolean: "bool" };

export function QueryBuilder({ draft, columns, onChange, onRun }: BuilderProps) {
  const set = (patch: Partial<Draft>) => onChange({ ...draft, ...patch });
  const all: Suggestion[] = columns.map((c) => ({ value: c.key_name, detail: typeMark[c.type] }));
  const numeric: Suggestion[] = columns.filter((c) => c.type === "integer" || c.type === "float").map((c) => ({ value: c.key_name, detail: typeMark[c.type] }));
  const calcKeys = draft.calculations.filter((c) => NO_COLUMN.has(c.op) || c.column).map(calcKey);
  const orderable = [...calcKeys.filter((k) => !k.startsWith("HEATMAP")), ...draft.breakdowns.filter(Boolean)];

  const replace = <T,>(list: T[], index: number, item: T) => list.map((x, i) => (i === index ? item : x));
  const without = <T,>(list: T[], index: number) => list.filter((_, i) => i !== index);

  return (
    <form
      class="qb-builder"
      data-testid="query-builder"
      onSubmit={(event) => {
        event.preventDefault();
        onRun();
      }}
    >
      <div class="qb-row">
        <Clause label="VISUALIZE" testid="qb-visualize" onAdd={() => set({ calculations: [...draft.calculations, { op: "P99", column: "duration_ms" }] })} addLabel="Add">
          {draft.calculations.map((calc, i) => (
            <div class="qb-item">
              <select
                value={calc.op}
                data-testid={`qb-calc-op-${i}`}
                aria-label="Calculation"
                onChange={(e) => {
                  const op = e.currentTarget.value;
                  const column = NO_COLUMN.has(op) ? undefined : calc.column || (NUMERIC_OPS.has(op) ? "duration_ms" : "");
                  set({ calculations: replace(draft.calculations, i, column === undefined ? { op } : { op, column }) });
                }}
              >
                {CALC_OPS.map((op) => (
                  <option value={op}>{op}</option>
                ))}
              </select>
              {!NO_COLUMN.has(calc.op) && (
                <Combo
                  class="qb-column"
                  value={calc.column ?? ""}
                  placeholder="column"
                  testid={`qb-calc-column-${i}`}
                  suggestions={NUMERIC_OPS.has(calc.op) ? numeric : all}
                  onChange={(column) => set({ calculations: replace(draft.calculations, i, { op: calc.op, column }) })}
                />
              )}
              {draft.calculations.length > 1 && <Remove label="Remove calculation" onClick={() => set({ calculations: without(draft.calculations, i) })} />}
            </div>
          ))}
        </Clause>

        <Clause
          label="WHERE"
          testid="qb-where"
          hint={
            draft.filters.length > 1 && (
              <span class="qb-combination" role="group" aria-label="Combine filters with">
                {(["AND", "OR"] as const).map((c) => (
                  <button type="button" class={draft.combination === c ? "active" : ""} onClick={() => set({ combination: c })} data-testid={`qb-combination-${c}`}>
                    {c}
                  </button>
                ))}
              </span>
            )
          }
          onAdd={() => set({ filters: [...draft.filters, { column: "", op: "=", text: "" }] })}
          addLabel="Filter"
        >
          {draft.filters.length === 0 && <span class="qb-none">None: every span</span>}
          {draft.filters.map((filter, i) => (
            <div class="qb-item">
              <Combo
                class="qb-column"
                value={filter.column}
                placeholder="column"
                testid={`qb-filter-column-${i}`}
                suggestions={all}
                autoFocus={filter.column === "" && i === draft.filters.length - 1}
                onChange={(column) => set({ filters: replace(draft.filters, i, { ...filter, column }) })}
              />
              <select
                value={filter.op}
                aria-label="Operator"
                data-testid={`qb-filter-op-${i}`}
                onChange={(e) => set({ filters: replace(draft.filters, i, { ...filter, op: e.currentTarget.value }) })}
              >
                {FILTER_OPS.map((op) => (
                  <option value={op.op}>{op.label}</option>
                ))}
              </select>
              {!NO_VALUE.has(filter.op) && (
                <Combo
                  key={`${draft.dataset}/${filter.column}`}
                  class="qb-value"
                  value={filter.text}
                  placeholder={LIST_OPS.has(filter.op) ? "a, b, c" : "value"}
                  testid={`qb-filter-value-${i}`}
                  emptyText={filter.column ? "No values in this time range" : "Pick a column first"}
                  suggestions={() => (filter.column ? loadValues(draft.dataset, filter.column, draft.range) : Promise.resolve([]))}
                  onChange={(text) => set({ filters: replace(draft.filters, i, { ...filter, text }) })}
                />
              )}
              <Remove label="Remove filter" onClick={() => set({ filters: without(draft.filters, i) })} />
            </div>
          ))}
        </Clause>

        <Clause label="GROUP BY" testid="qb-group" onAdd={() => set({ breakdowns: [...draft.breakdowns, ""] })} addLabel="Group">
          {draft.breakdowns.length === 0 && <span class="qb-none">None</span>}
          {draft.breakdowns.map((breakdown, i) => (
            <div class="qb-item">
              <Combo
                class="qb-column"
                value={breakdown}
                placeholder="column"
                testid={`qb-breakdown-${i}`}
                suggestions={all}
                autoFocus={breakdown === "" && i === draft.breakdowns.length - 1}
                onChange={(column) => set({ breakdowns: replace(draft.breakdowns, i, column) })}
              />
              <Remove label="Remove group" onClick={() => set({ breakdowns: without(draft.breakdowns, i) })} />
            </div>
          ))}
        </Clause>
      </div>

      <div class="qb-row">
        <Clause
          label="ORDER BY"
          testid="qb-order"
          onAdd={orderable.length ? () => set({ orders: [...draft.orders, orderFor(orderable[0], draft.breakdowns, "descending")] }) : undefined}
          addLabel="Order"
        >
          {draft.orders.length === 0 && <span class="qb-none">Default: first calculation, descending</span>}
          {draft.orders.map((order, i) => {
            const key = order.op ? calcKey({ op: order.op, column: order.column }) : (order.column ?? "");
            return (
              <div class="qb-item">
                <select
                  class="qb-order-select"
                  value={key}
                  aria-label="Order by"
                  data-testid={`qb-order-${i}`}
                  onChange={(e) => set({ orders: replace(draft.orders, i, orderFor(e.currentTarget.value, draft.breakdowns, order.order)) })}
                >
                  {!orderable.includes(key) && <option value={key}>{key || "…"}</option>}
                  {orderable.map((k) => (
                    <option value={k}>{k}</option>
                  ))}
                </select>
                <select
                  value={order.order ?? "ascending"}
                  aria-label="Direction"
                  data-testid={`qb-order-dir-${i}`}
                  onChange={(e) => set({ orders: replace(draft.orders, i, { ...order, order: e.currentTarget.value as "ascending" | "descending" }) })}
                >
                  <option value="descending">desc</option>
                  <option value="ascending">asc</option>
                </select>
                <Remove label="Remove order" onClick={() => set({ orders: without(draft.orders, i) })} />
              </div>
            );
          })}
        </Clause>

        <Clause label="LIMIT" testid="qb-limit-clause">
          <input
            class="qb-limit"
            type="number"
            min={1}
            max={1000}
            value={draft.limit}
            data-testid="qb-limit"
            aria-label="Limit"
            onInput={(e) => {
              const limit = Math.round(Number(e.currentTarget.value));
              if (limit >= 1 && limit <= 1000) set({ limit });
            }}
          />
        </Clause>

        <Clause
          label="HAVING"
          testid="qb-having"
          onAdd={calcKeys.some((k) => !k.startsWith("HEATMAP")) ? () => set({ havings: [...draft.havings, { calc: calcKeys.find((k) => !k.startsWith("HEATMAP"))!, op: ">", text: "" }] }) : undefined}
          addLabel="Having"
        >
          {draft.havings.length === 0 && <span class="qb-none">None</span>}
          {draft.havings.map((having, i) => (
            <div class="qb-item">
              <select value={having.calc} aria-label="Calculation" onChange={(e) => set({ havings: replace(draft.havings, i, { ...having, calc: e.currentTarget.value }) })}>
                {!calcKeys.includes(having.calc) && <option value={having.calc}>{having.calc}</option>}
                {calcKeys
                  .filter((k) => !k.startsWith("HEATMAP"))
                  .map((k) => (
                    <option value={k}>{k}</option>
                  ))}
              </select>
              <select value={having.op} aria-label="Comparison" onChange={(e) => set({ havings: replace(draft.havings, i, { ...having, op: e.currentTarget.value }) })}>
                {HAVING_OPS.map((op) => (
                  <option value={op}>{op}</option>
                ))}
              </select>
              <input
                class="qb-having-value"
                inputMode="decimal"
                value={having.text}
                placeholder="number"
                aria-label="Value"
                onInput={(e) => set({ havings: replace(draft.havings, i, { ...having, text: e.currentTarget.value }) })}
              />
              <Remove label="Remove having" onClick={() => set({ havings: without(draft.havings, i) })} />
            </div>
          ))}
        </Clause>
      </div>
      <button type="submit" hidden />
    </form>
  );
}

function orderFor(key: string, breakdowns: string[], order: "ascending" | "descending" = "descending") {
  if (breakdowns.includes(key)) return { column: key, order };
  const match = /^([A-Z0-9_]+)\((.*)\)$/.exec(key);
  return match ? { op: match[1], column: match[2], order } : { op: key, order };
}
