import type { FastifyInstance } from 'fastify';
import { AdminError } from '../admin-errors.ts';
import { parseAuditQuery } from '../admin-input.ts';
import { auditView, type AuditView } from '../admin-views.ts';
import { AUDIT_ACTIONS } from '../audit.ts';
import { html, type SafeHtml } from './html.ts';
import type { ConsoleKit } from './kit.ts';
import { page, time } from './layout.ts';
import type { Flash } from './session.ts';

/** The Activity page: every operator action, newest first, filtered by action (GET /api/audit in HTML). */
export function activityRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  app.get('/activity', async (request, reply) => {
    const s = kit.session(request);
    const q = request.query as Record<string, unknown>;
    const action = typeof q.action === 'string' ? q.action : '';
    const flash = kit.flashOf(s);
    let entries: AuditView[] = [];
    let nextHref: string | null = null;
    try {
      const result = await kit.service.audit({ ...parseAuditQuery(q), limit: 50 });
      entries = result.records.map(auditView);
      if (result.nextBeforeId !== null) nextHref = `/activity?${new URLSearchParams({ ...(action ? { action } : {}), before: String(result.nextBeforeId) }).toString()}`;
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      flash.push({ kind: 'error', text: error.message });
    }
    return kit.send(reply, activityPage(action, entries, nextHref, s.csrf, flash));
  });
}

function activityPage(action: string, entries: AuditView[], nextHref: string | null, csrf: string, flash: Flash[]): SafeHtml {
  return page({
    title: 'Activity',
    section: 'activity',
    csrf,
    flash,
    body: html`<h1>Activity</h1>
<p>Every operator action — in this console, through the admin API or the CLI — with who did it, from where and how many events it changed. Kept as long as the delivery log (<code>RETENTION_DAYS</code>).</p>
<section aria-labelledby="activity-filter-h" class="card">
<h2 id="activity-filter-h">Filter</h2>
<form method="get" action="/activity" role="search">
  <div class="fields"><div><label for="action">Action</label><select id="action" name="action"><option value="">Any</option>${AUDIT_ACTIONS.map(
    (a) => html`<option value="${a}"${a === action ? html` selected` : null}>${a}</option>`,
  )}</select></div></div>
  <div class="actions"><button type="submit">Filter</button> <a class="button secondary" href="/activity">Clear</a></div>
</form>
</section>
<section aria-labelledby="activity-h">
<h2 id="activity-h">History <span class="muted">(newest first)</span></h2>
${entries.length === 0 ? html`<p>No actions recorded${action ? html` for ${action}` : null}.</p>` : activityTable(entries)}
${nextHref ? html`<p><a href="${nextHref}">Older actions →</a></p>` : null}
</section>`,
  });
}

/** Actions that lose something or signal trouble, shown in red. */
const DESTRUCTIVE = /(failed|drop|revoke|delete)$/;

function activityTable(entries: AuditView[]): SafeHtml {
  return html`<div class="table-wrap"><table class="activity">
<thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target or filter</th><th scope="col" class="num">Events</th><th scope="col">From</th></tr></thead>
<tbody>${entries.map(
    (e) => html`<tr><td data-label="Time">${time(e.at)}</td><td data-label="Who">${e.actor ?? html`<span class="muted">unknown</span>`}</td>
<td data-label="Action"><span class="badge ${DESTRUCTIVE.test(e.action) ? 'bad' : 'ok'}">${e.action}</span></td>
<td data-label="Target">${targetText(e)}${e.detail ? html`<br><span class="muted">${e.detail}</span>` : null}</td>
<td data-label="Events" class="num">${e.count ?? '–'}</td><td data-label="From">${e.channel}<br><span class="muted">${e.source ?? ''}</span></td></tr>`,
  )}</tbody></table></div>`;
}

function targetText(e: AuditView): string {
  const filter = e.filter
    ? Object.entries(e.filter)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || 'every dead letter'
    : '';
  return [e.target ?? '', filter].filter(Boolean).join(' · ') || '–';
}
