import type { TestEventResult } from '../admin-service.ts';
import type { DestinationView } from '../admin-views.ts';
import type { SampleEvent } from '../sample-events.ts';
import { eventDetail } from './events.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { badge, csrfField, page } from './layout.ts';
import type { Flash } from './session.ts';

export interface TesterState {
  sampleId: string;
  eventText: string;
  destination: string;
  result: TestEventResult | null;
  problems: string[];
}

/** JSON inside <script type="application/json">: "<" escaped so no "</script>" can end it. */
function jsonScript(value: unknown): SafeHtml {
  return raw(JSON.stringify(value).replace(/</g, '\\u003c'));
}

export function testerPage(samples: readonly SampleEvent[], destinations: DestinationView[], state: TesterState, csrf: string, flash: Flash[]): SafeHtml {
  const current = samples.find((s) => s.id === state.sampleId);
  return page({
    title: 'Event tester',
    section: 'tester',
    csrf,
    flash,
    body: html`<h1>Event tester</h1>
<p>Send one event through the same path as ingest and see the Sailthru requests it produced and their answers. It is a real event: it is delivered to the destination's Sailthru account.</p>
<script type="application/json" id="samples-json">${jsonScript(samples.map((s) => ({ id: s.id, note: s.note, event: s.event })))}</script>
<section aria-labelledby="pick-h" class="card">
<h2 id="pick-h">Event</h2>
<form method="get" action="/tester" class="actions">
  <label for="sample">Sample event</label>
  <select id="sample" name="sample">${samples.map((s) => html`<option value="${s.id}"${s.id === state.sampleId ? html` selected` : null}>${s.title}</option>`)}</select>
  <button type="submit" class="secondary">Load sample</button>
</form>
<p class="muted" id="sample-note" aria-live="polite">${current?.note ?? ''}</p>
<form method="post" action="/tester" class="stack">
  ${csrfField(csrf)}
  <div><label for="destination">Destination</label><select id="destination" name="destination">${destinations.map(
    (d) => html`<option value="${d.id}"${d.id === state.destination ? html` selected` : null}>${d.name} (${d.id})</option>`,
  )}</select></div>
  <div><label for="event">Event JSON <span class="hint">One Segment event; a messageId is generated when absent.</span></label>
  <textarea id="event" name="event" spellcheck="false"${state.problems.length ? html` aria-invalid="true" aria-describedby="event-error"` : null}>${state.eventText}</textarea>
  ${state.problems.length ? html`<div class="field-error" id="event-error" role="alert"><ul>${state.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : null}</div>
  <div class="actions"><button type="submit">Send event</button></div>
</form>
</section>
${
  state.result
    ? html`<section aria-labelledby="result-h">
<h2 id="result-h">Result: ${badge(state.result.event.state)}</h2>
${state.result.duplicate ? html`<div class="flash info">This messageId was already stored: showing the earlier event (send without messageId for a new one).</div>` : null}
${state.result.pausedReason ? html`<div class="flash error" role="alert">The destination is paused (${state.result.pausedReason}); the event waits for a resume.</div>` : null}
${!state.result.settled && !state.result.pausedReason ? html`<div class="flash info">No attempt finished within the wait; <a href="/events/${state.result.event.id}">follow the event</a>.</div>` : null}
<p><a href="/events/${state.result.event.id}">Open event #${state.result.event.id} in the delivery log</a></p>
${eventDetail(state.result.event)}
</section>`
    : null
}`,
  });
}
