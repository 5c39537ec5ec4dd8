// Building blocks every page uses: loading and error states, page header, time picker, async data.

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { PRESETS, type TimeRange, describeRange } from "../time";

/** Runs `load` when `deps` change; keeps the previous data while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
} {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: Error) => mine === generation.current && setState((previous) => ({ ...previous, error, loading: false })),
    );
  }, deps);
  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" /> {label}…
    </div>
  );
}

export function ErrorBox({ error, title = "Something went wrong" }: { error: Error | string; title?: string }) {
  return (
    <div class="error-box" role="alert" data-testid="error">
      <strong>{title}</strong>
      <div>{typeof error === "string" ? error : error.message}</div>
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** The top of a page: a title, a line of context and the page's controls on the right. */
export function PageHeader({ title, subtitle, children }: { title: ComponentChildren; subtitle?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <div class="subtitle">{subtitle}</div>}
      </div>
      <div class="page-actions">{children}</div>
    </header>
  );
}

export function Card({ title, actions, children, class: className, testid }: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  testid?: string;
}) {
  return (
    <section class={`card ${className ?? ""}`} data-testid={testid}>
      {(title || actions) && (
        <div class="card-header">
          <h2>{title}</h2>
          <div>{actions}</div>
        </div>
      )}
      {children}
    </section>
  );
}

const toLocalInput = (seconds: number) => {
  const date = new Date(seconds * 1000 - new Date().getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 19);
};
const fromLocalInput = (text: string) => new Date(text).getTime() / 1000;

/** Presets ("Last hour") and absolute bounds, as a dropdown. */
export function TimePicker({ value, onChange }: { value: TimeRange; onChange: (range: TimeRange) => void }) {
  const [open, setOpen] = useState(false);
  const now = Date.now() / 1000;
  const [start, setStart] = useState(toLocalInput(value.kind === "absolute" ? value.start : now - 3600));
  const [end, setEnd] = useState(toLocalInput(value.kind === "absolute" ? value.end : now));
  const choose = (range: TimeRange) => {
    setOpen(false);
    onChange(range);
  };
  return (
    <div class="time-picker" data-testid="time-picker">
      <button type="button" class="button" onClick={() => setOpen(!open)} aria-expanded={open}>
        <span class="icon-clock" /> {describeRange(value)}
      </button>
      {open && (
        <div class="popover">
          <div class="presets">
            {PRESETS.map((preset) => (
              <button
                type="button"
                class={value.kind === "relative" && value.seconds === preset.seconds ? "preset active" : "preset"}
                onClick={() => choose({ kind: "relative", seconds: preset.seconds })}
              >
                {preset.label}
              </button>
            ))}
          </div>
          <form
            class="absolute"
            onSubmit={(event) => {
              event.preventDefault();
              const [s, e] = [fromLocalInput(start), fromLocalInput(end)];
              if (Number.isFinite(s) && Number.isFinite(e) && e > s) choose({ kind: "absolute", start: s, end: e });
            }}
          >
            <label>
              From <input type="datetime-local" step="1" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
            </label>
            <label>
              To <input type="datetime-local" step="1" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
            </label>
            <button class="button primary" type="submit">
              Apply
            </button>
          </form>
        </div>
      )}
    </div>
  );
}
