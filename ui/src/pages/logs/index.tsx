// The log explorer, in the CloudWatch console's manner: log groups -> streams -> events (filter
// patterns, time range, live tail, trace links) and a Logs Insights tab. The URL holds the view.

import { useEffect, useState } from "preact/hooks";

import { Empty, PageHeader, TimePicker, useAsync } from "../../components/common";
import { navigate } from "../../router";
import { logs } from "./cw";
import { EventsView } from "./events";
import { InsightsView } from "./insights";
import { GroupList, StreamList } from "./sidebar";
import { type LogsState, parseState, stateHref } from "./url";
import "./logs.css";

export function LogsPage({ query }: { query: URLSearchParams }) {
  const state = parseState(query);
  const update = (patch: Partial<LogsState>, replace = false) => navigate(stateHref({ ...state, ...patch }), replace);
  const groups = useAsync(() => logs.groups().then((r) => r.logGroups), []);
  const streams = useAsync(
    () => (state.group ? logs.streams(state.group).then((r) => r.logStreams) : Promise.resolve(undefined)),
    [state.group],
  );
  // Which view (its URL) has rendered its data: a new URL reads as not loaded in its first render.
  const viewKey = stateHref(state);
  const [loadedKey, setLoadedKey] = useState<string | null>(null);
  const viewLoaded = loadedKey === viewKey;
  const setViewLoaded = (done: boolean) => setLoadedKey(done ? viewKey : null);

  // Open the demo's group (or the first one) when the URL names none.
  useEffect(() => {
    const list = groups.data;
    if (!state.group && list?.length) {
      const preferred = list.find((g) => g.logGroupName === "cruddur") ?? list[0];
      update({ group: preferred.logGroupName }, true);
    }
  }, [groups.data, state.group]);

  const groupKnown = !!state.group && !!groups.data?.some((g) => g.logGroupName === state.group);
  const loaded = (!!groups.data && groups.data.length === 0) || !!groups.error || (groupKnown && viewLoaded);

  return (
    <main class="page logs-page" data-page="logs" data-loaded={String(loaded)}>
      <PageHeader
        title="Logs"
        subtitle={
          <>
            CloudWatch Logs on the AWS port: groups, streams, filter patterns, live tail and Logs Insights. Lines carrying a trace id link to
            their trace.
          </>
        }
      >
        <TimePicker value={state.range} onChange={(range) => update({ range })} />
      </PageHeader>
      <div class="logs-layout">
        <aside class="logs-side">
          <GroupList
            groups={groups.data}
            error={groups.error}
            selected={state.group}
            onSelect={(group) => update({ group, stream: undefined, pattern: state.group === group ? state.pattern : "" })}
          />
          {state.group && groupKnown && (
            <StreamList
              streams={streams.data}
              error={streams.error}
              selected={state.stream}
              onSelect={(stream) => update({ stream, tab: "events" })}
            />
          )}
        </aside>
        <div class="logs-main">
          <div class="tabs" role="tablist">
            <button
              type="button"
              role="tab"
              class={state.tab === "events" ? "tab active" : "tab"}
              aria-selected={state.tab === "events"}
              data-testid="tab-events"
              onClick={() => update({ tab: "events" })}
            >
              Log events
            </button>
            <button
              type="button"
              role="tab"
              class={state.tab === "insights" ? "tab active" : "tab"}
              aria-selected={state.tab === "insights"}
              data-testid="tab-insights"
              onClick={() => update({ tab: "insights" })}
            >
              Logs Insights
            </button>
          </div>
          {state.group && groups.data && !groupKnown && (
            <Empty>
              There is no log group <code>{state.group}</code>. Pick one on the left.
            </Empty>
          )}
          {groups.data?.length === 0 && (
            <Empty>
              No log groups yet. Point watchtower, boto3 or the aws CLI at the AWS port (<code>AWS_ENDPOINT_URL</code>) and send some lines.
            </Empty>
          )}
          {groupKnown && state.tab === "events" && (
            <EventsView
              group={state.group!}
              stream={state.stream}
              pattern={state.pattern}
              range={state.range}
              onPattern={(pattern) => update({ pattern })}
              onLoaded={setViewLoaded}
            />
          )}
          {groupKnown && state.tab === "insights" && (
            <InsightsView group={state.group!} query={state.query} range={state.range} onQuery={(q) => update({ query: q })} onLoaded={setViewLoaded} />
          )}
        </div>
      </div>
    </main>
  );
}
