// X-Ray groups: pick one (its filter applies with the expression), or save the current expression as
// a new group (CreateGroup; the server checks the expression and the name).

import { useState } from "preact/hooks";

import { DEFAULT_GROUP, type Group, xrayApi } from "./model";

export function GroupBar({ groups, value, expression, onChange, onCreated }: {
  groups: Group[] | undefined;
  value: string;
  expression: string;
  onChange: (group: string) => void;
  onCreated: (group: Group) => void;
}) {
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const names = groups?.map((group) => group.GroupName) ?? [DEFAULT_GROUP];
  if (value && !names.includes(value)) names.push(value);
  const current = groups?.find((group) => group.GroupName === (value || DEFAULT_GROUP));

  const create = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setProblem(null);
    try {
      const group = await xrayApi.createGroup(name.trim(), expression);
      setCreating(false);
      setName("");
      onCreated(group);
    } catch (error) {
      setProblem((error as Error).message);
    } finally {
      setSaving(false);
    }
  };

  return (
    <div class="xray-groups">
      <label class="xray-group-select">
        <span class="muted">Group</span>
        <select data-testid="xray-group" value={value || DEFAULT_GROUP} onChange={(event) => onChange(event.currentTarget.value)}>
          {names.map((group) => (
            <option value={group}>{group}</option>
          ))}
        </select>
      </label>
      {current?.FilterExpression ? (
        <code class="xray-group-filter" title="The group's filter expression, applied together with yours" data-testid="xray-group-filter">
          {current.FilterExpression}
        </code>
      ) : (
        <span class="muted xray-group-filter">{value && value !== DEFAULT_GROUP ? "" : "every trace"}</span>
      )}
      <span class="spacer" />
      {creating ? (
        <form class="xray-create-group" onSubmit={create}>
          <input
            type="text"
            placeholder="Group name"
            value={name}
            autoFocus
            data-testid="xray-group-name"
            onInput={(event) => setName(event.currentTarget.value)}
            pattern="[A-Za-z0-9_.\-]{1,32}"
            title="Letters, digits, _ . and -, at most 32 characters"
            required
          />
          <span class="muted xray-create-note">
            filter: <code>{expression || "(none: every trace)"}</code>
          </span>
          <button type="submit" class="button primary small" disabled={saving || !name.trim()} data-testid="xray-group-save">
            {saving ? "Saving…" : "Create"}
          </button>
          <button type="button" class="button small" onClick={() => (setCreating(false), setProblem(null))}>
            Cancel
          </button>
        </form>
      ) : (
        <button
          type="button"
          class="button small"
          onClick={() => setCreating(true)}
          disabled={!expression}
          title={expression ? "Save the current filter expression as a group" : "Type a filter expression first"}
          data-testid="xray-group-create"
        >
          + Create group from filter
        </button>
      )}
      {problem && (
        <div class="xray-group-problem" role="alert" data-testid="xray-group-problem">
          {problem}
        </div>
      )}
    </div>
  );
}
