// The left column: log groups, then the selected group's streams (latest event first).

import { ErrorBox, Loading } from "../../components/common";
import { formatAgo, formatNumber } from "../../format";
import type { LogGroup, LogStream } from "./cw";

const bytes = (n: number) =>
  n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${formatNumber(n)} B`;

export function GroupList({ groups, error, selected, onSelect }: {
  groups: LogGroup[] | undefined;
  error?: Error;
  selected?: string;
  onSelect: (group: string) => void;
}) {
  return (
    <section class="card logs-nav" data-testid="log-groups">
      <div class="card-header">
        <h2>Log groups</h2>
        {groups && <span class="muted">{groups.length}</span>}
      </div>
      {error && <ErrorBox title="Cannot list log groups" error={error} />}
      {!groups && !error && <Loading label="Loading log groups" />}
      {groups?.length === 0 && (
        <div class="logs-nav-empty muted">No log groups yet. Send logs with watchtower, boto3 or the aws CLI to the AWS port.</div>
      )}
      <ul class="logs-list">
        {groups?.map((group) => (
          <li>
            <button
              type="button"
              class={group.logGroupName === selected ? "logs-item active" : "logs-item"}
              data-testid="log-group"
              onClick={() => onSelect(group.logGroupName)}
              aria-current={group.logGroupName === selected}
            >
              <span class="logs-item-name mono">{group.logGroupName}</span>
              <span class="logs-item-meta">
                {bytes(group.storedBytes)}
                {group.retentionInDays ? ` · ${group.retentionInDays} d` : ""}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function StreamList({ streams, error, selected, onSelect }: {
  streams: LogStream[] | undefined;
  error?: Error;
  selected?: string;
  onSelect: (stream: string | undefined) => void;
}) {
  return (
    <section class="card logs-nav" data-testid="log-streams">
      <div class="card-header">
        <h2>Log streams</h2>
        {streams && <span class="muted">{streams.length}</span>}
      </div>
      {error && <ErrorBox title="Cannot list log streams" error={error} />}
      {!streams && !error && <Loading label="Loading streams" />}
      <ul class="logs-list">
        {streams && (
          <li>
            <button type="button" class={selected ? "logs-item" : "logs-item active"} data-testid="all-streams" onClick={() => onSelect(undefined)}>
              <span class="logs-item-name">All streams</span>
              <span class="logs-item-meta">search the whole group</span>
            </button>
          </li>
        )}
        {streams?.map((stream) => (
          <li>
            <button
              type="button"
              class={stream.logStreamName === selected ? "logs-item active" : "logs-item"}
              data-testid="log-stream"
              title={stream.logStreamName}
              onClick={() => onSelect(stream.logStreamName)}
            >
              <span class="logs-item-name mono">{stream.logStreamName}</span>
              <span
                class="logs-item-meta"
                title={stream.lastEventTimestamp ? `last event ${new Date(stream.lastEventTimestamp).toISOString()}` : undefined}
              >
                {stream.lastEventTimestamp ? `last event ${formatAgo(new Date(stream.lastEventTimestamp))}` : "no events"} · {bytes(stream.storedBytes)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
