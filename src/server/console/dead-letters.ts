import type { DestinationView, EventSummaryView } from '../admin-views.ts';
import { html, type SafeHtml } from './html.ts';
import { actionButton, csrfField, page } from './layout.ts';
import { eventRows, searchFields, type SearchValues } from './events.ts';
import type { Flash } from './session.ts';

export function deadLettersPage(
  values: SearchValues,
  result: { events: EventSummaryView[]; nextBefore: number | null },
  destinations: DestinationView[],
  csrf: string,
  flash: Flash[],
  groups: SafeHtml = html``,
): SafeHtml {
  const filterFields = Object.entries(values)
    .filter(([k, v]) => v && ['destination', 'userId', 'event', 'from', 'to'].includes(k))
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v ?? ''}">`);
  const paused = destinations.filter((d) => d.paused);
  const total = destinations.filter((d) => !values.destination || d.id === values.destination).reduce((n, d) => n + d.backlog.failed, 0);
  return page({
    title: 'Dead letters',
    section: 'dead-letters',
    csrf,
    flash,
    body: html`<h1>Dead letters</h1>
<p>Events that failed permanently or ran out of retries. Retrying puts them back at the head of their user's lane with a fresh retry window.</p>
${
  paused.length
    ? html`<section aria-labelledby="paused-h" class="card"><h2 id="paused-h">Paused destinations</h2><ul>${paused.map(
        (d) => html`<li><strong>${d.name}</strong> is paused: ${d.pauseReason ?? 'no reason given'}. ${d.backlog.unsettled} events wait.
${actionButton(`/destinations/${d.id}/resume`, 'Resume', csrf, { secondary: true, fields: { back: '/dead-letters' }, ariaLabel: `Resume ${d.name}` })} <a href="/destinations/${d.id}">Fix settings</a></li>`,
      )}</ul></section>`
    : null
}
<section aria-labelledby="filter-h" class="card">
<h2 id="filter-h">Filter</h2>
<form method="get" action="/dead-letters" role="search">
  ${searchFields(values, destinations, false)}
  <div class="actions"><button type="submit">Filter</button> <a class="button secondary" href="/dead-letters">Clear</a></div>
</form>
</section>
${groups}
<section aria-labelledby="list-h">
<h2 id="list-h">${result.events.length}${result.nextBefore !== null ? '+' : ''} shown <span class="muted">(${total} dead letters in the selected destinations)</span></h2>
${
  result.events.length && !values.reason
    ? html`<div class="actions">
  <form class="inline" method="post" action="/dead-letters/retry">${csrfField(csrf)}${filterFields}<button type="submit">Retry all matching</button></form>
  <form class="inline" method="post" action="/dead-letters/drop">${csrfField(csrf)}${filterFields}<button type="submit" class="danger">Drop all matching</button></form>
</div>`
    : null
}
${eventRows(result.events, csrf, true)}
</section>`,
  });
}
