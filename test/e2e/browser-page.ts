import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';

/**
 * A web site on its own origin for browser SDK tests: a small HTTP server serving one page and
 * files from node_modules, and a Chromium whose every request outside this machine's two test
 * origins is aborted and recorded (the SDKs must never reach Segment's or RudderStack's CDNs or
 * control planes).
 */

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface SiteFile {
  /** Path on the site, e.g. `/sdk.js`. */
  path: string;
  body: string | Buffer;
  contentType: string;
}

export interface Site {
  /** `http://localhost:PORT`: another origin than the server's `http://127.0.0.1:PORT`. */
  origin: string;
  /** Every path the site was asked for. */
  requested: string[];
  close(): Promise<void>;
}

export async function startSite(files: readonly SiteFile[]): Promise<Site> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const requested: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    requested.push(path);
    const file = byPath.get(path);
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    requested,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function moduleFile(path: string, modulePath: string): SiteFile {
  return { path, body: readFileSync(join(process.cwd(), 'node_modules', modulePath)), contentType: 'text/javascript' };
}

export function htmlPage(path: string, body: string): SiteFile {
  return { path, body: `<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>${body}</body></html>`, contentType: 'text/html' };
}

export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** URLs of requests to anywhere but the test origins (they cannot resolve, but are recorded). */
  external: string[];
  /** Requests sent to the events server (preflights included). */
  toServer: Request[];
  /** Page errors and console errors. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A browser whose page can only reach this machine: every host name but `localhost` resolves to
 * nothing (Chromium's host resolver rules), and every request is recorded, so a test can assert
 * that none went elsewhere. (Not page.route: with interception on, Playwright answers CORS
 * preflights itself, which would hide the server's own CORS answers.)
 */
export async function openBrowser(allowedOrigins: readonly string[], serverOrigin: string): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
  });
  const context = await browser.newContext();
  const external: string[] = [];
  const toServer: Request[] = [];
  const errors: string[] = [];
  context.on('request', (request) => {
    const url = request.url();
    if (url.startsWith(`${serverOrigin}/`)) toServer.push(request);
    if (!allowedOrigins.some((origin) => url.startsWith(`${origin}/`)) && !url.startsWith('data:') && !url.startsWith('blob:')) {
      external.push(url);
    }
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  return { browser, page, external, toServer, errors, close: () => browser.close() };
}
