import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { LiveBatch, LiveFeed } from '../live-feed.ts';
import { html, type SafeHtml } from './html.ts';
import type { ConsoleKit } from './kit.ts';
import { page } from './layout.ts';
import type { Flash } from './session.ts';

/**
 * The Live events page: the page itself, and /live/stream, the server-sent events it reads
 * (console.js renders them; filters and pause work in the browser).
 */

const KEEPALIVE_MS = 15_000;
const TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'delete'];

export function livePage(csrf: string, flash: Flash[]): SafeHtml {
  return page({
    title: 'Live events',
    section: 'live',
    csrf,
    flash,
    body: html`<h1>Live events</h1>
<p>Events as they arrive and each delivery attempt as it ends, newest first, from every server process (read from the delivery log every second). <a href="/events">Search the delivery log</a> for older ones.</p>
<section aria-labelledby="live-filter-h" class="card">
<h2 id="live-filter-h">Filter</h2>
<form class="fields" data-live-filters role="search">
  <div><label for="live-type">Type</label><select id="live-type" name="type"><option value="">Any</option>${TYPES.map((t) => html`<option value="${t}">${t}</option>`)}</select></div>
  <div><label for="live-name">Event name <span class="hint">starts with, any case</span></label><input id="live-name" name="name" type="text" autocomplete="off"></div>
  <div><label for="live-user">User <span class="hint">userId or anonymousId</span></label><input id="live-user" name="user" type="text" autocomplete="off"></div>
</form>
<div class="actions"><button type="button" data-live-pause aria-pressed="false">Pause</button> <button type="button" class="secondary" data-live-clear>Clear the list</button>
<span data-live-status role="status" aria-live="polite">Connecting…</span></div>
</section>
<section aria-labelledby="live-h">
<h2 id="live-h">Stream</h2>
<noscript><p>The live view needs JavaScript; the <a href="/events">delivery log</a> works without it.</p></noscript>
<div class="table-wrap"><table class="cards" data-live-table>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">Outcome</th><th scope="col">Details</th></tr></thead>
<tbody data-live-rows></tbody></table></div>
<p data-live-empty class="muted">Nothing yet: events appear here as they arrive.</p>
</section>`,
  });
}

export function liveRoutes(app: FastifyInstance, kit: ConsoleKit, feed: LiveFeed, redact: (text: string) => Promise<string>): void {
  const streams = new Set<ServerResponse>();

  app.get('/live', async (request, reply) => {
    const s = kit.session(request);
    return kit.send(reply, livePage(s.csrf, kit.flashOf(s)));
  });

  app.get('/live/stream', async (request, reply) => {
    kit.session(request);
    const raw = reply.raw;
    // The answer stays open: fastify hands the socket over, with the headers its hooks set.
    reply.hijack();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string') headers[k] = v;
    raw.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    streams.add(raw);
    let chain = Promise.resolve();
    const send = (batch: LiveBatch): void => {
      // In order, each checked for secrets as every console answer is.
      chain = chain.then(async () => {
        if (!raw.writableEnded) raw.write(`event: items\ndata: ${await redact(JSON.stringify(batch))}\n\n`);
      });
    };
    const subscription = await feed.subscribe(send);
    send({ items: subscription.recent, skipped: false });
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    raw.on('close', () => {
      clearInterval(keepalive);
      subscription.unsubscribe();
      streams.delete(raw);
    });
  });

  // Open streams would hold the server open at shutdown.
  app.addHook('preClose', async () => {
    for (const raw of streams) raw.end();
    streams.clear();
    feed.close();
  });
}
