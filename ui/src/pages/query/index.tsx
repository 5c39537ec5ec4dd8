// The query builder (issue 7): Honeycomb's query model over waggle's store. The URL holds the whole
// query, so a reload or a shared link shows the same view and the back button returns to the
// previous query; running a query pushes a history entry.
//
// URL format (other pages link here with `queryHref` from ./url.ts, where it is documented):
//
//   /query?dataset=D&q=<compact JSON spec without time>&t=1h      (or from=&to= unix seconds)
//   /query?dataset=D&query_id=ID                                   (Honeycomb's links.query_url)
//   /query?dataset=D&where=app.user_id%3Dgarek                     ("spans like this" hints)
//
// Modules: url.ts (the URL), model.ts (calculations, operators, the editable draft), builder.tsx
// (the clauses), combo.tsx + suggest.ts (column and value autocomplete), results.ts (shaping a
// result), heatmap.tsx, lines.tsx, table.tsx, results-view.tsx (drawing it, selections),
// bubbleup.tsx, exemplars.tsx, library.tsx (saved queries and history).

import { useEffect, useMemo, useState } from "preact/hooks";

import { type QuerySpec, honeycomb } from "../../api";
import { ErrorBox, Loading, PageHeader, TimePicker, useAsync } from "../../components/common";
import { navigate } from "../../router";
import { type TimeRange, rangeBounds, rangeToSpec } from "../../time";
import { QueryBuilder } from "./builder";
import { Library } from "./library";
import { type Draft, describeSpec, draftFromSpec, draftProblem, granularityChoices, specFromDraft } from "./model";
import { type Pick, ResultsView, type RunOutput } from "./results-view";
import { useColumns } from "./suggest";
import { ALL_DATASETS, datasetLabel, parseQueryLocation, queryUrl } from "./url";
import "./query.css";

type RunState =
  | { status: "running"; previous?: RunOutput }
  | { status: "done"; output: RunOutput }
  | { status: "error"; error: Error; previous?: RunOutput };

const rangeSeconds = (range: TimeRange) => {
  const { start, end } = rangeBounds(range);
  return Math.max(1, Math.round(end - start));
};

const granularityText = (g: number) => (g >= 3600 ? `${g / 3600} h` : g >= 60 ? `${g / 60} min` : `${g} s`);

export function QueryPage({ query }: { query: URLSearchParams }) {
  const urlKey = query.toString();
  const location = useMemo(() => parseQueryLocation(query), [urlKey]);
  const [draft, setDraft] = useState<Draft>(() => draftFromSpec(location.dataset, location.spec, location.range));
  const [state, setState] = useState<RunState>({ status: "running" });
  const [nonce, setNonce] = useState(0);
  const [pick, setPick] = useState<Pick | null>(null);
  const [historyVersion, setHistoryVersion] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const columns = useColumns(draft.dataset);
  const types = useMemo(() => new Map(columns.map((c) => [c.key_name, c.type])), [columns]);
  const datasets = useAsync(() => honeycomb.datasets(), []);

  useEffect(() => {
    let cancelled = false;
    const previous = state.status === "done" ? state.output : state.previous;
    setState({ status: "running", previous });
    setPick(null);
    if (location.queryId) {
      // Honeycomb's query_url: load the stored spec, then show it in the full URL form.
      honeycomb.getQuery(location.dataset, location.queryId).then(
        (spec) => {
          if (cancelled) return;
          const stored = parseQueryLocation(new URLSearchParams({ dataset: location.dataset, q: JSON.stringify(spec) }));
          navigate(queryUrl(stored), true);
        },
        (error: Error) => !cancelled && setState({ status: "error", error: new Error(`Query ${location.queryId} in ${datasetLabel(location.dataset)}: ${error.message}`), previous }),
      );
      return () => (cancelled = true);
    }
    setDraft(draftFromSpec(location.dataset, location.spec, location.range));
    setProblem(null);
    if (location.problem) {
      setState({ status: "error", error: new Error(`This link's query cannot be read: ${location.problem}. Build the query again above.`), previous });
      return () => (cancelled = true);
    }
    const spec: QuerySpec = { ...location.spec, ...rangeToSpec(location.range) };
    const started = performance.now();
    honeycomb.run(location.dataset, spec).then(
      (result) => {
        if (cancelled) return;
        const receivedAt = performance.now();
        setState({
          status: "done",
          output: { dataset: location.dataset, spec, result, receivedAt, apiMs: receivedAt - started, rangeSeconds: rangeSeconds(location.range) },
        });
        setHistoryVersion((v) => v + 1);
      },
      (error: Error) => !cancelled && setState({ status: "error", error, previous }),
    );
    return () => (cancelled = true);
  }, [urlKey, nonce]);

  const runDraft = (next: Draft = draft) => {
    const blocker = draftProblem(next, types);
    setProblem(blocker);
    if (blocker) return;
    const url = queryUrl({ dataset: next.dataset, spec: specFromDraft(next, types), range: next.range });
    if (url === window.location.pathname + window.location.search) setNonce((n) => n + 1);
    else navigate(url);
  };

  const output = state.status === "done" ? state.output : state.previous;
  const running = state.status === "running";
  const choices = granularityChoices(rangeSeconds(draft.range));
  const datasetNames = (datasets.data ?? []).filter((d) => d.table === "traces").map((d) => d.name);
  if (!datasetNames.includes(draft.dataset) && draft.dataset !== ALL_DATASETS) datasetNames.push(draft.dataset);

  const save = async (name: string) => {
    const dataset = output?.dataset ?? draft.dataset;
    const spec = output?.spec ?? { ...specFromDraft(draft, types), ...rangeToSpec(draft.range) };
    const created = await honeycomb.createQuery(dataset, spec);
    await honeycomb.save(dataset, { name, query_id: created.id });
  };

  return (
    <main class="page qb-page" data-page="query" data-loaded={state.status === "running" ? "false" : "true"}>
      <PageHeader
        title="Query"
        subtitle={
          <span data-testid="query-summary">
            {output ? (
              <>
                <b>{datasetLabel(output.dataset)}</b> · {describeSpec(output.spec)}
              </>
            ) : (
              "Ask any question of your spans: calculations, filters, groups."
            )}
          </span>
        }
      >
        <label class="qb-field">
          <span>Dataset</span>
          <select
            value={draft.dataset}
            data-testid="qb-dataset"
            onChange={(e) => setDraft({ ...draft, dataset: e.currentTarget.value })}
          >
            <option value={ALL_DATASETS}>All datasets</option>
            {datasetNames.map((name) => (
              <option value={name}>{name}</option>
            ))}
          </select>
        </label>
        <TimePicker
          value={draft.range}
          onChange={(range) => {
            const seconds = rangeSeconds(range);
            const granularity = draft.granularity && granularityChoices(seconds).includes(draft.granularity) ? draft.granularity : undefined;
            const next = { ...draft, range, granularity };
            setDraft(next);
            runDraft(next);
          }}
        />
        <label class="qb-field">
          <span>Granularity</span>
          <select
            value={draft.granularity ?? ""}
            data-testid="qb-granularity"
            onChange={(e) => setDraft({ ...draft, granularity: e.currentTarget.value ? Number(e.currentTarget.value) : undefined })}
          >
            <option value="">Auto</option>
            {choices.map((g) => (
              <option value={g}>{granularityText(g)}</option>
            ))}
          </select>
        </label>
        <button type="button" class="button primary qb-run" data-testid="qb-run" onClick={() => runDraft()} disabled={running && !output}>
          {running ? "Running…" : "Run query"}
        </button>
      </PageHeader>

      <div class="qb-layout">
        <div class="qb-main">
          <section class="card qb-builder-card">
            <QueryBuilder draft={draft} columns={columns} onChange={setDraft} onRun={() => runDraft()} />
          </section>
          {problem && <ErrorBox title="The query cannot run yet" error={problem} />}
          {state.status === "error" && !problem && <ErrorBox title="The query did not run" error={state.error} />}
          {!output && running && (
            <div class="card qb-placeholder">
              <Loading label="Running the query" />
            </div>
          )}
          {output && (
            <div class={state.status !== "done" ? "qb-stale" : ""} aria-busy={running}>
              <ResultsView output={output} pick={pick} onPick={setPick} />
            </div>
          )}
        </div>
        <Library dataset={location.dataset} save={save} version={historyVersion} />
      </div>
    </main>
  );
}

