import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminService } from '../admin-service.ts';
import type { SafeHtml } from './html.ts';
import type { Flash, Session, SessionStore } from './session.ts';

/** A form body, as @fastify/formbody parses it. */
export type Form = Record<string, unknown>;

/** What the console's route handlers share: the service, the request's session and form, and how to answer. */
export interface ConsoleKit {
  service: AdminService;
  sessions: SessionStore;
  send(reply: FastifyReply, body: SafeHtml, status?: number): FastifyReply;
  /** The signed-in session (the preHandler has checked it and the CSRF token). */
  session(request: FastifyRequest): Session;
  /** Flash messages to show once, taken out of the session. */
  flashOf(session: Session): Flash[];
  /** 303: post/redirect/get. */
  redirect(reply: FastifyReply, to: string): FastifyReply;
  form(request: FastifyRequest): Form;
  /** A form field as text ("" when absent; the first when repeated). */
  str(form: Form, key: string): string;
  param(request: FastifyRequest, name: string): string;
}

/**
 * A path on this server only (no open redirect): `value` when it is a same-origin path, else "/".
 * Browsers drop tabs and newlines from a URL and read `\` as `/`, so `/<TAB>/evil.example`
 * would leave the origin: any control character, whitespace or backslash refuses the value, as
 * does `//` in its path, as sent or once decoded (up to three times: `%252F`).
 */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000 || !isPlainPath(value)) return '/';
  let path = value.split(/[?#]/, 1)[0]!;
  for (let round = 0; round < 3; round++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return '/';
    }
    if (decoded === path) break;
    if (!isPlainPath(decoded)) return '/';
    path = decoded;
  }
  // The browser's own reading of the value must land on this origin, at a path without `//`.
  const base = 'http://this.server.invalid';
  try {
    const resolved = new URL(value, base);
    if (resolved.origin !== base || resolved.pathname.startsWith('//')) return '/';
  } catch {
    return '/';
  }
  return value;
}

/** Starts with one `/`, and no control character, whitespace, backslash or `//` in its path. */
function isPlainPath(value: string): boolean {
  if (!value.startsWith('/')) return false;
  // \p{Cc}: control characters; \s and \p{Z}: every kind of space; \p{Cf}: invisible format marks.
  if (/[\p{Cc}\p{Cf}\p{Z}\s\\]/u.test(value)) return false;
  return !value.split(/[?#]/, 1)[0]!.includes('//');
}
