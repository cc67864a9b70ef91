import { MAPPING_ACTIONS } from '../../destination/mappings/actions.ts';
import type { Mapping } from '../../destination/mappings/schema.ts';
import type { DestinationView, EventSummaryView } from '../admin-views.ts';
import { html, prettyJson, type SafeHtml } from './html.ts';
import { badge, csrfField, page, time } from './layout.ts';
import { triggerSummary } from './mappings-page.ts';
import type { Flash } from './session.ts';

/**
 * The mappings tester: a logged event (one of the destination's latest, or any by id from its
 * detail page) or pasted JSON, run through the destination's mappings without sending anything.
 * Shows which mapping matched (first match wins) and the exact Sailthru calls it would make.
 */

export interface MappingTestView {
  /** The first enabled mapping the event met, and its place (0-based); null: none. */
  matched: { index: number; mapping: Mapping } | null;
  /** What the delivery would end as (delivered, skipped, failed…; refused: ingest would refuse it). */
  state: string;
  reason?: string;
  calls: Array<{ method: string; endpoint: string; payload: unknown }>;
  warnings: string[];
}

export interface MappingTesterState {
  eventText: string;
  /** The logged event tested, when one was. */
  eventId: number | null;
  result: MappingTestView | null;
  problems: string[];
}

export function mappingTesterPage(
  destination: DestinationView,
  recent: EventSummaryView[],
  state: MappingTesterState,
  csrf: string,
  flash: Flash[],
  canPaste: boolean,
): SafeHtml {
  const d = destination;
  const base = `/destinations/${d.id}/mappings`;
  return page({
    title: `Mapping tester: ${d.name}`,
    section: 'settings',
    csrf,
    flash,
    body: html`<p><a href="${base}">← Mappings of ${d.name}</a></p>
<h1>Mapping tester <span class="muted">(${d.name})</span></h1>
<p>See which mapping an event takes and the exact Sailthru calls it would make. <strong>Nothing is sent</strong> and nothing is stored: a user lookup (GET /user) is answered as for a user Sailthru does not know.</p>
${state.result ? resultSection(state, base) : null}
<section aria-labelledby="recent-h" class="card">
<h2 id="recent-h">A recent event of ${d.name}</h2>
${
  recent.length === 0
    ? html`<p>No event in the delivery log for this destination yet.</p>`
    : html`<div class="table-wrap"><table class="cards">
<thead><tr><th scope="col">Event</th><th scope="col">Received</th><th scope="col">User</th><th scope="col">State</th><th scope="col">Test</th></tr></thead>
<tbody>${recent.map(
        (e) => html`<tr${state.eventId === e.id ? html` class="current" aria-current="true"` : null}><td data-label="Event"><a href="/events/${e.id}">#${e.id}</a> ${e.type ?? '?'}${e.event ? html`: ${e.event}` : null}</td>
<td data-label="Received">${time(e.receivedAt)}</td><td data-label="User">${e.userId ?? '–'}</td><td data-label="State">${badge(e.state)}</td>
<td data-label="Test"><a class="button secondary" href="${base}/test?event=${e.id}#result-h" aria-label="Test event #${e.id} against the mappings">Test</a></td></tr>`,
      )}</tbody></table></div>`
}
<form method="get" action="${base}/test" class="actions">
  <label for="test-event-id">Event id</label>
  <input id="test-event-id" name="event" type="text" inputmode="numeric" value="${state.eventId ?? ''}">
  <button type="submit" class="secondary">Test this event</button>
</form>
</section>
${
  canPaste
    ? html`<section aria-labelledby="paste-h" class="card">
<h2 id="paste-h">Or paste an event</h2>
<form method="post" action="${base}/test#result-h" class="stack">
  ${csrfField(csrf)}
  <div><label for="test-json">Event JSON <span class="hint" id="test-json-hint">One Segment event, as a source sends it.</span></label>
  <textarea id="test-json" name="event" spellcheck="false" aria-describedby="test-json-hint${state.problems.length ? ' test-json-error' : ''}"${state.problems.length ? html` aria-invalid="true"` : null}>${state.eventId === null ? state.eventText : ''}</textarea>
  ${state.problems.length ? html`<div class="field-error" id="test-json-error" role="alert"><ul>${state.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : null}</div>
  <div class="actions"><button type="submit">Test against mappings</button></div>
</form>
</section>`
    : null
}`,
  });
}

function resultSection(state: MappingTesterState, base: string): SafeHtml {
  const r = state.result!;
  const m = r.matched;
  return html`<section aria-labelledby="result-h" class="card tester-result" data-test-result>
<h2 id="result-h" tabindex="-1">Result${state.eventId !== null ? html` for event #${state.eventId}` : null}: ${badge(r.state)}</h2>
<dl class="props">
  <dt>Matched mapping</dt><dd data-matched="${m?.mapping.id ?? ''}">${
    m === null
      ? html`<strong>none</strong>`
      : html`<a href="${base}/${m.mapping.id}"><strong>${m.mapping.name}</strong></a> (#${m.index + 1}, ${MAPPING_ACTIONS[m.mapping.action].title}) <span class="muted">${triggerSummary(m.mapping.trigger)}</span>`
  }</dd>
  ${r.reason ? html`<dt>Reason</dt><dd>${r.reason}</dd>` : null}
  <dt>Sailthru calls</dt><dd>${r.calls.length === 0 ? 'none' : r.calls.length}</dd>
</dl>
${r.warnings.length ? html`<ul>${r.warnings.map((w) => html`<li>Warning: ${w}</li>`)}</ul>` : null}
${r.calls.map(
  (c, i) => html`<details open data-call="${i}">
<summary><code>${c.method} ${c.endpoint}</code></summary>
<pre tabindex="0">${prettyJson(c.payload)}</pre>
</details>`,
)}
${
  state.eventId !== null
    ? html`<details><summary>The event tested</summary><pre tabindex="0">${state.eventText}</pre></details>`
    : null
}
</section>`;
}
