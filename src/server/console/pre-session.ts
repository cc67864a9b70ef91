import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The sign-in form's double-submit token: the same value in a SameSite=Strict cookie and in the
 * form, so a page on another site (which can post the form but neither read nor send that cookie)
 * is refused before its try is counted against the admin's address. The value carries its expiry
 * and an HMAC under the sessions' secret, so a cookie planted by a neighbouring site does not pass
 * and any process behind a balancer can check it.
 */
export class PreSessionTokens {
  constructor(
    private readonly secret: string,
    private readonly ttlMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  issue(): string {
    const body = `${this.now() + this.ttlMs}.${randomBytes(18).toString('base64url')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** Both present, equal, signed here and not expired. */
  valid(field: string, cookie: string | undefined): boolean {
    if (field === '' || cookie === undefined || !sameToken(field, cookie)) return false;
    const dot = field.lastIndexOf('.');
    if (dot < 0) return false;
    const body = field.slice(0, dot);
    if (!sameToken(field.slice(dot + 1), this.mac(body))) return false;
    const expires = Number(body.split('.', 1)[0]);
    return Number.isSafeInteger(expires) && expires > this.now();
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(`sign-in form ${body}`).digest('base64url');
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
