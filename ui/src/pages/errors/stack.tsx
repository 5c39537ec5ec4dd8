// The stack trace of an occurrence: exception class and message, frames (most recent call last)
// with code context when the payload has it; runs of library frames fold away; chained causes.

import { useState } from "preact/hooks";

import type { OccurrenceData, RollbarFrame, RollbarTrace } from "../../components/rollbar";

/** Frames of the standard library, the toolchain and dependencies: not the app's code. */
function isLibrary(frame: RollbarFrame): boolean {
  const file = frame.filename ?? "";
  return (
    file === "<unknown>" ||
    /\/(\.cargo\/registry|\.cargo\/git|rustc\/[0-9a-f]+|site-packages|dist-packages|node_modules|lib\/python\d)/.test(file) ||
    /(^|\/)(sysdeps|nptl|glibc|csu)\/|\.S$/.test(file) ||
    /^(std|core|alloc|tokio|hyper|tower|axum|futures)[:_]/.test(frame.method ?? "")
  );
}

export function StackTrace({ data }: { data: OccurrenceData }) {
  const body = data.body ?? {};
  const traces: RollbarTrace[] = body.trace_chain ?? (body.trace ? [body.trace] : []);
  if (traces.length) {
    return (
      <div class="errors-stack" data-testid="stack-trace">
        {traces.map((trace, i) => (
          <div class="errors-trace">
            {i > 0 && <div class="errors-cause muted">The above was caused by:</div>}
            <div class="errors-exception">
              <span class="errors-exception-class">{trace.exception?.class ?? "Exception"}</span>
              {trace.exception?.message && <span>: {trace.exception.message}</span>}
            </div>
            {trace.exception?.description && <div class="muted">{trace.exception.description}</div>}
            <Frames frames={trace.frames ?? []} />
          </div>
        ))}
      </div>
    );
  }
  if (body.message) {
    const { body: text, ...extra } = body.message;
    return (
      <div class="errors-stack" data-testid="stack-trace">
        <pre class="errors-message mono">{String(text ?? "")}</pre>
        {Object.keys(extra).length > 0 && <pre class="errors-code mono">{JSON.stringify(extra, null, 2)}</pre>}
      </div>
    );
  }
  if (body.crash_report) {
    return <pre class="errors-message mono" data-testid="stack-trace">{body.crash_report.raw}</pre>;
  }
  return <div class="muted">This occurrence has no trace or message body.</div>;
}

type Group = { library: false; frame: RollbarFrame; index: number } | { library: true; frames: { frame: RollbarFrame; index: number }[] };

function Frames({ frames }: { frames: RollbarFrame[] }) {
  const [openGroups, setOpenGroups] = useState<Set<number>>(new Set());
  if (frames.length === 0) return <div class="muted">No frames were sent.</div>;
  // Consecutive library frames fold into one row; the innermost frame (last) always shows.
  const groups: Group[] = [];
  frames.forEach((frame, index) => {
    const last = groups[groups.length - 1];
    if (isLibrary(frame) && index !== frames.length - 1) {
      if (last?.library) last.frames.push({ frame, index });
      else groups.push({ library: true, frames: [{ frame, index }] });
    } else groups.push({ library: false, frame, index });
  });
  return (
    <ol class="errors-frames" data-testid="frames">
      <li class="errors-frames-head muted">Traceback (most recent call last) · {frames.length} frames</li>
      {groups.map((group, g) =>
        group.library && !openGroups.has(g) && group.frames.length > 1 ? (
          <li class="errors-frame-fold">
            <button type="button" class="button small" onClick={() => setOpenGroups(new Set([...openGroups, g]))}>
              Show {group.frames.length} library frames
            </button>
          </li>
        ) : group.library ? (
          group.frames.map(({ frame, index }) => <Frame frame={frame} innermost={index === frames.length - 1} library />)
        ) : (
          <Frame frame={group.frame} innermost={group.index === frames.length - 1} library={isLibrary(group.frame)} />
        ),
      )}
    </ol>
  );
}

function Frame({ frame, innermost, library }: { frame: RollbarFrame; innermost: boolean; library: boolean }) {
  const hasCode = !!frame.code || !!frame.context?.pre?.length || !!frame.context?.post?.length;
  const [open, setOpen] = useState(innermost || !library);
  const line = frame.lineno;
  const pre = frame.context?.pre ?? [];
  const post = frame.context?.post ?? [];
  return (
    <li class={`errors-frame${innermost ? " innermost" : ""}${library ? " library" : ""}`} data-testid="frame">
      <div class="errors-frame-head" onClick={() => hasCode && setOpen(!open)}>
        {hasCode && <span class="errors-caret">{open ? "▾" : "▸"}</span>}
        <span class="mono errors-file" data-testid="frame-file">
          {frame.filename ?? "<unknown>"}
          {line !== undefined && <span class="errors-lineno">:{line}</span>}
          {frame.colno !== undefined && <span class="faint">:{frame.colno}</span>}
        </span>
        <span class="muted"> in </span>
        <span class="mono errors-method" data-testid="frame-method">
          {frame.method ?? "?"}
        </span>
      </div>
      {hasCode && open && (
        <pre class="errors-code mono" data-testid="frame-code">
          {pre.map((text, i) => (
            <div class="errors-code-line">
              <span class="errors-gutter">{line !== undefined ? line - pre.length + i : ""}</span>
              {text}
            </div>
          ))}
          {frame.code !== undefined && (
            <div class="errors-code-line current">
              <span class="errors-gutter">{line ?? ""}</span>
              {frame.code}
            </div>
          )}
          {post.map((text, i) => (
            <div class="errors-code-line">
              <span class="errors-gutter">{line !== undefined ? line + i + 1 : ""}</span>
              {text}
            </div>
          ))}
        </pre>
      )}
      {open && (frame.locals || frame.args || frame.kwargs) && (
        <table class="data errors-kv errors-locals">
          <tbody>
            {Object.entries({ ...(frame.kwargs ?? {}), ...(frame.locals ?? {}) }).map(([key, value]) => (
              <tr>
                <th class="mono">{key}</th>
                <td class="mono">{typeof value === "string" ? value : JSON.stringify(value)}</td>
              </tr>
            ))}
            {frame.args?.map((value, i) => (
              <tr>
                <th class="mono">args[{i}]</th>
                <td class="mono">{typeof value === "string" ? value : JSON.stringify(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}
