// The trace's error occurrences in waggle's Rollbar (GET /api/1/instances?trace_id=, docs/API.md),
// through the console's Rollbar client, and how the trace view shows them.

import { type Occurrence as RollbarOccurrence, type RollbarFrame, type RollbarItem, type RollbarTrace, consoleRollbarToken, rollbar } from "../../components/rollbar";

/** An occurrence of the trace, with its span and a summary of its item. */
export type Occurrence = RollbarOccurrence & { span_id: string | null; item: RollbarItem | null };

/** The occurrences carrying `traceId`, latest first; `null` when no token can read them. */
export async function traceOccurrences(traceId: string): Promise<Occurrence[] | null> {
  if ((await consoleRollbarToken()) === null) return null;
  return (await rollbar.traceInstances(traceId)).instances;
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
export function formatFrames(frames: RollbarFrame[]): string {
  return [...frames]
    .reverse()
    .map((frame) => {
      const where = `${frame.filename ?? "?"}${frame.lineno !== undefined ? `:${frame.lineno}` : ""}${frame.colno ? `:${frame.colno}` : ""}`;
      return `  at ${frame.method ?? "(anonymous)"} (${where})${frame.code ? `\n      ${frame.code.trim()}` : ""}`;
    })
    .join("\n");
}
