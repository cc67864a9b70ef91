import { html, type SafeHtml } from './html.ts';
import { page } from './layout.ts';

export function signInPage(options: { next: string; preToken: string; error?: string }): SafeHtml {
  return page({
    title: 'Sign in',
    section: 'sign-in',
    csrf: null,
    body: html`<h1>Sign in</h1>
<div class="card">
  <form class="stack" method="post" action="/sign-in">
    <input type="hidden" name="_pre" value="${options.preToken}">
    <input type="hidden" name="next" value="${options.next}">
    <div>
      <label for="token">Admin token <span class="hint">Your token from ADMIN_TOKENS, or the server's ADMIN_TOKEN.</span></label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus${
        options.error ? html` aria-invalid="true" aria-describedby="token-error"` : null
      }>
      ${options.error ? html`<p class="field-error" id="token-error" role="alert">${options.error}</p>` : null}
    </div>
    <div class="actions"><button type="submit">Sign in</button></div>
  </form>
</div>`,
  });
}

/** Every console route answers this while no ADMIN_TOKEN is configured. */
export function noTokenPage(): SafeHtml {
  return page({
    title: 'Console closed',
    section: 'sign-in',
    csrf: null,
    body: html`<h1>The console is closed</h1>
<div class="card"><p>Set <code>ADMIN_TOKEN</code> to open the console, then restart the server.</p></div>`,
  });
}

export function messagePage(title: string, text: string, csrf: string | null): SafeHtml {
  return page({
    title,
    section: 'overview',
    csrf,
    body: html`<h1>${title}</h1><div class="card"><p>${text}</p><p><a href="/">Back to the overview</a></p></div>`,
  });
}
