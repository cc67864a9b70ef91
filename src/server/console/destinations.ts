import type { DestinationView, PublicSettings, WriteKeyView } from '../admin-views.ts';
import { choicesOf, inputKindOf, isRequired } from '../../destination/setting-kinds.ts';
import { SETTINGS, type SecretSettingKey, type SettingKey } from '../../destination/settings.ts';
import { html, type SafeHtml } from './html.ts';
import { actionButton, ageText, csrfField, page, time } from './layout.ts';
import type { Flash } from './session.ts';

/** What a settings form shows: entered or stored values (never the secret) and problems by field. */
export interface FormState {
  values: Record<string, string>;
  problems: string[];
}

interface FieldSpec {
  key: SettingKey;
  label: string;
  hint: string;
  type: ReturnType<typeof inputKindOf>;
  required: boolean;
  secret: boolean;
  /** A select's options. */
  choices: readonly string[];
  default: string;
}

/** Every setting of SPEC.md §1, in the order an operator fills them (as settings.ts declares them). */
const FIELDS: FieldSpec[] = SETTINGS.map(([key, schema]) => ({
  key,
  label: schema.title,
  hint: schema.help,
  type: inputKindOf(schema),
  required: isRequired(schema),
  secret: schema.secret === true,
  choices: choicesOf(schema),
  default: schema.default === undefined ? '' : String(schema.default),
}));

export function problemsByField(problems: readonly string[]): { byField: Map<string, string[]>; other: string[] } {
  const byField = new Map<string, string[]>();
  const other: string[] = [];
  for (const p of problems) {
    const field = ['name', 'id', ...FIELDS.map((f) => f.key)].find((k) => p.startsWith(`${k} `));
    if (field) byField.set(field, [...(byField.get(field) ?? []), p]);
    else other.push(p);
  }
  return { byField, other };
}

/**
 * A problem as the form says it: the field's label instead of its key ("Abandoned-cart reminder
 * time must be…", not "reminderTime must be…"). The API keeps the keys, which programs read.
 */
export function labelled(problem: string): string {
  const labels: Array<[string, string]> = [['name', 'Name'], ['id', 'Id'], ...FIELDS.map((f): [string, string] => [f.key, f.label])];
  const hit = labels.find(([key]) => problem.startsWith(`${key} `));
  return hit ? `${hit[1]}${problem.slice(hit[0].length)}` : problem;
}

/** Form values from a stored destination (secrets stay out). */
export function formValuesOf(d: DestinationView): Record<string, string> {
  const values: Record<string, string> = { name: d.name };
  for (const f of FIELDS) {
    if (f.secret) continue;
    const v = (d.settings as unknown as Record<string, unknown>)[f.key];
    if (v !== undefined && v !== null) values[f.key] = String(v);
  }
  return values;
}

function input(key: string, label: string, hint: string, value: string, errors: string[] | undefined, extra: SafeHtml | null = null, type = 'text', required = false): SafeHtml {
  const id = `f-${key}`;
  const describedBy = [`${id}-hint`, errors ? `${id}-error` : null].filter(Boolean).join(' ');
  return html`<div>
  <label for="${id}">${label}${required ? html` <span aria-hidden="true">*</span>` : null} <span class="hint" id="${id}-hint">${hint}</span></label>
  ${extra ?? html`<input id="${id}" name="${key}" type="${type}" value="${value}"${required ? html` required` : null}${type === 'number' ? html` step="any" min="0"` : null} aria-describedby="${describedBy}"${errors ? html` aria-invalid="true"` : null}>`}
  ${errors ? html`<p class="field-error" id="${id}-error">${errors.map(labelled).join(' ')}</p>` : null}
</div>`;
}

/** `stored`: the destination's settings, secrets as masks; null on a new destination's form. */
function settingsFields(state: FormState, stored: PublicSettings | null): SafeHtml {
  const { byField } = problemsByField(state.problems);
  return html`<div class="fields">${FIELDS.map((f) => {
    const errors = byField.get(f.key);
    const value = state.values[f.key] ?? '';
    if (f.secret) {
      const mask = stored?.[f.key as SecretSettingKey] ?? null;
      const id = `f-${f.key}`;
      const hint = mask ? `${f.hint} Currently ${mask}; leave empty to keep it.` : f.hint;
      const describedBy = [`${id}-hint`, errors ? `${id}-error` : null].filter(Boolean).join(' ');
      const required = f.required && !mask;
      return input(
        f.key,
        f.label,
        hint,
        '',
        errors,
        html`<input id="${id}" name="${f.key}" type="password" autocomplete="new-password" value="" placeholder="${mask ? '(unchanged)' : ''}"${required ? html` required` : null} aria-describedby="${describedBy}"${errors ? html` aria-invalid="true"` : null}>`,
        'password',
        required,
      );
    }
    if (f.type === 'select') {
      const current = value || f.default;
      return input(
        f.key,
        f.label,
        f.hint,
        value,
        errors,
        html`<select id="f-${f.key}" name="${f.key}" aria-describedby="f-${f.key}-hint">${f.choices.map(
          (o) => html`<option value="${o}"${o === current ? html` selected` : null}>${o}</option>`,
        )}</select>`,
      );
    }
    // url fields stay type=text: the server's message is clearer than the browser's.
    return input(f.key, f.label, f.hint, value, errors, null, f.type === 'number' ? 'number' : 'text', f.required);
  })}</div>`;
}

/** An error summary above the form (announced), each problem also shown next to its field. */
function errorSummary(problems: readonly string[]): SafeHtml | null {
  if (problems.length === 0) return null;
  return html`<div class="flash error" role="alert"><p>Not saved: ${problems.length === 1 ? 'one problem' : `${problems.length} problems`}.</p><ul>${problems.map((p) => html`<li>${labelled(p)}</li>`)}</ul></div>`;
}

export function destinationsPage(list: DestinationView[], csrf: string, flash: Flash[], newForm: FormState): SafeHtml {
  const { byField } = problemsByField(newForm.problems);
  return page({
    title: 'Settings',
    section: 'settings',
    csrf,
    flash,
    body: html`<h1>Settings: Sailthru accounts</h1>
<section aria-labelledby="list-h">
<h2 id="list-h">Destinations</h2>
${
  list.length === 0
    ? html`<p>No destination yet: add your Sailthru account below.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">API URL</th><th scope="col">State</th><th scope="col" class="num">Backlog</th><th scope="col" class="num">Dead letters</th></tr></thead>
<tbody>${list.map(
        (d) => html`<tr><td><a href="/destinations/${d.id}">${d.name}</a></td><td><code>${d.id}</code></td><td>${d.settings.apiUrl ?? '–'}</td>
<td>${d.paused ? html`<span class="badge paused">paused</span>` : d.settingsProblems.length ? html`<span class="badge warn">settings incomplete</span>` : html`<span class="badge ok">active</span>`}</td>
<td class="num">${d.backlog.unsettled}</td><td class="num">${d.backlog.failed}</td></tr>`,
      )}</tbody></table></div>`
}
</section>
<section aria-labelledby="new-h" class="card">
<h2 id="new-h">Add a destination</h2>
${errorSummary(newForm.problems)}
<form method="post" action="/destinations" novalidate>
  ${csrfField(csrf)}
  <div class="fields">
    ${input('name', 'Name', 'A label for this account, e.g. Production.', newForm.values.name ?? '', byField.get('name'), null, 'text', true)}
    ${input('id', 'Id (optional)', 'Letters, digits, - and _; generated when empty.', newForm.values.id ?? '', byField.get('id'))}
  </div>
  ${settingsFields(newForm, null)}
  <div class="actions"><button type="submit">Add destination</button></div>
</form>
</section>`,
  });
}

export interface DestinationPageData {
  destination: DestinationView;
  writeKeys: WriteKeyView[];
  form: FormState;
  /** New keys to show once (usually one; two tabs may each have created one). */
  revealedKeys: Array<{ key: string; label: string }>;
}

export function destinationPage(data: DestinationPageData, csrf: string, flash: Flash[]): SafeHtml {
  const d = data.destination;
  const { byField } = problemsByField(data.form.problems);
  // Newest first: a key just created is at the top.
  const activeKeys = data.writeKeys.filter((k) => k.revokedAt === null).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const revokedKeys = data.writeKeys.filter((k) => k.revokedAt !== null);
  return page({
    title: `Settings: ${d.name}`,
    section: 'settings',
    csrf,
    flash,
    body: html`<p><a href="/destinations">← All destinations</a></p>
<h1>${d.name} <span class="muted">(${d.id})</span></h1>
${data.revealedKeys.map((k, i) => {
  const id = i === 0 ? 'new-key' : `new-key-${i + 1}`;
  return html`<div class="flash ok" role="status"><p>New write key <strong>${k.label}</strong>. Copy it now: it will not be shown again.</p>
<div class="copy-row key-once"><code id="${id}">${k.key}</code><button type="button" class="secondary" data-copy="#${id}" aria-label="Copy the new write key ${k.label}">Copy</button></div></div>`;
})}
${
  d.paused
    ? html`<div class="flash error" role="alert"><strong>Delivery is paused:</strong> ${d.pauseReason ?? 'no reason given'}. Events are kept.
  Saving settings resumes delivery; or ${actionButton(`/destinations/${d.id}/resume`, 'Resume now', csrf, { secondary: true })}</div>`
    : null
}
${d.declared ? html`<div class="flash info">This destination is also declared in the environment or config file: a restart applies the declared fields again.</div>` : null}
${d.settingsProblems.length && data.form.problems.length === 0 ? html`<div class="flash error" role="alert"><p>The stored settings are incomplete, so nothing is delivered:</p><ul>${d.settingsProblems.map((p) => html`<li>${labelled(p)}</li>`)}</ul></div>` : null}
<p class="actions"><a class="button secondary" href="/destinations/${d.id}/mappings">Mappings: which events reach Sailthru, and their cost</a></p>
<dl class="stats">
  <div><dt>Backlog</dt><dd>${d.backlog.unsettled}</dd></div>
  <div><dt>Retrying</dt><dd>${d.backlog.retrying}</dd></div>
  <div><dt>Dead letters</dt><dd><a href="/dead-letters?destination=${d.id}">${d.backlog.failed}</a></dd></div>
  <div><dt>Oldest pending</dt><dd>${ageText(d.backlog.oldestUnsettledAgeMs)}</dd></div>
</dl>
<section aria-labelledby="settings-h" class="card">
<h2 id="settings-h">Settings</h2>
<p class="muted">Version ${d.version}, changed ${time(d.updatedAt)}. Changes apply to the next delivery, without a restart.</p>
${errorSummary(data.form.problems)}
<form method="post" action="/destinations/${d.id}" novalidate>
  ${csrfField(csrf)}
  <div class="fields">${input('name', 'Name', 'A label for this account.', data.form.values.name ?? d.name, byField.get('name'), null, 'text', true)}</div>
  ${settingsFields(data.form, d.settings)}
  <div class="actions"><button type="submit">Save settings</button></div>
</form>
</section>
<section aria-labelledby="conn-h" class="card">
<h2 id="conn-h">Connection</h2>
<p>Makes one signed request (a user lookup) with the saved settings and says what is wrong, if anything.</p>
<div class="actions">
  ${actionButton(`/destinations/${d.id}/test-connection`, 'Test connection', csrf)}
  ${d.paused ? actionButton(`/destinations/${d.id}/resume`, 'Resume delivery', csrf, { secondary: true }) : html`<form class="actions" method="post" action="/destinations/${d.id}/pause">${csrfField(csrf)}<label for="pause-reason" class="inline">Reason <span class="hint">optional</span></label> <input id="pause-reason" name="reason" type="text" maxlength="500"> <button type="submit" class="secondary">Pause delivery</button></form>`}
</div>
</section>
<section aria-labelledby="keys-h" class="card">
<h2 id="keys-h">Write keys</h2>
<p>Sources send events with a write key (Basic auth username, or <code>writeKey</code> in the body). Keys are stored hashed: a new key is shown once.</p>

${
  activeKeys.length === 0
    ? html`<p>No active write key: this destination accepts no events yet.</p>`
    : html`<div class="table-wrap"><table data-write-keys><thead><tr><th scope="col">Label</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Action</th></tr></thead>
<tbody>${activeKeys.map(
        (k) => html`<tr><td>${k.label}</td><td>${k.prefix ? html`<code>${k.prefix}…</code>` : html`<span class="muted">–</span>`}</td><td>${time(k.createdAt)}</td><td>${k.lastUsedAt ? time(k.lastUsedAt) : html`<span class="muted">never</span>`}</td><td>${actionButton(`/write-keys/${k.id}/revoke`, 'Revoke', csrf, { danger: true, ariaLabel: `Revoke write key ${k.label}` })}</td></tr>`,
      )}</tbody></table></div>`
}
${revokedKeys.length ? html`<details><summary>${revokedKeys.length} revoked</summary><ul>${revokedKeys.map((k) => html`<li>${k.label}, revoked ${time(k.revokedAt)}</li>`)}</ul></details>` : null}
<form method="post" action="/destinations/${d.id}/write-keys" class="actions">
  ${csrfField(csrf)}
  <label for="key-label">Label <span class="hint">e.g. the source's name</span></label>
  <input id="key-label" name="label" type="text" maxlength="100">
  <button type="submit">Create write key</button>
</form>
</section>
<section aria-labelledby="danger-h" class="card">
<h2 id="danger-h">Delete this destination</h2>
<p>Deletes its settings, write keys and every stored event (queued ones too).</p>
<form method="post" action="/destinations/${d.id}/delete" class="actions">
  ${csrfField(csrf)}
  <label for="confirm">Type the id <code>${d.id}</code> to confirm</label>
  <input id="confirm" name="confirm" type="text" autocomplete="off">
  <button type="submit" class="danger">Delete destination</button>
</form>
</section>`,
  });
}
