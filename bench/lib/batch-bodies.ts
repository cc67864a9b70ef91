import { standardMix, type WireEvent } from '../../src/cli/traffic.ts';

/**
 * `/v1/batch` bodies for the ingest benchmark: events of the standard mix dressed with the
 * context analytics.js sends (library, page, user agent, campaign…), which brings them to about
 * 1 KB each, as issue 8 asks. Bodies are templates: every request gets fresh messageIds by
 * writing its number over a fixed-width token, so the store never sees a duplicate and the load
 * generator spends no time on JSON.
 */
export interface BatchBodies {
  /** A body with messageIds unique to `requestNumber` (< 10^10). */
  body(requestNumber: number): Buffer;
  eventsPerBody: number;
  /** Mean serialised size of one event, bytes. */
  meanEventBytes: number;
  meanBodyBytes: number;
}

const TOKEN = '##########';

const BROWSER_CONTEXT = {
  library: { name: 'analytics.js', version: 'next-1.70.0' },
  userAgent:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  userAgentData: { mobile: false, platform: 'macOS', brands: [{ brand: 'Chromium', version: '124' }] },
  locale: 'en-US',
  timezone: 'Europe/Berlin',
  screen: { width: 1512, height: 982, density: 2 },
  campaign: { name: 'spring-sale', source: 'newsletter', medium: 'email', content: 'hero-banner' },
};

function dressed(event: WireEvent, index: number): WireEvent {
  const path = `/c/${['shoes', 'jackets', 'bags', 'hats'][index % 4]}`;
  const page = {
    path,
    referrer: 'https://www.example.org/',
    search: '?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale',
    title: 'Example Shop',
    url: `https://shop.example.com${path}?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale`,
  };
  const context = { ...BROWSER_CONTEXT, page, ...((event.context as Record<string, unknown> | undefined) ?? {}) };
  return { ...event, context, sentAt: '2025-05-01T10:00:00.000Z' };
}

export function batchBodies(options: { templates: number; eventsPerBody: number; seed?: number }): BatchBodies {
  const mix = standardMix({ seed: options.seed ?? 1 });
  const templates: Array<{ bytes: Buffer; offsets: number[] }> = [];
  let eventBytes = 0;
  let events = 0;
  for (let t = 0; t < options.templates; t++) {
    const batch = mix.take(options.eventsPerBody).map((e, i) => {
      const out = dressed(e, i);
      out.messageId = `ing-${TOKEN}-${i}`;
      return out;
    });
    for (const e of batch) {
      eventBytes += Buffer.byteLength(JSON.stringify(e));
      events++;
    }
    const bytes = Buffer.from(JSON.stringify({ batch }));
    const offsets: number[] = [];
    for (let at = bytes.indexOf(TOKEN); at >= 0; at = bytes.indexOf(TOKEN, at + TOKEN.length)) offsets.push(at);
    templates.push({ bytes, offsets });
  }
  const meanBodyBytes = templates.reduce((s, t) => s + t.bytes.length, 0) / templates.length;
  return {
    eventsPerBody: options.eventsPerBody,
    meanEventBytes: eventBytes / events,
    meanBodyBytes,
    body(requestNumber) {
      const template = templates[requestNumber % templates.length]!;
      const out = Buffer.allocUnsafe(template.bytes.length);
      template.bytes.copy(out);
      const digits = String(requestNumber).padStart(TOKEN.length, '0');
      for (const at of template.offsets) out.write(digits, at, 'latin1');
      return out;
    },
  };
}
