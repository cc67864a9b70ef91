import type { FailureGroup } from '../failure-groups.ts';
import { html, type SafeHtml } from './html.ts';
import { csrfField, page, time } from './layout.ts';
import type { SearchValues } from './events.ts';

/** The dead letters page's "Failures by reason": one row per normalised reason, with its actions. */

/** The filter fields a group action carries, so it acts on what the page shows. */
export function filterInputs(values: SearchValues): SafeHtml[] {
  return Object.entries(values)
    .filter(([k, v]) => v && ['destination', 'userId', 'event', 'from', 'to'].includes(k))
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v ?? ''}">`);
}

function groupAction(action: 'retry' | 'drop', g: FailureGroup, values: SearchValues, csrf: string): SafeHtml {
  const label = action === 'retry' ? `Retry ${g.count}` : `Drop ${g.count}`;
  return html`<form class="inline" method="post" action="/dead-letters/groups/${action}">${csrfField(csrf)}${filterInputs(values)}<input type="hidden" name="reason" value="${g.key}"><button type="submit"${action === 'drop' ? html` class="danger"` : null} aria-label="${label} dead letters: ${g.key}">${label}</button></form>`;
}

export function failureGroupsSection(groups: FailureGroup[], values: SearchValues, csrf: string): SafeHtml {
  if (groups.length === 0) return html``;
  const params = (key: string) =>
    new URLSearchParams({ ...Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '' && e[0] !== 'reason')), reason: key }).toString();
  return html`<section aria-labelledby="groups-h" data-failure-groups>
<h2 id="groups-h">Failures by reason <span class="muted">(${groups.length})</span></h2>
<p class="muted">Ids, emails, numbers and quoted values in a reason are replaced, so one problem is one row. Open a reason to see its dead letters.</p>
<div class="table-wrap"><table class="cards">
<thead><tr><th scope="col">Reason</th><th scope="col" class="num">Events</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col">Sample</th><th scope="col">Actions</th></tr></thead>
<tbody>${groups.map(
    (g) => html`<tr${values.reason === g.key ? html` aria-current="true" class="current"` : null}>
<td data-label="Reason"><a href="/dead-letters?${params(g.key)}">${g.key}</a></td>
<td data-label="Events" class="num">${g.count}</td>
<td data-label="First seen">${time(g.firstSeen)}</td>
<td data-label="Last seen">${time(g.lastSeen)}</td>
<td data-label="Sample"><a href="/events/${g.sampleId}">#${g.sampleId}</a>${g.sampleReason !== g.key && g.sampleReason ? html`<br><span class="muted">${g.sampleReason}</span>` : null}</td>
<td data-label="Actions"><div class="actions">${groupAction('retry', g, values, csrf)}${groupAction('drop', g, values, csrf)}</div></td></tr>`,
  )}</tbody></table></div>
${values.reason ? html`<p>Showing the dead letters with reason <strong>${values.reason}</strong>. <a href="/dead-letters?${new URLSearchParams(Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '' && e[0] !== 'reason'))).toString()}">Show every reason</a></p>` : null}
</section>`;
}

/** Dropping erases events: the group's Drop asks once more, naming how many and why. */
export function confirmGroupDropPage(group: FailureGroup, values: SearchValues, csrf: string): SafeHtml {
  return page({
    title: 'Drop dead letters?',
    section: 'dead-letters',
    csrf,
    body: html`<h1>Drop ${group.count} dead ${group.count === 1 ? 'letter' : 'letters'}?</h1>
<div class="card"><p>Every dead letter with the reason <strong>${group.key}</strong>${values.destination ? html` in destination <code>${values.destination}</code>` : null} will be dropped: they will not be delivered.</p>
<div class="actions">
<form class="inline" method="post" action="/dead-letters/groups/drop">${csrfField(csrf)}${filterInputs(values)}<input type="hidden" name="reason" value="${group.key}"><input type="hidden" name="confirmed" value="${group.count}"><button type="submit" class="danger">Drop ${group.count}</button></form>
<a class="button secondary" href="/dead-letters">Cancel</a>
</div></div>`,
  });
}
