// Log events of a group (or one stream) in the range: a filter pattern box, paging, live tail.
// One stream without a pattern reads like CloudWatch's stream view (GetLogEvents: the latest
// events, older ones on demand); otherwise FilterLogEvents from the start of the range onward.

import { useEffect, useRef, useState } from "preact/hooks";

import { ApiError } from "../../api";
import { Empty, ErrorBox, Loading } from "../../components/common";
import { formatNumber, formatTime } from "../../format";
import { type TimeRange, rangeBounds } from "../../time";
import { logs } from "./cw";
import { LogLine, type ParsedEvent, parseEvent } from "./line";

const PAGE = 200;
/** Lines kept while tailing; older ones are dropped from the top. */
const MAX_LINES = 5000;
const TAIL_EVERY_MS = 2000;
/** Pages drained per tail poll. */
const TAIL_PAGES = 5;

interface Loaded {
  events: ParsedEvent[];
  /** GetLogEvents: the token of older events (null once none are left). */
  olderToken: string | null;
  /** FilterLogEvents: the token of the next page (null on the last). */
  moreToken: string | null;
}

export function EventsView({ group, stream, pattern, range, onPattern, onLoaded }: {
  group: string;
  stream?: string;
  pattern: string;
  range: TimeRange;
  onPattern: (pattern: string) => void;
  onLoaded: (loaded: boolean) => void;
}) {
  const [draft, setDraft] = useState(pattern);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [tail, setTail] = useState(false);
  const [tailError, setTailError] = useState<Error | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [tailSince, setTailSince] = useState<number | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const generation = useRef(0);
  const mode = stream && !pattern ? "get" : "filter";
  const bounds = useRef(rangeBounds(range));

  useEffect(() => setDraft(pattern), [pattern]);

  // The first page whenever the selection changes.
  useEffect(() => {
    const mine = ++generation.current;
    const { start, end } = (bounds.current = rangeBounds(range));
    const [startMs, endMs] = [Math.floor(start * 1000), Math.ceil(end * 1000)];
    setLoaded(null);
    setError(null);
    setTail(false);
    setTailSince(null);
    setFresh(new Set());
    onLoaded(false);
    const request =
      mode === "get"
        ? logs.get(group, stream!, startMs, endMs + 1, PAGE).then((page) => ({
            events: page.events.map(parseEvent),
            olderToken: page.events.length < PAGE ? null : page.nextBackwardToken,
            moreToken: null,
          }))
        : logs.filter(group, stream, pattern, startMs, endMs, PAGE).then((page) => ({
            events: page.events.map(parseEvent),
            olderToken: null,
            moreToken: page.nextToken ?? null,
          }));
    request.then(
      (result) => {
        if (mine !== generation.current) return;
        setLoaded(result);
        onLoaded(true);
        requestAnimationFrame(() => {
          if (mode === "get" && listRef.current) listRef.current.scrollTop = listRef.current.scrollHeight;
        });
      },
      (err: Error) => {
        if (mine !== generation.current) return;
        setError(err);
        onLoaded(true);
      },
    );
  }, [group, stream, pattern, JSON.stringify(range)]);

  const loadOlder = async () => {
    if (!loaded?.olderToken) return;
    setBusy(true);
    const { start, end } = bounds.current;
    try {
      const page = await logs.get(group, stream!, Math.floor(start * 1000), Math.ceil(end * 1000) + 1, PAGE, loaded.olderToken);
      const older = page.events.map(parseEvent);
      const list = listRef.current;
      const fromBottom = list ? list.scrollHeight - list.scrollTop : 0;
      setLoaded({ ...loaded, events: [...older, ...loaded.events], olderToken: older.length < PAGE ? null : page.nextBackwardToken });
      requestAnimationFrame(() => {
        if (list) list.scrollTop = list.scrollHeight - fromBottom;
      });
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const loadMore = async () => {
    if (!loaded?.moreToken) return;
    setBusy(true);
    const { start, end } = bounds.current;
    try {
      const page = await logs.filter(group, stream, pattern, Math.floor(start * 1000), Math.ceil(end * 1000), PAGE, loaded.moreToken);
      const offset = loaded.events.length;
      setLoaded({ ...loaded, events: [...loaded.events, ...page.events.map((e, i) => parseEvent(e, offset + i))], moreToken: page.nextToken ?? null });
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  // Live tail: every 2 s, the events after the last one seen (FilterLogEvents, startTime = last + 1).
  const state = useRef(loaded);
  state.current = loaded;
  useEffect(() => {
    if (!tail) return;
    let stopped = false;
    let timer = 0;
    const mine = generation.current;
    const poll = async () => {
      const current = state.current;
      if (!current) return;
      const last = current.events.length ? current.events[current.events.length - 1].timestamp : (tailSince ?? Date.now());
      try {
        const found: ParsedEvent[] = [];
        let token: string | undefined;
        for (let pageNo = 0; pageNo < TAIL_PAGES; pageNo++) {
          const page = await logs.filter(group, stream, pattern, last + 1, undefined, 1000, token);
          found.push(...page.events.map((e, i) => parseEvent(e, current.events.length + found.length + i)));
          token = page.nextToken;
          if (!token) break;
        }
        if (stopped || mine !== generation.current) return;
        setTailError(null);
        const known = new Set(current.events.map((e) => e.key));
        const added = found.filter((e) => !known.has(e.key));
        if (added.length) {
          const list = listRef.current;
          const atBottom = !list || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
          const events = [...current.events, ...added].slice(-MAX_LINES);
          setLoaded({ ...current, events, olderToken: events.length < current.events.length + added.length ? null : current.olderToken });
          setFresh(new Set(added.map((e) => e.key)));
          if (atBottom) requestAnimationFrame(() => list && (list.scrollTop = list.scrollHeight));
        }
      } catch (err) {
        if (!stopped) setTailError(err as Error);
      }
      if (!stopped) timer = window.setTimeout(poll, TAIL_EVERY_MS);
    };
    timer = window.setTimeout(poll, 0);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [tail]);

  const startTail = () => {
    if (loaded?.moreToken) {
      // Unread pages remain between what is shown and now: tail from now instead of leaving a gap.
      setLoaded({ events: [], olderToken: null, moreToken: null });
      setTailSince(Date.now() - 10_000);
    } else if (!loaded?.events.length) {
      setTailSince(Date.now() - 10_000);
    }
    setTail(true);
  };

  const patternError = error instanceof ApiError && error.status === 400 ? error : null;
  const events = loaded?.events ?? [];
  return (
    <section class="card logs-events" data-testid="log-events">
      <form
        class="logs-toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          onPattern(draft.trim());
        }}
      >
        <input
          class="logs-pattern mono"
          data-testid="filter-pattern"
          placeholder='Filter pattern: ERROR, "exact phrase", ?a ?b, -excluded, { $.status >= 500 }, [ip, user, ...]'
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          aria-invalid={patternError ? true : undefined}
          spellcheck={false}
        />
        <button class="button primary" type="submit" data-testid="filter-apply">
          Search
        </button>
        {pattern && (
          <button class="button" type="button" onClick={() => onPattern("")}>
            Clear
          </button>
        )}
        <button
          type="button"
          class={tail ? "button logs-tail-button logs-tail-on" : "button logs-tail-button"}
          data-testid="live-tail"
          aria-pressed={tail}
          disabled={!loaded}
          onClick={() => (tail ? setTail(false) : startTail())}
          title="Poll for new events every 2 seconds"
        >
          <span class={tail ? "logs-dot live" : "logs-dot"} /> {tail ? "Pause live tail" : "Live tail"}
        </button>
      </form>
      {patternError && (
        <div class="error-box logs-pattern-error" role="alert" data-testid="pattern-error">
          <strong>The filter pattern is not valid</strong>
          <div>{patternError.message}</div>
          <div class="muted">
            Terms match text (case-sensitive); JSON lines take <code>{"{ $.status >= 500 }"}</code>; space-delimited lines take{" "}
            <code>[ip, user, ..., status = 5*]</code>.
          </div>
        </div>
      )}
      {error && !patternError && <ErrorBox title="Cannot read log events" error={error} />}
      {tailError && <ErrorBox title="Live tail failed; it keeps retrying" error={tailError} />}
      {(loaded || !error) && (<div class="logs-status muted" data-testid="events-status">
        {loaded ? (
          <>
            {mode === "get" && loaded.olderToken ? "Latest " : ""}
            {formatNumber(events.length)} event{events.length === 1 ? "" : "s"}
            {pattern ? <> matching <code>{pattern}</code></> : null}
            {stream ? <> in <span class="mono">{stream}</span></> : <> in all streams of <span class="mono">{group}</span></>}
            {tail && <span class="logs-tailing"> · tailing{tailSince ? ` since ${formatTime(new Date(tailSince))}` : ""}…</span>}
          </>
        ) : (
          <Loading label="Reading events" />
        )}
      </div>)}
      {loaded && (
        <div class="logs-scroll" ref={listRef} data-testid="log-list">
          {loaded.olderToken && (
            <button class="button small logs-more" type="button" disabled={busy} onClick={loadOlder} data-testid="load-older">
              {busy ? "Loading…" : "Load older events"}
            </button>
          )}
          {events.length === 0 ? (
            <Empty>
              {tail
                ? "Waiting for new events…"
                : pattern
                  ? "No events match this pattern in the time range. Widen the range or loosen the pattern."
                  : "No events in this time range. Pick a longer range, another stream, or turn on live tail."}
            </Empty>
          ) : (
            events.map((event) => <LogLine key={event.key} event={event} showStream={!stream} fresh={fresh.has(event.key)} />)
          )}
          {loaded.moreToken && !tail && (
            <button class="button small logs-more" type="button" disabled={busy} onClick={loadMore} data-testid="load-more">
              {busy ? "Loading…" : "Load more events"}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
