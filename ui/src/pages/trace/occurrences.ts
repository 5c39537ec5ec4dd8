// The trace's error occurrences in waggle's Rollbar: the console's read token from
// GET /api/console/config, then GET /api/1/instances?trace_id= (docs/API.md).

import { getJSON, sendJSON } from "../../api";

export interface OccurrenceItem {
  id: number;
  counter: number;
  title: string;
  level: string;
  status: string;
  environment: string;
  total_occurrences: number;
}

export interface Frame {
  filename?: string;
  lineno?: number;
  colno?: number;
  method?: string;
  code?: string;
}

interface RollbarTrace {
  exception?: { class?: string; message?: string; description?: string };
  frames?: Frame[];
}

export interface Occurrence {
  id: number;
  item_id: number;
  timestamp: number;
  span_id: string | null;
  item: OccurrenceItem | null;
  data: {
    level?: string;
    environment?: string;
    title?: string;
    body?: { trace?: RollbarTrace; trace_chain?: RollbarTrace[]; message?: { body?: string }; crash_report?: { raw?: string } };
    request?: { url?: string; method?: string };
    person?: { id?: unknown; username?: string };
  };
}

interface ConsoleConfig {
  rollbar: { access_token: string; scopes: string[]; project_id: number } | null;
}

let config: Promise<ConsoleConfig> | null = null;

/** The console's configuration, fetched once per page load. */
export function consoleConfig(): Promise<ConsoleConfig> {
  config ??= getJSON<ConsoleConfig>("/api/console/config").catch((error) => {
    config = null;
    throw error;
  });
  return config;
}

/** The occurrences carrying `traceId`, latest first; `null` when no token can read them. */
export async function traceOccurrences(traceId: string): Promise<Occurrence[] | null> {
  const { rollbar } = await consoleConfig();
  if (!rollbar) return null;
  const answer = await sendJSON<{ result: { instances: Occurrence[] } }>(
    "GET",
    `/api/1/instances?trace_id=${encodeURIComponent(traceId)}`,
    undefined,
    { "x-rollbar-access-token": rollbar.access_token },
  );
  return answer.result.instances;
}

/** The exceptions of an occurrence (a chain: the cause first, as Rollbar sends it). */
export function exceptionsOf(occurrence: Occurrence): RollbarTrace[] {
  const body = occurrence.data.body;
  if (body?.trace) return [body.trace];
  if (body?.trace_chain) return body.trace_chain;
  return [];
}

export function occurrenceTitle(occurrence: Occurrence): string {
  if (occurrence.item?.title) return occurrence.item.title;
  const [first] = exceptionsOf(occurrence);
  if (first?.exception) return `${first.exception.class ?? "Error"}: ${first.exception.message ?? ""}`;
  return occurrence.data.body?.message?.body ?? occurrence.data.title ?? `Occurrence ${occurrence.id}`;
}

/** Frames as a traceback, the most recent call first. */
export function formatFrames(frames: Frame[]): string {
  return [...frames]
    .reverse()
    .map((frame) => {
      const where = `${frame.filename ?? "?"}${frame.lineno !== undefined ? `:${frame.lineno}` : ""}${frame.colno ? `:${frame.colno}` : ""}`;
      return `  at ${frame.method ?? "(anonymous)"} (${where})${frame.code ? `\n      ${frame.code.trim()}` : ""}`;
    })
    .join("\n");
}
