import { MAPPING_ACTIONS } from '../../destination/mappings/actions.ts';
import { ACTION_IDS, type Mapping, type Trigger } from '../../destination/mappings/schema.ts';
import type { DestinationView } from '../admin-views.ts';
import { html, type SafeHtml } from './html.ts';
import { actionButton, page } from './layout.ts';
import type { Flash } from './session.ts';

/**
 * A destination's mappings: the ordered list (first match wins) with what each costs, the
 * events it matched and the Sailthru calls they made in the last hour and day, and per mapping
 * move up/down, enable/disable, edit and delete. Viewers get the list without the forms.
 */

export interface MappingCounts {
  matched: number;
  calls: number;
}

/** Per mapping id (and the no-match key) over the last hour and day, summed over every process. */
export interface MappingCost {
  lastHour: Record<string, MappingCounts>;
  lastDay: Record<string, MappingCounts>;
}

export interface MappingsPageData {
  destination: DestinationView;
  mappings: Mapping[];
  /** false: none stored, the defaults (SPEC.md) apply as listed. */
  configured: boolean;
  cost: MappingCost;
  /** The key events no mapping matched are counted under. */
  noMatchKey: string;
  canEdit: boolean;
  /** The list's revision when the page was made: every button posts it, so a change someone made since is refused, not overwritten. */
  revision: string;
}

const ZERO: MappingCounts = { matched: 0, calls: 0 };

/** "track · name one of Order Completed, Completed Order · properties.total > 100" */
export function triggerSummary(t: Trigger): string {
  const parts = [t.types.join(', ')];
  const e = t.event;
  if (e?.equals !== undefined) parts.push(`name = ${e.equals}`);
  else if (e?.oneOf !== undefined) parts.push(`name one of ${e.oneOf.join(', ')}`);
  else if (e?.startsWith !== undefined) parts.push(`name starts with ${e.startsWith}`);
  for (const c of t.conditions ?? []) parts.push(`${c.path} ${c.op}${c.value === undefined ? '' : ` ${typeof c.value === 'string' ? JSON.stringify(c.value) : String(c.value)}`}`);
  return parts.join(' · ');
}

/** A bar as wide as `value` is of `max` (inline SVG: the CSP allows no inline styles). */
export function costBar(value: number, max: number, label: string): SafeHtml {
  const width = max > 0 ? Math.max(value > 0 ? 2 : 0, Math.round((value / max) * 100)) : 0;
  return html`<svg class="cost-bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="${label}"><rect x="0" y="0" width="100" height="8" fill="#e4e7ec"></rect><rect x="0" y="0" width="${width}" height="8" fill="#0b5cad"></rect></svg>`;
}

function costCell(counts: MappingCounts, max: number, label: string): SafeHtml {
  return html`<span class="cost"><span class="num">${counts.matched.toLocaleString('en-US')} / ${counts.calls.toLocaleString('en-US')}</span>${costBar(counts.calls, max, `${label}: ${counts.calls} Sailthru calls`)}</span>`;
}

export function mappingsPage(data: MappingsPageData, csrf: string, flash: Flash[]): SafeHtml {
  const d = data.destination;
  const base = `/destinations/${d.id}/mappings`;
  const hourOf = (id: string) => data.cost.lastHour[id] ?? ZERO;
  const dayOf = (id: string) => data.cost.lastDay[id] ?? ZERO;
  const ids = [...data.mappings.map((m) => m.id), data.noMatchKey];
  const maxHour = Math.max(0, ...ids.map((id) => hourOf(id).calls));
  const maxDay = Math.max(0, ...ids.map((id) => dayOf(id).calls));
  const totalDay = ids.reduce((sum, id) => sum + dayOf(id).calls, 0);
  const noMatch = { hour: hourOf(data.noMatchKey), day: dayOf(data.noMatchKey) };
  return page({
    title: `Mappings: ${d.name}`,
    section: 'settings',
    csrf,
    flash,
    body: html`<p><a href="/destinations/${d.id}">← Settings of ${d.name}</a></p>
<h1>Mappings <span class="muted">(${d.name})</span></h1>
<p>Which events reach Sailthru and what each becomes. The first enabled mapping whose trigger an event meets takes it; an event no mapping takes is skipped (<em>no mapping matches</em>). Every Sailthru call spends the account's rate limit: the cost columns show what each mapping spends. Changes apply to the next delivery and are recorded in <a href="/activity">Activity</a>.</p>
${data.configured ? null : html`<div class="flash info">No mappings are stored for this destination: the defaults below (SPEC.md) apply. Any change stores the whole list.</div>`}
<p class="actions"><a class="button secondary" href="${base}/test">Test an event against these mappings</a>${data.canEdit ? html` <a class="button" href="${base}/new">Add a mapping</a>` : null}</p>
<section aria-labelledby="mappings-h">
<h2 id="mappings-h">Mappings in order <span class="muted">(${data.mappings.length})</span></h2>
<p class="muted" id="cost-note">Cost: events matched / Sailthru calls, in the last hour and the last day (every server process; one-minute buckets). ${totalDay.toLocaleString('en-US')} calls in the last day.</p>
${
  data.mappings.length === 0
    ? html`<p>No mapping: every event is skipped. Add one.</p>`
    : html`<div class="table-wrap"><table class="cards mappings" aria-describedby="cost-note">
<thead><tr><th scope="col" class="num">#</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Trigger</th><th scope="col">Action</th><th scope="col">Last hour</th><th scope="col">Last day</th>${data.canEdit ? html`<th scope="col">Change</th>` : null}</tr></thead>
<tbody>${data.mappings.map((m, i) => mappingRow(m, i, data, base, csrf, { hour: hourOf(m.id), day: dayOf(m.id), maxHour, maxDay }))}
<tr data-mapping="${data.noMatchKey}"><td data-label="#" class="num">–</td><td data-label="Name"><em>No mapping matched</em></td><td data-label="State"><span class="badge skipped">skipped</span></td><td data-label="Trigger" class="muted">whatever no mapping above takes</td><td data-label="Action">none</td>
<td data-label="Last hour">${costCell(noMatch.hour, maxHour, 'Last hour, no mapping matched')}</td><td data-label="Last day">${costCell(noMatch.day, maxDay, 'Last day, no mapping matched')}</td>${data.canEdit ? html`<td data-label="Change"></td>` : null}</tr>
</tbody></table></div>`
}
</section>
${data.canEdit ? addSection(base) : null}`,
  });
}

function mappingRow(
  m: Mapping,
  i: number,
  data: MappingsPageData,
  base: string,
  csrf: string,
  cost: { hour: MappingCounts; day: MappingCounts; maxHour: number; maxDay: number },
): SafeHtml {
  const href = `${base}/${m.id}`;
  const last = data.mappings.length - 1;
  return html`<tr data-mapping="${m.id}">
<td data-label="#" class="num">${i + 1}</td>
<td data-label="Name"><a href="${href}">${m.name}</a> <span class="muted">${m.id}</span></td>
<td data-label="State">${m.enabled ? html`<span class="badge ok">on</span>` : html`<span class="badge skipped">off</span>`}</td>
<td data-label="Trigger">${triggerSummary(m.trigger)}</td>
<td data-label="Action">${MAPPING_ACTIONS[m.action].title}${m.fields && Object.keys(m.fields).length ? html` <span class="muted">(fields: ${Object.keys(m.fields).join(', ')})</span>` : null}</td>
<td data-label="Last hour">${costCell(cost.hour, cost.maxHour, `Last hour, ${m.name}`)}</td>
<td data-label="Last day">${costCell(cost.day, cost.maxDay, `Last day, ${m.name}`)}</td>
${
  data.canEdit
    ? html`<td data-label="Change"><div class="actions">
${i > 0 ? actionButton(`${href}/move`, 'Up', csrf, { secondary: true, fields: { direction: 'up', revision: data.revision }, ariaLabel: `Move ${m.name} up` }) : null}
${i < last ? actionButton(`${href}/move`, 'Down', csrf, { secondary: true, fields: { direction: 'down', revision: data.revision }, ariaLabel: `Move ${m.name} down` }) : null}
${actionButton(`${href}/toggle`, m.enabled ? 'Disable' : 'Enable', csrf, { secondary: true, fields: { revision: data.revision }, ariaLabel: `${m.enabled ? 'Disable' : 'Enable'} ${m.name}` })}
<a class="button secondary" href="${href}" aria-label="Edit ${m.name}">Edit</a>
${actionButton(`${href}/delete`, 'Delete', csrf, { danger: true, fields: { revision: data.revision }, ariaLabel: `Delete ${m.name}` })}
</div></td>`
    : null
}
</tr>`;
}

function addSection(base: string): SafeHtml {
  return html`<section aria-labelledby="add-h" class="card">
<h2 id="add-h">Add a mapping</h2>
<form method="get" action="${base}/new" class="actions">
  <label for="new-action">Action</label>
  <select id="new-action" name="action">${ACTION_IDS.map((a) => html`<option value="${a}"${a === 'custom-event' ? html` selected` : null}>${MAPPING_ACTIONS[a].title}</option>`)}</select>
  <button type="submit">Start a new mapping</button>
</form>
<p class="muted">The form starts with the action's usual trigger; it is added at the end of the list (move it up to take events before a broader mapping).</p>
</section>`;
}
