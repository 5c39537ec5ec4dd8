// The filter-expression box: X-Ray's grammar, applied with Enter; the server's
// InvalidRequestException is shown under it with the offending part marked when it can be found.

import { useEffect, useState } from "preact/hooks";

const EXAMPLES: [string, string][] = [
  ["Faults", "fault"],
  ["Errors", "error"],
  ["HTTP 500", "http.status = 500"],
  ["Slower than 500 ms", "responsetime > 0.5"],
  ["Not OK", "!ok"],
];

/** Where in `expression` the server's message points: a position it names, or a quoted token it names. */
export function locateError(expression: string, message: string): { start: number; end: number } | null {
  const position = /(?:position|character) (\d+)/.exec(message);
  if (position) {
    const start = Math.min(Number(position[1]), Math.max(0, expression.length - 1));
    return { start, end: Math.min(expression.length, start + 1) };
  }
  // "... found X" and "unexpected X" name where the parser stopped: the last X is the likelier one.
  const stopped = /\b(found|unexpected)\b/.test(message);
  for (const match of message.matchAll(/"((?:[^"\\]|\\.)+)"/g)) {
    const token = match[1].replace(/\\"/g, '"');
    const index = stopped ? expression.lastIndexOf(token) : expression.indexOf(token);
    if (index >= 0) return { start: index, end: index + token.length };
  }
  return null;
}

export function FilterError({ expression, message }: { expression: string; message: string }) {
  const at = locateError(expression, message);
  return (
    <div class="xray-filter-error" role="alert" data-testid="xray-filter-error">
      <div>
        <strong>Invalid filter expression.</strong> {message.replace(/^invalid filter expression:\s*/i, "")}
      </div>
      {at && (
        <pre class="xray-filter-echo" data-testid="xray-filter-echo">
          {expression.slice(0, at.start)}
          <mark>{expression.slice(at.start, at.end) || " "}</mark>
          {expression.slice(at.end)}
        </pre>
      )}
      <div class="muted">
        Fix the expression and press Enter. Grammar: keywords like <code>fault</code>, <code>http.status = 500</code>,{" "}
        <code>responsetime &gt; 1</code>, <code>annotation.key = "v"</code>, <code>service("name")</code>, joined with AND / OR.
      </div>
    </div>
  );
}

export function FilterBox({ value, onApply, error, busy }: {
  value: string;
  onApply: (expression: string) => void;
  /** The server's message for `value`, when it refused it. */
  error?: string;
  busy?: boolean;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <div class="xray-filter">
      <form
        class="xray-filter-row"
        onSubmit={(event) => {
          event.preventDefault();
          onApply(text.trim());
        }}
      >
        <span class="xray-filter-icon" aria-hidden="true">
          ⌕
        </span>
        <input
          type="text"
          class={error ? "xray-filter-input invalid" : "xray-filter-input"}
          data-testid="xray-filter"
          placeholder='Filter expression, e.g. service("cruddur-backend") { fault } or http.status = 500'
          value={text}
          spellcheck={false}
          aria-invalid={error ? true : undefined}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        {text && (
          <button type="button" class="button" onClick={() => onApply("")} title="Clear the filter" data-testid="xray-clear">
            Clear
          </button>
        )}
        <button type="submit" class="button primary" data-testid="xray-apply" disabled={busy && text.trim() === value}>
          Apply
        </button>
      </form>
      <div class="xray-examples">
        <span class="muted">Try</span>
        {EXAMPLES.map(([label, expression]) => (
          <button type="button" class="xray-example" onClick={() => onApply(expression)} title={expression}>
            {label}
          </button>
        ))}
      </div>
      {error && <FilterError expression={value} message={error} />}
    </div>
  );
}
