import type { DestinationView, EventDetailView, EventSummaryView } from '../admin-views.ts';
import { EVENT_STATUSES } from '../../delivery/store.ts';
import { html, prettyJson, type SafeHtml } from './html.ts';
import { actionButton, badge, csrfField, page, time } from './layout.ts';
import type { Flash } from './session.ts';

export type SearchValues = Partial<Record<'userId' | 'messageId' | 'event' | 'state' | 'type' | 'destination' | 'from' | 'to' | 'reason', string>>;

const text = (id: string, label: string, value: string | undefined, hint = ''): SafeHtml =>
  html`<div><label for="${id}">${label}${hint ? html` <span class="hint">${hint}</span>` : null}</label><input id="${id}" name="${id}" type="text" value="${value ?? ''}"></div>`;

function destinationSelect(destinations: DestinationView[], value: string | undefined, id = 'destination'): SafeHtml {
  return html`<div><label for="${id}">Destination</label><select id="${id}" name="destination"><option value="">All</option>${destinations.map(
    (d) => html`<option value="${d.id}"${d.id === value ? html` selected` : null}>${d.name} (${d.id})</option>`,
  )}</select></div>`;
}

export function searchFields(values: SearchValues, destinations: DestinationView[], withState: boolean): SafeHtml {
  return html`<div class="fields">
  ${text('userId', 'User id', values.userId, 'userId or anonymousId')}
  ${withState ? text('messageId', 'Message id', values.messageId) : null}
  ${text('event', 'Event name', values.event, 'track event or page name')}
  ${
    withState
      ? html`<div><label for="state">State</label><select id="state" name="state"><option value="">Any</option>${EVENT_STATUSES.map(
          (s) => html`<option value="${s}"${s === values.state ? html` selected` : null}>${s}</option>`,
        )}</select></div>
  <div><label for="type">Type</label><select id="type" name="type"><option value="">Any</option>${['identify', 'track', 'page', 'screen', 'group', 'alias', 'delete'].map(
    (t) => html`<option value="${t}"${t === values.type ? html` selected` : null}>${t}</option>`,
  )}</select></div>`
      : null
  }
  ${destinationSelect(destinations, values.destination)}
  <div><label for="from">Received from <span class="hint">UTC</span></label><input id="from" name="from" type="datetime-local" step="1" value="${values.from ?? ''}"></div>
  <div><label for="to">Received before <span class="hint">UTC</span></label><input id="to" name="to" type="datetime-local" step="1" value="${values.to ?? ''}"></div>
</div>`;
}

export function eventRows(events: EventSummaryView[], csrf: string | null, withActions: boolean): SafeHtml {
  if (events.length === 0) return html`<p>No events match.</p>`;
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Id</th><th scope="col">Received</th><th scope="col">User</th><th scope="col">Event</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Reason / last error</th>${withActions ? html`<th scope="col">Actions</th>` : null}</tr></thead>
<tbody>${events.map(
    (e) => html`<tr><td><a href="/events/${e.id}">#${e.id}</a></td><td>${time(e.receivedAt)}</td><td>${e.userId ?? '–'}</td>
<td>${e.type ?? '?'}${e.event ? html`: ${e.event}` : null}<br><span class="muted">${e.destinationId}</span></td><td>${badge(e.state)}${e.test ? html` <span class="badge test">test</span>` : null}</td><td class="num">${e.attempts}</td>
<td>${e.reason ?? e.lastError ?? ''}</td>${
      withActions && csrf
        ? html`<td><div class="actions">${actionButton(`/events/${e.id}/retry`, 'Retry', csrf, { fields: { back: '/dead-letters' }, ariaLabel: `Retry event ${e.id}` })}${actionButton(`/events/${e.id}/drop`, 'Drop', csrf, { danger: true, fields: { back: '/dead-letters' }, ariaLabel: `Drop event ${e.id}` })}</div></td>`
        : null
    }</tr>`,
  )}</tbody></table></div>`;
}

export function eventsPage(
  values: SearchValues,
  result: { events: EventSummaryView[]; nextBefore: number | null } | null,
  destinations: DestinationView[],
  csrf: string,
  flash: Flash[],
  nextHref: string | null,
): SafeHtml {
  return page({
    title: 'Event delivery',
    section: 'events',
    csrf,
    flash,
    body: html`<h1>Event delivery</h1>
<section aria-labelledby="search-h" class="card">
<h2 id="search-h">Search the delivery log</h2>
<form method="get" action="/events" role="search">
  ${searchFields(values, destinations, true)}
  <div class="actions"><button type="submit">Search</button> <a class="button secondary" href="/events">Clear</a></div>
</form>
</section>
<section aria-labelledby="results-h">
<h2 id="results-h">Events <span class="muted">(newest first)</span></h2>
${result ? eventRows(result.events, null, false) : null}
${nextHref ? html`<p><a href="${nextHref}">Older events →</a></p>` : null}
</section>
<section aria-labelledby="delete-h" class="card">
<h2 id="delete-h">Delete a user in Sailthru</h2>
<p>Queues a deletion (<code>DELETE /user</code>) behind that user's other events, which are delivered first.</p>
<form method="post" action="/users/delete" class="fields">
  ${csrfField(csrf)}
  <div><label for="del-user">User id</label><input id="del-user" name="userId" type="text" required></div>
  ${destinationSelect(destinations, undefined, 'del-destination')}
  <div class="actions"><button type="submit" class="danger">Delete user</button></div>
</form>
</section>`,
  });
}

export function eventPage(e: EventDetailView, csrf: string, flash: Flash[]): SafeHtml {
  return page({
    title: `Event #${e.id}`,
    section: 'events',
    csrf,
    flash,
    body: html`<p><a href="/events">← Delivery log</a></p>
<h1>Event #${e.id} ${badge(e.state)}${e.test ? html` <span class="badge test">test</span>` : null}</h1>
<p class="actions"><a class="button secondary" href="/destinations/${e.destinationId}/mappings/test?event=${e.id}#result-h">Test against mappings</a></p>
${e.state === 'failed' ? html`<div class="actions">${actionButton(`/events/${e.id}/retry`, 'Retry', csrf, { fields: { back: `/events/${e.id}` } })}${actionButton(`/events/${e.id}/drop`, 'Drop', csrf, { danger: true, fields: { back: '/dead-letters' } })}</div>` : null}
${eventDetail(e)}`,
  });
}

/** The event, its outcome and every attempt with each Sailthru call (shared with the tester). */
export function eventDetail(e: EventDetailView): SafeHtml {
  return html`<section aria-labelledby="summary-h" class="card">
<h2 id="summary-h">Summary</h2>
<dl class="props">
  <dt>Destination</dt><dd><a href="/destinations/${e.destinationId}">${e.destinationId}</a></dd>
  <dt>Type / event</dt><dd>${e.type ?? '?'}${e.event ? html`: ${e.event}` : null}</dd>
  <dt>User</dt><dd>${e.userId ?? '–'}</dd>
  <dt>Message id</dt><dd><code>${e.messageId ?? '–'}</code></dd>
  <dt>State</dt><dd>${badge(e.state)}${e.reason ? html` ${e.reason}` : null}</dd>
  <dt>Attempts</dt><dd>${e.attempts}</dd>
  <dt>Received</dt><dd>${time(e.receivedAt)}</dd>
  <dt>Settled</dt><dd>${time(e.settledAt)}</dd>
  ${e.droppedBy ? html`<dt>Dropped</dt><dd>by <strong>${e.droppedBy}</strong> at ${time(e.droppedAt)}</dd>` : null}
  ${e.nextAttemptAt ? html`<dt>Next attempt</dt><dd>${time(e.nextAttemptAt)}</dd>` : null}
  ${e.lastError ? html`<dt>Last error</dt><dd>${e.lastError}</dd>` : null}
</dl>
</section>
<section aria-labelledby="payload-h" class="card">
<h2 id="payload-h">Payload</h2>
<pre tabindex="0" aria-labelledby="payload-h">${prettyJson(e.payload)}</pre>
</section>
<section aria-labelledby="attempts-h" class="card">
<h2 id="attempts-h">Attempts and Sailthru calls</h2>
${
  e.attemptLog.length === 0
    ? html`<p>No attempt yet.</p>`
    : e.attemptLog.map(
        (a) => html`<article aria-label="Attempt ${a.attempt}">
<h3>Attempt ${a.attempt}: ${badge(a.state)} <span class="muted">${time(a.startedAt)}, ${Math.round(a.durationMs)} ms</span></h3>
${a.error ? html`<p>${a.error}</p>` : null}
${a.warnings.length ? html`<ul>${a.warnings.map((w) => html`<li>Warning: ${w}</li>`)}</ul>` : null}
${
  a.calls.length === 0
    ? html`<p class="muted">No Sailthru call was made.</p>`
    : a.calls.map(
        (c, i) => html`<details${i === a.calls.length - 1 ? html` open` : null}>
<summary><code>${c.method} ${c.endpoint}</code> → HTTP ${c.status || 'no answer'}${c.errorCode !== undefined ? html`, error ${c.errorCode}` : null}${c.errorMessage ? html`: ${c.errorMessage}` : null} <span class="muted">(${Math.round(c.durationMs)} ms)</span></summary>
<h4>Request</h4><pre tabindex="0">${prettyJson(c.payload)}</pre>
<h4>Response</h4><pre tabindex="0">${c.response === undefined ? '(none)' : prettyJson(c.response)}</pre>
</details>`,
      )
}
</article>`,
      )
}
</section>`;
}
