// An occurrence's context: the request, the person, the server and custom data, as key/value
// tables; the whole payload as JSON on demand.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import type { OccurrenceData } from "../../components/rollbar";
import { JsonView } from "../logs/line";

function KeyValues({ values, testid }: { values: Record<string, unknown>; testid?: string }) {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (!entries.length) return <div class="muted">None.</div>;
  return (
    <table class="data errors-kv" data-testid={testid}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr>
            <th class="mono">{key}</th>
            <td class="mono">{typeof value === "string" ? value : JSON.stringify(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Section({ title, children, testid }: { title: string; children: ComponentChildren; testid?: string }) {
  return (
    <section class="errors-section" data-testid={testid}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}

export function RequestDetails({ data }: { data: OccurrenceData }) {
  const request = data.request;
  if (!request) return <div class="muted">This occurrence was not in a request.</div>;
  return (
    <div data-testid="request">
      <div class="errors-request-line mono" data-testid="request-line">
        <span class="errors-method-chip">{request.method ?? "GET"}</span> {request.url}
      </div>
      {request.user_ip && (
        <div class="muted errors-request-ip">
          from <span class="mono">{request.user_ip}</span>
        </div>
      )}
      {request.GET && Object.keys(request.GET).length > 0 && (
        <Section title="Query parameters">
          <KeyValues values={request.GET} />
        </Section>
      )}
      {request.POST && Object.keys(request.POST).length > 0 && (
        <Section title="Form">
          <KeyValues values={request.POST} />
        </Section>
      )}
      {request.body && (
        <Section title="Body">
          <pre class="errors-code mono">{request.body}</pre>
        </Section>
      )}
      <Section title="Headers">
        <KeyValues values={request.headers ?? {}} testid="request-headers" />
      </Section>
    </div>
  );
}

export function PersonDetails({ data }: { data: OccurrenceData }) {
  if (!data.person) return <div class="muted">No person was sent with this occurrence.</div>;
  return <KeyValues values={data.person} testid="person" />;
}

export function ServerDetails({ data }: { data: OccurrenceData }) {
  const { server, notifier } = data;
  return (
    <KeyValues
      values={{
        context: data.context,
        environment: data.environment,
        platform: data.platform,
        language: data.language,
        framework: data.framework,
        code_version: data.code_version,
        host: server?.host,
        pid: server?.pid,
        root: server?.root,
        branch: server?.branch,
        argv: server?.argv?.join(" "),
        notifier: notifier ? `${notifier.name ?? ""} ${notifier.version ?? ""}`.trim() : undefined,
        uuid: data.uuid,
        ...(data.custom ? Object.fromEntries(Object.entries(data.custom).map(([k, v]) => [`custom.${k}`, v])) : {}),
      }}
      testid="server"
    />
  );
}

export function RawPayload({ data }: { data: OccurrenceData }) {
  const [open, setOpen] = useState(false);
  return (
    <div>
      <button type="button" class="button small" onClick={() => setOpen(!open)} data-testid="raw-toggle">
        {open ? "Hide the payload" : "Show the whole payload (JSON)"}
      </button>
      {open && (
        <pre class="errors-code mono errors-raw">
          <JsonView value={data} indent={0} />
        </pre>
      )}
    </div>
  );
}
