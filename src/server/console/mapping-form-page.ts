import { MAPPING_ACTIONS } from '../../destination/mappings/actions.ts';
import type { FieldDecl } from '../../destination/mappings/field-kinds.ts';
import { ACTION_IDS, CONDITION_OPS, EVENT_TYPES, type ActionId } from '../../destination/mappings/schema.ts';
import type { DestinationView } from '../admin-views.ts';
import { html, type SafeHtml } from './html.ts';
import { csrfField, page } from './layout.ts';
import { EVENT_MATCH_KINDS, SPARE_CONDITION_ROWS, fieldKey, problemsByFormField, type MappingFormValues } from './mapping-form.ts';
import type { Flash } from './session.ts';

/**
 * One mapping's form (new or existing): name, on/off, trigger (types, event name, conditions),
 * action and the action's fields. Every action's fields are in the page, each in its own
 * fieldset: without a script all show (only the chosen action's are read); console.js shows the
 * chosen one's alone. Validation messages from the admin service show at their field.
 */

export interface MappingFormPage {
  destination: DestinationView;
  values: MappingFormValues;
  /** null: a new mapping (added at the end of the list). */
  existingId: string | null;
  /** This mapping's place in the list the service validated (its index in error paths). */
  index: number;
  problems: string[];
  /**
   * The list's revision the form was made from, posted back: a save after someone else changed
   * the list is refused (shown with the edit kept). After such a refusal it is the new revision,
   * so saving again replaces their change knowingly.
   */
  revision: string;
}

const MATCH_LABELS: Record<string, string> = { any: 'Any name', equals: 'Equals', oneOf: 'One of', startsWith: 'Starts with' };

function errorOf(id: string, errors: string[] | undefined): SafeHtml | null {
  return errors ? html`<p class="field-error" id="${id}-error">${errors.join(' ')}</p>` : null;
}

function described(id: string, errors: string[] | undefined, hint = true): SafeHtml {
  const ids = [hint ? `${id}-hint` : null, errors ? `${id}-error` : null].filter(Boolean).join(' ');
  return html`${ids ? html` aria-describedby="${ids}"` : null}${errors ? html` aria-invalid="true"` : null}`;
}

export function mappingFormPage(p: MappingFormPage, csrf: string, flash: Flash[]): SafeHtml {
  const d = p.destination;
  const v = p.values;
  const { byField, other } = problemsByFormField(p.problems, p.index);
  const base = `/destinations/${d.id}/mappings`;
  const action = p.existingId === null ? `${base}/new` : `${base}/${p.existingId}`;
  const title = p.existingId === null ? 'New mapping' : `Mapping: ${v.name || p.existingId}`;
  const rows = [...v.conditions, ...Array.from({ length: SPARE_CONDITION_ROWS }, () => ({ path: '', op: 'exists', value: '' }))];
  return page({
    title: `${title} · ${d.name}`,
    section: 'settings',
    csrf,
    flash,
    body: html`<p><a href="${base}">← Mappings of ${d.name}</a></p>
<h1>${title} <span class="muted">(${d.name})</span></h1>
${
  p.problems.length
    ? html`<div class="flash error" role="alert"><p>Not saved: ${p.problems.length === 1 ? 'one problem' : `${p.problems.length} problems`}.</p><ul>${[...byField.values()].flat().concat(other).map((m) => html`<li>${m}</li>`)}</ul></div>`
    : null
}
<form method="post" action="${action}" class="card mapping-form" novalidate>
  ${csrfField(csrf)}
  <input type="hidden" name="revision" value="${p.revision}">
  <div class="fields">
    <div><label for="m-name">Name <span aria-hidden="true">*</span> <span class="hint" id="m-name-hint">What the list and the delivery log call it.</span></label>
    <input id="m-name" name="name" type="text" maxlength="120" required value="${v.name}"${described('m-name', byField.get('name'))}>${errorOf('m-name', byField.get('name'))}</div>
    ${
      p.existingId === null
        ? html`<div><label for="m-id">Id (optional) <span class="hint" id="m-id-hint">Letters, digits, - and _; made from the name when empty.</span></label>
    <input id="m-id" name="id" type="text" maxlength="64" value="${v.id}"${described('m-id', byField.get('id'))}>${errorOf('m-id', byField.get('id'))}</div>`
        : html`<input type="hidden" name="id" value="${v.id}">`
    }
    <div class="check"><input id="m-enabled" name="enabled" type="checkbox"${v.enabled ? html` checked` : null}> <label for="m-enabled">Enabled <span class="hint">A disabled mapping is passed over: the next one that matches takes the event.</span></label></div>
  </div>
  <fieldset${byField.has('types') ? html` aria-describedby="m-types-error"` : null}>
    <legend>Trigger: event types</legend>
    <div class="checks">${EVENT_TYPES.map(
      (t) => html`<span><input id="m-type-${t}" name="types" type="checkbox" value="${t}"${v.types.includes(t) ? html` checked` : null}> <label for="m-type-${t}">${t}</label></span>`,
    )}</div>
    ${errorOf('m-types', byField.get('types'))}
  </fieldset>
  <fieldset>
    <legend>Trigger: event name <span class="hint">track event or page name</span></legend>
    <div class="fields">
      <div><label for="m-event-match">Match</label><select id="m-event-match" name="eventMatch">${EVENT_MATCH_KINDS.map(
        (k) => html`<option value="${k}"${k === v.eventMatch ? html` selected` : null}>${MATCH_LABELS[k]}</option>`,
      )}</select></div>
      <div><label for="m-event-names">Name(s) <span class="hint" id="m-event-names-hint">One per line (several for One of).</span></label>
      <textarea id="m-event-names" name="eventNames" rows="3" class="short"${described('m-event-names', byField.get('event'))}>${v.eventNames}</textarea>${errorOf('m-event-names', byField.get('event'))}</div>
    </div>
  </fieldset>
  <fieldset>
    <legend>Trigger: conditions <span class="hint">every condition must hold; leave a row empty to leave it out</span></legend>
    <p class="hint" id="m-cond-hint">Path into the event (<code>properties.total</code>, <code>context.traits.email</code>). Value: a number, true/false or text ("quoted" keeps a number as text); none for exists, not exists, is array.</p>
    <ol class="conditions">${rows.map((c, i) => {
      const errors = byField.get(`cond-${i}`);
      return html`<li class="condition">
      <div><label for="m-cond-path-${i}">Path <span class="visually-hidden">of condition ${i + 1}</span></label><input id="m-cond-path-${i}" name="cond-path-${i}" type="text" value="${c.path}"${described(`m-cond-${i}`, errors, false)}></div>
      <div><label for="m-cond-op-${i}">Operator <span class="visually-hidden">of condition ${i + 1}</span></label><select id="m-cond-op-${i}" name="cond-op-${i}">${CONDITION_OPS.map(
        (o) => html`<option value="${o}"${o === c.op ? html` selected` : null}>${o}</option>`,
      )}</select></div>
      <div><label for="m-cond-value-${i}">Value <span class="visually-hidden">of condition ${i + 1}</span></label><input id="m-cond-value-${i}" name="cond-value-${i}" type="text" value="${c.value}"></div>
      ${errorOf(`m-cond-${i}`, errors)}
    </li>`;
    })}</ol>
  </fieldset>
  <fieldset>
    <legend>Action</legend>
    <div><label for="m-action">Action <span class="hint" id="m-action-hint">What Sailthru gets for a matching event (drop: nothing).</span></label>
    <select id="m-action" name="action"${described('m-action', byField.get('action'))}>${ACTION_IDS.map(
      (a) => html`<option value="${a}"${a === v.action ? html` selected` : null}>${MAPPING_ACTIONS[a].title} (${a})</option>`,
    )}</select>${errorOf('m-action', byField.get('action'))}</div>
    ${ACTION_IDS.map((a) => actionFields(a, v, a === v.action ? byField : new Map()))}
  </fieldset>
  <div class="actions"><button type="submit">${p.existingId === null ? 'Add mapping' : 'Save mapping'}</button> <a class="button secondary" href="${base}">Cancel</a></div>
</form>`,
  });
}

/** One action's fields; shown alone for the chosen action by console.js (data-action-fields). */
function actionFields(a: ActionId, v: MappingFormValues, byField: Map<string, string[]>): SafeHtml {
  const def = MAPPING_ACTIONS[a];
  const entries = Object.entries(def.fields);
  return html`<fieldset class="action-fields" data-action-fields="${a}">
  <legend>Fields of ${def.title} <span class="hint">${def.description}${def.sends.length ? html` · calls: ${def.sends.join(', ')}` : null}${a === v.action ? null : html` · used only when the action is ${def.title}`}</span></legend>
  ${entries.length === 0 ? html`<p class="muted">This action has no fields.</p>` : html`<div class="fields">${entries.map(([name, decl]) => fieldInput(a, name, decl, v, byField.get(`field-${name}`)))}</div>`}
</fieldset>`;
}

function defaultText(decl: FieldDecl): string {
  if (decl.kind === 'vars') return 'every one';
  const d = decl.default;
  if ('fixed' in d) return d.fixed === '' ? 'none' : `"${d.fixed}"`;
  return d.from.join(', ');
}

function fieldInput(a: ActionId, name: string, decl: FieldDecl, v: MappingFormValues, errors: string[] | undefined): SafeHtml {
  const key = fieldKey(a, name);
  const id = `m-f-${a}-${name}`;
  const current = v.fields[key] ?? { choice: 'default', text: '' };
  const choices: Array<[string, string]> =
    decl.kind === 'vars'
      ? [['default', `Default: ${defaultText(decl)}`], ['deny', 'All but (deny-list)'], ['allow', 'Only (allow-list)']]
      : [['default', `Default: ${defaultText(decl)}`], ['from', 'From paths (first present)'], ['fixed', 'Fixed text']];
  const hint = decl.kind === 'vars' ? 'Names or dotted paths, comma-separated; a plain name is kept out at every depth.' : 'Paths comma-separated, or the fixed text.';
  return html`<div class="field-choice">
  <label for="${id}-choice">${decl.title} <span class="hint" id="${id}-hint">${decl.description}. ${hint}</span></label>
  <select id="${id}-choice" name="field-${key}-choice"${described(id, errors)}>${choices.map(
    ([value, label]) => html`<option value="${value}"${value === current.choice ? html` selected` : null}>${label}</option>`,
  )}</select>
  <label for="${id}-text" class="visually-hidden">${decl.title}: ${decl.kind === 'vars' ? 'names' : 'paths or text'}</label>
  <input id="${id}-text" name="field-${key}-text" type="text" value="${current.text}"${errors ? html` aria-invalid="true" aria-describedby="${id}-error"` : null}>
  ${errorOf(id, errors)}
</div>`;
}
