import { escapeHtml } from './console/html.ts';

/**
 * A last line of defence for the admin API and the console: before a response leaves, any known
 * secret (shared secrets, the admin token, declared write keys) in it is replaced. Nothing should
 * ever put one there; if something does, the operator sees "[redacted]" and the log says where.
 */

/** Shorter strings would match ordinary text. */
const MIN_LENGTH = 6;
const MASK = '[redacted]';

export function redactSecrets(text: string, secrets: readonly string[]): { text: string; hits: number } {
  let out = text;
  let hits = 0;
  for (const secret of secrets) {
    if (secret.length < MIN_LENGTH) continue;
    // The forms a secret takes in a response: as is, inside a JSON string, escaped in HTML.
    const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), escapeHtml(secret)]);
    for (const form of forms) {
      if (!out.includes(form)) continue;
      const parts = out.split(form);
      hits += parts.length - 1;
      out = parts.join(MASK);
    }
  }
  return { text: out, hits };
}

/** Caches the list of secrets briefly: a page render should not cost a store read per response. */
export class SecretList {
  private cached: { at: number; secrets: string[] } | null = null;

  constructor(
    private readonly load: () => Promise<string[]>,
    private readonly maxAgeMs = 1000,
  ) {}

  async current(): Promise<string[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.maxAgeMs) return this.cached.secrets;
    const secrets = await this.load();
    this.cached = { at: now, secrets };
    return secrets;
  }

  /** After a settings change, the next response must know the new secret. */
  invalidate(): void {
    this.cached = null;
  }
}
