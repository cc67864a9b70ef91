import type { Overview } from '../admin-service.ts';
import { isSeriesRange, SERIES_RANGES, type SeriesRange } from '../series-buckets.ts';
import { chartFigure, formatNumber } from './chart.ts';
import { html, type SafeHtml } from './html.ts';
import { actionButton, ageText, page, time } from './layout.ts';
import type { Flash } from './session.ts';

export const SERIES_REFRESH_MS = 10_000;

/** `?range=`: 1h unless one of the others. */
export function rangeParam(query: unknown): SeriesRange {
  const r = (query as Record<string, unknown> | undefined)?.range;
  return isSeriesRange(r) ? r : '1h';
}

/**
 * The overview. Its live parts (tiles, charts, rate table, destinations) are also served alone at
 * /overview/parts, which console.js fetches every SERIES_REFRESH_MS to swap them in.
 */
export function overviewPage(o: Overview, range: SeriesRange, csrf: string, flash: Flash[]): SafeHtml {
  return page({
    title: 'Overview',
    section: 'overview',
    csrf,
    flash,
    body: html`<h1>Overview</h1>
${pausedBanners(o, csrf)}
${forecastWarnings(o)}
<div data-refresh-url="/overview/parts?range=${range}" data-refresh-ms="${SERIES_REFRESH_MS}">
${overviewParts(o, range)}
</div>
${refusedSection(o)}`,
  });
}

function pausedBanners(o: Overview, csrf: string): SafeHtml[] {
  return o.destinations
    .filter((d) => d.paused)
    .map(
      (d) => html`<div class="flash error" role="alert"><strong>${d.name}</strong> is paused: ${d.pauseReason ?? 'no reason given'}.
  Events are kept and wait. Fix the settings (<a href="/destinations/${d.id}">settings of ${d.name}</a>) or ${actionButton(`/destinations/${d.id}/resume`, 'Resume', csrf, { secondary: true, fields: { back: '/' }, ariaLabel: `Resume ${d.name}` })}</div>`,
    );
}

/** Backlogs that take longer than the warning horizon (BACKLOG_WARN_HORIZON_HOURS) to clear. */
function forecastWarnings(o: Overview): SafeHtml[] {
  return o.destinations.flatMap((d) =>
    d.forecast?.warning ? [html`<div class="flash error" role="alert" data-backlog-warning="${d.id}"><strong>${d.name}</strong>: ${d.forecast.warning}.</div>`] : [],
  );
}

const RANGE_TITLES: Record<SeriesRange, string> = { '1h': 'Last hour', '24h': 'Last 24 hours', '7d': 'Last 7 days' };

/** The parts that refresh: each a [data-live-part] element console.js replaces whole. */
export function overviewParts(o: Overview, range: SeriesRange): SafeHtml {
  const { totals, series } = o;
  const settled = series.points.reduce(
    (acc, p) => ({ ok: acc.ok + p.delivered + p.skipped, bad: acc.bad + p.failed, retried: acc.retried + p.retried }),
    { ok: 0, bad: 0, retried: 0 },
  );
  const finished = settled.ok + settled.bad;
  const successShare = finished === 0 ? null : (settled.ok / finished) * 100;
  const interval = SERIES_RANGES[range].resolutionMs;
  const intervalText = interval >= 3_600_000 ? `${interval / 3_600_000} h` : interval >= 60_000 ? `${interval / 60_000} min` : `${interval / 1000} s`;
  return html`<section aria-labelledby="totals-h" data-live-part="totals">
<h2 id="totals-h">Now</h2>
<dl class="stats">
  <div><dt>Backlog (unsettled)</dt><dd>${totals.unsettled}</dd></div>
  <div><dt>Retrying</dt><dd>${totals.retrying}</dd></div>
  <div><dt>Dead letters</dt><dd><a href="/dead-letters">${totals.deadLetters}</a></dd></div>
  <div><dt>Oldest pending</dt><dd>${ageText(totals.oldestUnsettledAgeMs)}</dd></div>
  <div><dt>Success (${RANGE_TITLES[range].toLowerCase()})</dt><dd>${successShare === null ? '–' : `${successShare.toFixed(1)} %`}</dd></div>
  <div><dt>Delivered or skipped / failed</dt><dd>${settled.ok} / ${settled.bad}</dd></div>
</dl>
</section>
<section aria-labelledby="charts-h">
<h2 id="charts-h">${RANGE_TITLES[range]}</h2>
<nav class="ranges" aria-label="Chart range"><ul>${(Object.keys(SERIES_RANGES) as SeriesRange[]).map(
  (r) => html`<li><a href="/?range=${r}"${r === range ? html` aria-current="true"` : null}>${SERIES_RANGES[r].label}</a></li>`,
)}</ul></nav>
<p class="muted"><span data-refreshed aria-live="polite">Figures refresh every ${SERIES_REFRESH_MS / 1000} s.</span> Every server process's figures, from the database; one point per ${intervalText}.</p>
<div class="grid" data-live-part="charts">
  ${chartFigure('throughput', 'Events per second: in and delivered', series)}
  ${chartFigure('outcomes', `Outcomes per ${intervalText}: success and failure`, series)}
  ${chartFigure('backlog', 'Backlog (events waiting)', series)}
  ${chartFigure('age', 'Oldest pending event age', series)}
  ${chartFigure('calls', 'Sailthru calls per second by endpoint', series)}
  ${chartFigure('latency', 'Delivery latency p50 / p95', series)}
</div>
<div data-live-part="rates">
<h3 id="rate-h">Rate-limit use by endpoint</h3>
<div class="table-wrap"><table data-rate-table aria-labelledby="rate-h">
<thead><tr><th scope="col">Endpoint</th><th scope="col" class="num">Calls (${SERIES_RANGES[range].label})</th><th scope="col" class="num">Peak /s</th><th scope="col" class="num">Limit /s</th><th scope="col">Peak use</th></tr></thead>
<tbody>${
      series.endpoints.length === 0
        ? html`<tr><td colspan="5">No Sailthru calls in this period.</td></tr>`
        : series.endpoints.map(
            (e) => html`<tr><td>${e.endpoint}</td><td class="num">${e.calls}</td><td class="num">${formatNumber(e.peakPerSecond)}</td><td class="num">${e.limitPerSecond ?? '–'}</td>
<td><meter min="0" max="1" low="0.7" high="0.9" optimum="0" value="${Math.min(1, e.peakUse ?? 0)}" aria-label="rate-limit use of ${e.endpoint}"></meter> ${e.peakUse === null ? '–' : `${Math.round(e.peakUse * 100)}%`}</td></tr>`,
          )
    }</tbody>
</table></div>
</div>
</section>
<section aria-labelledby="dest-h" data-live-part="destinations">
<h2 id="dest-h">Destinations</h2>
${destinationsTable(o)}
</section>`;
}

function destinationsTable(o: Overview): SafeHtml {
  return o.destinations.length === 0
    ? html`<p>No destination yet. <a href="/destinations">Add a Sailthru account</a>.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Destination</th><th scope="col">State</th><th scope="col" class="num">Backlog</th><th scope="col" class="num">Retrying</th><th scope="col" class="num">Dead letters</th><th scope="col">Oldest pending</th><th scope="col">Clears in</th></tr></thead>
<tbody>${o.destinations.map(
        (d) => html`<tr><td><a href="/destinations/${d.id}">${d.name}</a> <span class="muted">${d.id}</span></td>
<td>${d.paused ? html`<span class="badge paused">paused</span>` : d.settingsProblems.length ? html`<span class="badge warn">settings incomplete</span>` : html`<span class="badge ok">active</span>`}</td>
<td class="num">${d.backlog.unsettled}</td><td class="num">${d.backlog.retrying}</td><td class="num">${d.backlog.failed}</td><td>${ageText(d.backlog.oldestUnsettledAgeMs)}</td>
<td data-forecast="${d.id}">${d.forecast ? html`${d.forecast.text}${d.forecast.bottleneck ? html` <span class="muted">(${d.forecast.bottleneck})</span>` : null}` : '–'}</td></tr>`,
      )}</tbody></table></div>`;
}

function refusedSection(o: Overview): SafeHtml {
  return html`<section aria-labelledby="refused-h">
<h2 id="refused-h">Refused requests</h2>
<p class="muted">Requests the ingest of this server process answered with an error since it started, by code (docs/troubleshooting.md). A client that keeps showing here is losing events or retrying.</p>
${
  o.refused.length === 0
    ? html`<p>No request refused.</p>`
    : html`<div class="table-wrap"><table data-refused-table>
<thead><tr><th scope="col">Code</th><th scope="col" class="num">HTTP</th><th scope="col" class="num">Count</th><th scope="col">Last</th><th scope="col">Last message</th><th scope="col">Last path and client</th></tr></thead>
<tbody>${o.refused.map(
        (r) => html`<tr><td><code>${r.code}</code></td><td class="num">${r.status}</td><td class="num">${r.count}</td><td>${time(r.lastAt)}</td><td>${r.lastMessage}</td><td><code>${r.lastPath}</code>${r.lastUserAgent ? html` <span class="muted">${r.lastUserAgent}</span>` : null}</td></tr>`,
      )}</tbody></table></div>`
}
</section>
`;
}

