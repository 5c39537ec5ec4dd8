// The side panel: saved queries of the dataset (name the current one to save it) and the query
// history, each entry re-runnable (it opens `/query?dataset=D&query_id=ID`).

import { useState } from "preact/hooks";

import { type QuerySpec, honeycomb } from "../../api";
import { ErrorBox, Loading, useAsync } from "../../components/common";
import { formatAgo, formatDuration } from "../../format";
import { navigate } from "../../router";
import { describeSpec } from "./model";
import { datasetLabel } from "./url";

const specCache = new Map<string, Promise<QuerySpec>>();
function loadSpec(dataset: string, id: string): Promise<QuerySpec> {
  const key = `${dataset}/${id}`;
  let cached = specCache.get(key);
  if (!cached) {
    cached = honeycomb.getQuery(dataset, id);
    cached.catch(() => specCache.delete(key));
    specCache.set(key, cached);
  }
  return cached;
}

const openStored = (dataset: string, id: string) => navigate(`/query?dataset=${encodeURIComponent(dataset)}&query_id=${encodeURIComponent(id)}`);

function SpecText({ dataset, id }: { dataset: string; id: string }) {
  const { data, error } = useAsync(() => loadSpec(dataset, id), [dataset, id]);
  if (error) return <span class="muted">query {id}</span>;
  return <span>{data ? describeSpec(data) : "…"}</span>;
}

function Saved({ dataset, save, version }: { dataset: string; save: (name: string) => Promise<void>; version: number }) {
  const [name, setName] = useState("");
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [bump, setBump] = useState(0);
  const saved = useAsync(() => honeycomb.saved(dataset), [dataset, version, bump]);
  return (
    <div class="qb-lib-body" data-testid="saved-queries" data-loaded={saved.data || saved.error ? "true" : "false"}>
      <form
        class="qb-save"
        onSubmit={async (event) => {
          event.preventDefault();
          if (!name.trim()) return setProblem("Give the query a name first.");
          setSaving(true);
          setProblem(null);
          try {
            await save(name.trim());
            setName("");
            setBump((b) => b + 1);
          } catch (error) {
            setProblem((error as Error).message);
          } finally {
            setSaving(false);
          }
        }}
      >
        <input value={name} placeholder="Name this query" aria-label="Query name" data-testid="save-name" onInput={(e) => setName(e.currentTarget.value)} />
        <button class="button primary small" type="submit" disabled={saving} data-testid="save-button">
          {saving ? "Saving…" : "Save"}
        </button>
      </form>
      {problem && <div class="qb-problem" role="alert">{problem}</div>}
      {saved.error && <ErrorBox title="Could not list saved queries" error={saved.error} />}
      {!saved.data && !saved.error && <Loading />}
      {saved.data && saved.data.length === 0 && <div class="qb-lib-empty">No saved queries in {datasetLabel(dataset)} yet. Run a query, name it above and save it.</div>}
      <ul class="qb-lib-list">
        {saved.data?.map((entry) => (
          <li data-testid="saved-query">
            <button type="button" class="qb-lib-entry" onClick={() => openStored(entry.dataset || dataset, entry.query_id)} title="Run this query">
              <span class="qb-lib-name">{entry.name}</span>
              <span class="qb-lib-desc">
                <SpecText dataset={entry.dataset || dataset} id={entry.query_id} />
              </span>
            </button>
            <button
              type="button"
              class="qb-remove"
              aria-label={`Delete saved query ${entry.name}`}
              title="Delete"
              onClick={async () => {
                await honeycomb.deleteSaved(dataset, entry.id).catch((error: Error) => setProblem(error.message));
                setBump((b) => b + 1);
              }}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function History({ version }: { version: number }) {
  const history = useAsync(() => honeycomb.history(), [version]);
  const entries = (history.data ?? []).slice(0, 40);
  return (
    <div class="qb-lib-body" data-testid="query-history">
      {history.error && <ErrorBox title="Could not load the query history" error={history.error} />}
      {!history.data && !history.error && <Loading />}
      {history.data && history.data.length === 0 && <div class="qb-lib-empty">Queries you run appear here.</div>}
      <ul class="qb-lib-list">
        {entries.map((entry) => (
          <li data-testid="history-entry">
            <button type="button" class="qb-lib-entry" onClick={() => openStored(entry.dataset, entry.query_id)} title="Run this query again">
              <span class="qb-lib-desc">
                <SpecText dataset={entry.dataset} id={entry.query_id} />
              </span>
              <span class="qb-lib-meta">
                {datasetLabel(entry.dataset)} · {formatAgo(new Date(entry.ran_at))} · {entry.results} rows · {formatDuration(entry.duration_ms)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Library({ dataset, save, version }: { dataset: string; save: (name: string) => Promise<void>; version: number }) {
  const [tab, setTab] = useState<"saved" | "history">("saved");
  return (
    <aside class="card qb-library" data-testid="library">
      <div class="tabs" role="tablist">
        <button type="button" role="tab" class={tab === "saved" ? "tab active" : "tab"} aria-selected={tab === "saved"} onClick={() => setTab("saved")} data-testid="tab-saved">
          Saved
        </button>
        <button type="button" role="tab" class={tab === "history" ? "tab active" : "tab"} aria-selected={tab === "history"} onClick={() => setTab("history")} data-testid="tab-history">
          History
        </button>
      </div>
      {tab === "saved" ? <Saved dataset={dataset} save={save} version={version} /> : <History version={version} />}
    </aside>
  );
}
