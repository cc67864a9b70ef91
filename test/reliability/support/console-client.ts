/**
 * A browser stand-in for the console: keeps cookies, follows nothing by itself (redirects are
 * answers the tests look at), and reads the CSRF token forms carry.
 */
export interface PageAnswer {
  status: number;
  location: string | null;
  text: string;
}

export class ConsoleClient {
  private readonly cookies = new Map<string, string>();
  private readonly baseUrls: readonly string[];
  private turn = 0;

  /** Several base URLs: each request goes to the next, as a round-robin balancer would send it. */
  constructor(baseUrl: string | readonly string[]) {
    this.baseUrls = typeof baseUrl === 'string' ? [baseUrl] : baseUrl;
  }

  /** Where the last request went. */
  lastUrl = '';

  async get(path: string): Promise<PageAnswer> {
    return this.request('GET', path);
  }

  async post(path: string, form: Record<string, string>): Promise<PageAnswer> {
    return this.request('POST', path, new URLSearchParams(form).toString());
  }

  /** Signs in with the admin token the way the form does (pre-token cookie + form field). */
  async signIn(token: string): Promise<PageAnswer> {
    const page = await this.get('/sign-in');
    const pre = /name="_pre" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    return this.post('/sign-in', { _pre: pre, token, next: '/' });
  }

  static csrfOf(page: PageAnswer): string {
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!token) throw new Error(`no CSRF token on the page (status ${page.status})`);
    return token;
  }

  private async request(method: string, path: string, body?: string): Promise<PageAnswer> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const baseUrl = this.baseUrls[this.turn++ % this.baseUrls.length]!;
    this.lastUrl = baseUrl;
    const res = await fetch(baseUrl + path, { method, headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }
}
