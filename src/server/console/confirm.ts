import { html, type HtmlValue, type SafeHtml } from './html.ts';
import { csrfField, page, type Section } from './layout.ts';
import type { Form } from './kit.ts';

/**
 * The step between a destructive button and its action, without JavaScript: the button's POST
 * comes back as this page, naming what will change; its form posts the same fields again with
 * `confirmed=yes`, and only that POST acts.
 */

export const CONFIRMED_FIELD = 'confirmed';

export function isConfirmed(form: Form): boolean {
  return form[CONFIRMED_FIELD] === 'yes';
}

export interface Confirmation {
  title: string;
  section: Section;
  /** What will happen, naming the count or the key. */
  question: HtmlValue;
  /** What the operator should know (what stays, what cannot be undone). */
  consequence: HtmlValue;
  action: string;
  /** The original form's fields, posted again (never _csrf nor confirmed). */
  fields: Record<string, string>;
  confirmLabel: string;
  cancelHref: string;
  /** Nothing to do (no matching dead letters): no confirm button, only the way back. */
  nothingToDo?: boolean;
}

export function confirmPage(c: Confirmation, csrf: string): SafeHtml {
  return page({
    title: c.title,
    section: c.section,
    csrf,
    body: html`<h1>${c.title}</h1>
<section class="card confirm" aria-labelledby="confirm-q">
  <p id="confirm-q"><strong>${c.question}</strong></p>
  <p>${c.consequence}</p>
  ${
    c.nothingToDo
      ? html`<div class="actions"><a class="button secondary" href="${c.cancelHref}">Back</a></div>`
      : html`<form method="post" action="${c.action}" class="actions">${csrfField(csrf)}${Object.entries(c.fields).map(
          ([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`,
        )}<input type="hidden" name="${CONFIRMED_FIELD}" value="yes"><button type="submit" class="danger">${c.confirmLabel}</button> <a class="button secondary" href="${c.cancelHref}">Cancel</a></form>`
  }
</section>`,
  });
}

/** A form's own fields as text, to post again (the CSRF token and the confirmation are added anew). */
export function formFields(form: Form, str: (f: Form, key: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(form)) if (key !== '_csrf' && key !== CONFIRMED_FIELD) out[key] = str(form, key);
  return out;
}
