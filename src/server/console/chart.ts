import type { Series, SeriesPoint } from '../series-sampler.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * Small inline SVG line charts. The browser script (assets.ts) redraws the same figures from
 * /api/series with the same geometry, so a page is complete without it and live with it.
 */

export type ChartKind = 'throughput' | 'outcomes' | 'backlog' | 'age' | 'latency' | 'calls';

interface Line {
  name: string;
  points: Array<[number, number | null]>;
}

const COLORS = ['#0b5cad', '#1b7f3b', '#b3261e', '#a35c00', '#6a3fb5', '#00838f'];
// Small enough that text stays legible when a chart is ~300 px wide (a phone, or a third of a desktop).
const W = 400;
const H = 190;
const L = 44;
const R = 8;
const T = 12;
const B = 26;
const FONT = 14;

const perSecond = (p: SeriesPoint, n: number): number => n / (p.intervalMs / 1000);

export function linesFor(kind: ChartKind, series: Series): Line[] {
  const pts = series.points;
  const line = (name: string, f: (p: SeriesPoint) => number | null): Line => ({
    name,
    points: pts.map((p) => [Date.parse(p.at), f(p)]),
  });
  switch (kind) {
    case 'throughput':
      return [line('in /s', (p) => perSecond(p, p.eventsIn)), line('delivered /s', (p) => perSecond(p, p.delivered))];
    case 'outcomes':
      return [
        line('delivered', (p) => p.delivered),
        line('skipped', (p) => p.skipped),
        line('failed', (p) => p.failed),
        line('retried', (p) => p.retried),
      ];
    case 'backlog':
      return [line('backlog', (p) => p.backlog)];
    case 'age':
      return [line('oldest pending', (p) => (p.oldestPendingAgeMs === null ? 0 : p.oldestPendingAgeMs / 1000))];
    case 'latency':
      return [line('p50', (p) => p.latencyP50Ms), line('p95', (p) => p.latencyP95Ms)];
    case 'calls': {
      const keys = [...new Set(pts.flatMap((p) => Object.keys(p.calls)))].sort();
      return keys.map((k) => line(`${k} /s`, (p) => perSecond(p, p.calls[k] ?? 0)));
    }
  }
}

export function formatNumber(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 || a === 0 ? v.toFixed(2) : String(Number(v.toPrecision(2)));
  return unit ? `${s} ${unit}` : s;
}

const hhmm = (t: number): string => `${new Date(t).toISOString().slice(11, 16)} UTC`;

export function chartFigure(kind: ChartKind, title: string, unit: string, series: Series): SafeHtml {
  const lines = linesFor(kind, series);
  const xs = lines.flatMap((l) => l.points.map((p) => p[0]));
  const values = lines.flatMap((l) => l.points.map((p) => p[1])).filter((v): v is number => v !== null);
  const max = Math.max(0, ...values) || 1;
  const x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 <= x0) x1 = x0 + 1;
  const X = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y: number) => T + (1 - y / max) * (H - T - B);
  const polylines = lines.map((l, i) => {
    const pts = l.points.filter((p): p is [number, number] => p[1] !== null).map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`);
    if (pts.length === 1) pts.push(pts[0]!);
    return pts.length
      ? html`<polyline points="${pts.join(' ')}" fill="none" stroke="${COLORS[i % COLORS.length]!}" stroke-width="2"></polyline>`
      : null;
  });
  const legend = lines.map((l, i) => {
    const last = [...l.points].reverse().find((p) => p[1] !== null)?.[1] ?? null;
    return html`<li><span class="swatch s${i % COLORS.length}"></span>${l.name}: ${formatNumber(last, unit)}</li>`;
  });
  const id = `chart-${kind}`;
  return html`<figure class="chart card" data-chart="${kind}" data-title="${title}" data-unit="${unit}">
  <figcaption id="${id}">${title}</figcaption>
  <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}">
    <title>${title}</title>
    <line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#9aa3b2"></line>
    <line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#9aa3b2"></line>
    <text x="${L - 4}" y="${T + FONT - 2}" text-anchor="end" font-size="${FONT}" fill="#5b6474">${formatNumber(max)}</text>
    <text x="${L - 4}" y="${H - B}" text-anchor="end" font-size="${FONT}" fill="#5b6474">0</text>
    ${
      xs.length
        ? html`<text x="${L}" y="${H - 6}" font-size="${FONT}" fill="#5b6474">${hhmm(x0)}</text>
    <text x="${W - R}" y="${H - 6}" text-anchor="end" font-size="${FONT}" fill="#5b6474">${hhmm(x1)}</text>`
        : html`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="${FONT}" fill="#5b6474">No data yet</text>`
    }
    ${polylines}
  </svg>
  <ul class="legend">${legend}</ul>
</figure>`;
}
