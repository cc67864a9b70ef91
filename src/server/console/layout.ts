import { escapeHtml, html, raw, type HtmlValue, type SafeHtml } from './html.ts';
import type { AdminRole } from '../../admin-tokens.ts';
import type { Flash } from './session.ts';

export type Section = 'overview' | 'live' | 'settings' | 'events' | 'dead-letters' | 'tester' | 'activity' | 'sign-in';

export interface PageOptions {
  title: string;
  section: Section;
  /** null on the sign-in and refusal pages (no navigation, no sign-out). */
  csrf: string | null;
  flash?: readonly Flash[];
  body: HtmlValue;
}

const NAV: Array<{ section: Section; href: string; label: string }> = [
  { section: 'overview', href: '/', label: 'Overview' },
  { section: 'live', href: '/live', label: 'Live events' },
  { section: 'settings', href: '/destinations', label: 'Settings' },
  { section: 'events', href: '/events', label: 'Event delivery' },
  { section: 'dead-letters', href: '/dead-letters', label: 'Dead letters' },
  { section: 'tester', href: '/tester', label: 'Event tester' },
  { section: 'activity', href: '/activity', label: 'Activity' },
];

/** Where withSignedIn puts who is signed in (pages are rendered without knowing the session). */
const SIGNED_IN_SLOT = '<!--signed-in-->';

/** The page frame: skip link, banner with navigation, main landmark, footer. */
export function page(options: PageOptions): SafeHtml {
  const nav =
    options.csrf === null
      ? null
      : html`<nav aria-label="Main">
      <ul>${NAV.map(
        (n) => html`<li><a href="${n.href}"${n.section === options.section ? html` aria-current="page"` : null}>${n.label}</a></li>`,
      )}</ul>
    </nav>
    ${raw(SIGNED_IN_SLOT)}<form method="post" action="/sign-out" class="sign-out">${csrfField(options.csrf)}<button type="submit">Sign out</button></form>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Sailthru destination</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top" role="banner">
  <a class="brand" href="/">Sailthru destination</a>
  ${nav}
</header>
<main id="main" tabindex="-1">
${(options.flash ?? []).map((f) => html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`)}
${options.body}
</main>
<footer role="contentinfo">Self-hosted Segment-compatible destination for Sailthru. Times are UTC.</footer>
</body>
</html>`;
}

/**
 * A rendered page with who is signed in filled in. A viewer's page is marked `role-viewer`: the
 * stylesheet hides every action form but sign-out, and the server refuses their POSTs anyway.
 */
export function withSignedIn(pageText: string, who: { name: string; role: AdminRole }): string {
  if (!pageText.includes(SIGNED_IN_SLOT)) return pageText;
  const label = `<span class="who">Signed in as <strong>${escapeHtml(who.name)}</strong>${who.role === 'viewer' ? ' (viewer: read only)' : ''}</span>`;
  const marked = who.role === 'viewer' ? pageText.replace('<body>', '<body class="role-viewer">') : pageText;
  return marked.replace(SIGNED_IN_SLOT, label);
}

export function csrfField(token: string | null): SafeHtml {
  return token === null ? html`` : html`<input type="hidden" name="_csrf" value="${token}">`;
}

export function badge(state: string): SafeHtml {
  return html`<span class="badge ${state}">${state}</span>`;
}

export function time(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function ageText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${(m / 60).toFixed(1)} h`;
}

/** A small form that POSTs one action (with the CSRF token). */
export function actionButton(action: string, label: string, csrf: string, options: { danger?: boolean; secondary?: boolean; fields?: Record<string, string>; ariaLabel?: string } = {}): SafeHtml {
  const cls = options.danger ? 'danger' : options.secondary ? 'secondary' : '';
  return html`<form class="inline" method="post" action="${action}">${csrfField(csrf)}${Object.entries(options.fields ?? {}).map(
    ([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`,
  )}<button type="submit" class="${cls}"${options.ariaLabel ? html` aria-label="${options.ariaLabel}"` : null}>${label}</button></form>`;
}
