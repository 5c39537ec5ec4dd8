// A text input with a suggestion list (column names, frequent values): type to narrow, arrows and
// Enter to pick, Escape to close. Suggestions can be a list or loaded when the input gets focus.

import { useEffect, useRef, useState } from "preact/hooks";

import type { Suggestion } from "./suggest";

export interface ComboProps {
  value: string;
  onChange: (value: string) => void;
  suggestions: Suggestion[] | (() => Promise<Suggestion[]>);
  placeholder?: string;
  testid?: string;
  class?: string;
  /** Shown when the list is empty after loading. */
  emptyText?: string;
  autoFocus?: boolean;
}

export function Combo({ value, onChange, suggestions, placeholder, testid, class: className, emptyText, autoFocus }: ComboProps) {
  const [open, setOpen] = useState(false);
  const [loaded, setLoaded] = useState<Suggestion[] | null>(Array.isArray(suggestions) ? suggestions : null);
  const [loading, setLoading] = useState(false);
  const [active, setActive] = useState(0);
  // Enter picks the highlighted suggestion only when typing narrowed the list or arrows moved.
  const [navigated, setNavigated] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (Array.isArray(suggestions)) setLoaded(suggestions);
  }, [suggestions]);
  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, []);

  const list = loaded ?? [];
  const needle = value.trim().toLowerCase();
  const exact = list.some((s) => s.value.toLowerCase() === needle);
  const shown = (exact ? list : list.filter((s) => s.value.toLowerCase().includes(needle))).slice(0, 50);

  const openList = () => {
    setOpen(true);
    setActive(0);
    setNavigated(false);
    if (!Array.isArray(suggestions) && loaded === null && !loading) {
      setLoading(true);
      suggestions().then(
        (values) => {
          setLoaded(values);
          setLoading(false);
        },
        () => {
          setLoaded([]);
          setLoading(false);
        },
      );
    }
  };
  const pick = (suggestion: Suggestion) => {
    onChange(suggestion.value);
    setOpen(false);
  };

  return (
    <div class={`qb-combo ${className ?? ""}`}>
      <input
        ref={input}
        value={value}
        placeholder={placeholder}
        data-testid={testid}
        spellcheck={false}
        autocomplete="off"
        onFocus={openList}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onInput={(event) => {
          onChange(event.currentTarget.value);
          setOpen(true);
          setActive(0);
          setNavigated(false);
        }}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown") {
            event.preventDefault();
            setOpen(true);
            setNavigated(true);
            setActive((a) => Math.min(a + 1, shown.length - 1));
          } else if (event.key === "ArrowUp") {
            event.preventDefault();
            setNavigated(true);
            setActive((a) => Math.max(a - 1, 0));
          } else if (event.key === "Enter" && open && shown[active] && shown[active].value !== value && (!exact || navigated)) {
            event.preventDefault();
            pick(shown[active]);
          } else if (event.key === "Escape") {
            setOpen(false);
          }
        }}
      />
      {open && (loading || shown.length > 0 || (loaded !== null && emptyText)) && (
        <ul class="qb-combo-list" role="listbox" data-testid={testid ? `${testid}-list` : undefined}>
          {loading && <li class="qb-combo-note">Loading suggestions…</li>}
          {!loading && shown.length === 0 && <li class="qb-combo-note">{emptyText}</li>}
          {shown.map((suggestion, i) => (
            <li
              role="option"
              aria-selected={i === active}
              class={i === active ? "active" : ""}
              onMouseDown={(event) => {
                event.preventDefault();
                pick(suggestion);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span class="qb-combo-value">{suggestion.value}</span>
              {suggestion.detail && <span class="qb-combo-detail">{suggestion.detail}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
