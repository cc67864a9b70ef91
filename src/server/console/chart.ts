import type { Series, SeriesPoint } from '../series-sampler.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * Small inline SVG line charts, drawn here only: the overview's script swaps in freshly rendered
 * ones. Axis labels are sized to fit (the left margin grows with the longest), durations take
 * the unit that suits them (ms, s, min), counts are whole numbers, and each stretch of the chart
 * carries its values for hover (a <title>, shown by console.js as a tooltip).
 */

export type ChartKind = 'throughput' | 'outcomes' | 'backlog' | 'age' | 'latency' | 'calls';
/** rate: per second (decimals); count: whole numbers; duration: milliseconds, shown in a unit that fits. */
export type ValueKind = 'rate' | 'count' | 'duration';

interface Line {
  name: string;
  points: Array<[number, number | null]>;
}

const COLORS = ['#0b5cad', '#1b7f3b', '#b3261e', '#a35c00', '#6a3fb5', '#00838f'];
// Small enough that text stays legible when a chart is ~300 px wide (a phone, or a third of a desktop).
const W = 400;
const H = 190;
const R = 10;
const T = 12;
const B = 26;
const FONT = 13;
/** Average glyph width of the axis font, as a share of its size (digits and units). */
const GLYPH = 0.6;
/** Hover stretches at most: each shows the point nearest its middle. */
const MAX_BANDS = 120;

const perSecond = (p: SeriesPoint, n: number): number => n / (p.intervalMs / 1000);

export const VALUE_KIND: Record<ChartKind, ValueKind> = {
  throughput: 'rate',
  outcomes: 'count',
  backlog: 'count',
  age: 'duration',
  latency: 'duration',
  calls: 'rate',
};

export function linesFor(kind: ChartKind, series: Series): Line[] {
  const pts = series.points;
  const line = (name: string, f: (p: SeriesPoint) => number | null): Line => ({ name, points: pts.map((p) => [Date.parse(p.at), f(p)]) });
  switch (kind) {
    case 'throughput':
      return [line('in /s', (p) => perSecond(p, p.eventsIn)), line('delivered /s', (p) => perSecond(p, p.delivered))];
    case 'outcomes':
      return [line('delivered', (p) => p.delivered), line('skipped', (p) => p.skipped), line('failed', (p) => p.failed), line('retried', (p) => p.retried)];
    case 'backlog':
      return [line('backlog', (p) => p.backlog)];
    case 'age':
      return [line('oldest pending', (p) => p.oldestPendingAgeMs ?? (p.backlog === null ? null : 0))];
    case 'latency':
      return [line('p50', (p) => p.latencyP50Ms), line('p95', (p) => p.latencyP95Ms)];
    case 'calls': {
      const keys = [...new Set(pts.flatMap((p) => Object.keys(p.calls)))].sort();
      return keys.map((k) => line(`${k} /s`, (p) => perSecond(p, p.calls[k] ?? 0)));
    }
  }
}

/** A general number: whole from 100, one decimal from 10, else two significant digits. */
export function formatNumber(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 || a === 0 ? v.toFixed(2) : String(Number(v.toPrecision(2)));
  return unit ? `${s} ${unit}` : s;
}

/** The unit a duration axis uses, chosen by its top value (ms). */
export function durationUnit(maxMs: number): { unit: 'ms' | 's' | 'min'; perUnit: number } {
  if (maxMs < 1000) return { unit: 'ms', perUnit: 1 };
  if (maxMs < 120_000) return { unit: 's', perUnit: 1000 };
  return { unit: 'min', perUnit: 60_000 };
}

/** Trims a decimal to at most `digits` places, without trailing zeros. */
function trim(v: number, digits: number): string {
  return String(Number(v.toFixed(digits)));
}

/** One value as a person reads it: counts whole, durations in the unit that suits the value. */
export function formatValue(v: number | null, kind: ValueKind): string {
  if (v === null || !Number.isFinite(v)) return '–';
  if (kind === 'count') return Math.round(v).toLocaleString('en-US');
  if (kind === 'duration') {
    const { unit, perUnit } = durationUnit(Math.abs(v));
    return `${trim(v / perUnit, unit === 'ms' ? 0 : 1)} ${unit}`;
  }
  return `${trim(v, Math.abs(v) >= 10 ? 1 : 2)} /s`;
}

/** 0 and 3–5 round steps up to at least `max` (in the axis's unit). */
export function niceTicks(max: number, wholeOnly: boolean): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  if (wholeOnly) step = Math.max(1, Math.ceil(step));
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** The y axis: ticks in the axis's unit, their labels, and what one unit is worth in raw values. */
export function yAxis(maxRaw: number, kind: ValueKind): { ticks: number[]; labels: string[]; perUnit: number; unit: string } {
  if (kind === 'duration') {
    const { unit, perUnit } = durationUnit(maxRaw);
    const ticks = niceTicks(maxRaw / perUnit, false);
    return { ticks, labels: ticks.map((t) => `${trim(t, 2)} ${unit}`), perUnit, unit };
  }
  const ticks = niceTicks(maxRaw, kind === 'count');
  return { ticks, labels: ticks.map((t) => (kind === 'count' ? t.toLocaleString('en-US') : trim(t, 2))), perUnit: 1, unit: kind === 'rate' ? '/s' : '' };
}

/** Dates over a day, seconds under a quarter of an hour (a chart that has just begun). */
function timeLabel(t: number, spanMs: number): string {
  const iso = new Date(t).toISOString();
  if (spanMs > 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return spanMs < 900_000 ? iso.slice(11, 19) : iso.slice(11, 16);
}

export function chartFigure(kind: ChartKind, title: string, series: Series): SafeHtml {
  const valueKind = VALUE_KIND[kind];
  const lines = linesFor(kind, series);
  const xs = series.points.map((p) => Date.parse(p.at));
  const values = lines.flatMap((l) => l.points.map((p) => p[1])).filter((v): v is number => v !== null);
  const axis = yAxis(Math.max(0, ...values), valueKind);
  const top = axis.ticks[axis.ticks.length - 1]! * axis.perUnit || 1;
  const L = Math.ceil(8 + Math.max(...axis.labels.map((s) => s.length)) * FONT * GLYPH);
  const x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 <= x0) x1 = x0 + 1;
  const X = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y: number) => T + (1 - y / top) * (H - T - B);
  const polylines = lines.flatMap((l, i) => segments(l.points).map((seg) => {
    const pts = seg.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`);
    if (pts.length === 1) pts.push(pts[0]!);
    return html`<polyline points="${pts.join(' ')}" fill="none" stroke="${COLORS[i % COLORS.length]!}" stroke-width="2"></polyline>`;
  }));
  const legend = lines.map((l, i) => {
    const last = [...l.points].reverse().find((p) => p[1] !== null)?.[1] ?? null;
    return html`<li><span class="swatch s${i % COLORS.length}"></span>${l.name}: ${formatValue(last, valueKind)}</li>`;
  });
  const span = x1 - x0;
  const id = `chart-${kind}`;
  return html`<figure class="chart card" data-chart="${kind}">
  <figcaption id="${id}">${title}</figcaption>
  <div class="chart-box">
  <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}">
    <title>${title}</title>
    ${axis.ticks.map((t, i) => html`<line x1="${L}" y1="${Y(t * axis.perUnit).toFixed(1)}" x2="${W - R}" y2="${Y(t * axis.perUnit).toFixed(1)}" stroke="${i === 0 ? '#9aa3b2' : '#e4e7ec'}"></line>
    <text x="${L - 4}" y="${(Y(t * axis.perUnit) + FONT / 2 - 2).toFixed(1)}" text-anchor="end" font-size="${FONT}" fill="#5b6474" data-axis="y">${axis.labels[i]!}</text>`)}
    <line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#9aa3b2"></line>
    ${
      xs.length
        ? html`<text x="${L}" y="${H - 6}" font-size="${FONT}" fill="#5b6474" data-axis="x">${timeLabel(x0, span)}</text>
    <text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="${FONT}" fill="#5b6474" data-axis="x">${timeLabel((x0 + x1) / 2, span)}</text>
    <text x="${W - R}" y="${H - 6}" text-anchor="end" font-size="${FONT}" fill="#5b6474" data-axis="x">${timeLabel(x1, span)} UTC</text>`
        : html`<text x="${(L + W - R) / 2}" y="${H / 2}" text-anchor="middle" font-size="${FONT}" fill="#5b6474">No data yet</text>`
    }
    ${polylines}
    ${hoverBands(lines, xs, valueKind, span, X, L)}
  </svg>
  </div>
  <ul class="legend">${legend}</ul>
</figure>`;
}

/** Runs of consecutive non-null points: a gap in the data is a gap in the line. */
function segments(points: Array<[number, number | null]>): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> = [];
  for (const [x, y] of points) {
    if (y === null) {
      if (run.length) out.push(run);
      run = [];
    } else run.push([x, y]);
  }
  if (run.length) out.push(run);
  return out;
}

function hoverBands(lines: Line[], xs: number[], kind: ValueKind, span: number, X: (x: number) => number, L: number): SafeHtml[] {
  if (xs.length === 0) return [];
  const bands = Math.min(MAX_BANDS, xs.length);
  const out: SafeHtml[] = [];
  for (let b = 0; b < bands; b++) {
    const from = L + (b / bands) * (W - L - R);
    const to = L + ((b + 1) / bands) * (W - L - R);
    const mid = (from + to) / 2;
    let nearest = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(X(xs[i]!) - mid) < Math.abs(X(xs[nearest]!) - mid)) nearest = i;
    const when = new Date(xs[nearest]!).toISOString();
    const tip = `${span > 86_400_000 ? when.slice(5, 10) + ' ' : ''}${when.slice(11, 19)} UTC · ${lines.map((l) => `${l.name}: ${formatValue(l.points[nearest]?.[1] ?? null, kind)}`).join(' · ')}`;
    out.push(html`<rect class="hover" x="${from.toFixed(1)}" y="${T}" width="${(to - from).toFixed(1)}" height="${H - T - B}" data-tip="${tip}"><title>${tip}</title></rect>`);
  }
  return out;
}
