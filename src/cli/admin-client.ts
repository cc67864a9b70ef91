import { CLI_USER_AGENT_PREFIX } from '../server/audit.ts';
import { CliError } from './options.ts';
import { errorMessageOf, HttpFailure, joinUrl, originOf, requestJson, type HttpAnswer } from './http.ts';

/**
 * The server's admin JSON API as the CLI uses it (`Authorization: Bearer <ADMIN_TOKEN>`). Every
 * failure becomes a CliError that says what to do; the token is never part of a message.
 */

/** Which dead letters: by id, or by what they are. */
export interface DeadLetterFilter {
  destination?: string;
  userId?: string;
  event?: string;
  /** ISO-8601 */
  from?: string;
  /** ISO-8601, exclusive */
  to?: string;
}

export type DeadLetterSelection = { ids: number[] } | { filter: DeadLetterFilter };

/** An event as GET /api/events lists it (the fields the CLI shows). */
export interface ListedEvent {
  id: number;
  destinationId?: string;
  /** The lane: userId, else anonymousId. */
  userId?: string | null;
  messageId?: string | null;
  type?: string | null;
  /** track: event name; page/screen: page name. */
  event?: string | null;
  state?: string;
  attempts?: number;
  lastError?: string | null;
  /** The outcome's reason (why it failed). */
  reason?: string | null;
  receivedAt?: string;
  [field: string]: unknown;
}

export interface EventListing {
  events: ListedEvent[];
  /** Pass as `before` for the next (older) page; null on the last. */
  nextBefore: number | null;
}

export interface QueuedDeletion {
  eventId?: number;
  messageId?: string;
  destinationId?: string;
}

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async deadLetters(filter: DeadLetterFilter, limit: number, beforeId?: number): Promise<EventListing> {
    const query = new URLSearchParams({ state: 'failed', limit: String(limit) });
    for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, value);
    if (beforeId !== undefined) query.set('before', String(beforeId));
    const body = await this.call('GET', `/api/events?${query.toString()}`);
    const events = (body as { events?: unknown })?.events;
    if (!Array.isArray(events)) throw new CliError(`unexpected answer from ${originOf(this.baseUrl)}/api/events (no "events" list)`, 1);
    const next = (body as { nextBefore?: unknown }).nextBefore;
    return { events: events as ListedEvent[], nextBefore: typeof next === 'number' ? next : null };
  }

  async retryDeadLetters(selection: DeadLetterSelection): Promise<number> {
    const body = await this.call('POST', '/api/deadletters/retry', selection);
    return countField(body, 'retried');
  }

  /**
   * One dead letter retried or dropped by id: its count (1), or why not, in the server's words
   * (`Event 7 not found`, `Event 7 is delivered: only dead letters …`).
   */
  async actOnEvent(action: 'retry' | 'drop', id: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      await this.call('POST', `/api/events/${id}/${action}`, {}, { refusalsAsErrors: true });
      return { ok: true };
    } catch (err) {
      if (err instanceof RefusedAction) return { ok: false, reason: err.message };
      throw err;
    }
  }

  async dropDeadLetters(selection: DeadLetterSelection): Promise<number> {
    const body = await this.call('POST', '/api/deadletters/drop', selection);
    return countField(body, 'dropped');
  }

  async deleteUser(userId: string, destination?: string): Promise<QueuedDeletion> {
    const body = await this.call('POST', `/api/users/${encodeURIComponent(userId)}/delete`, destination ? { destination } : {});
    return (body ?? {}) as QueuedDeletion;
  }

  async overview(): Promise<unknown> {
    return this.call('GET', '/api/overview');
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown, options: { refusalsAsErrors?: boolean } = {}): Promise<unknown> {
    let answer: HttpAnswer;
    try {
      // GETs are tried again on a 5xx or a dropped connection; a POST is not (it may have
      // landed). A 429 here is the wrong-token lockout: no use waiting for it.
      answer = await requestJson(
        method,
        joinUrl(this.baseUrl, path),
        // The user agent makes the server's history say `cli` for these calls.
        { headers: { authorization: `Bearer ${this.token}`, 'user-agent': `${CLI_USER_AGENT_PREFIX}1` }, ...(body !== undefined ? { body } : {}) },
        { attempts: method === 'GET' ? 3 : 1, throttledAttempts: 1 },
      );
    } catch (err) {
      if (err instanceof HttpFailure) throw new CliError(`${err.message}; is the server running at ${originOf(this.baseUrl)}?`, 1);
      throw err;
    }
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    if (answer.status === 401) {
      throw new CliError(`the server refused the admin token (${errorMessageOf(answer)}); pass the server's ADMIN_TOKEN with --admin-token or the ADMIN_TOKEN environment variable`, 1);
    }
    if (answer.status === 404 && isMissingRoute(answer.body)) {
      throw new CliError(`${originOf(this.baseUrl)} has no admin API at ${path.split('?')[0]}; is it a sailthru-destination server?`, 1);
    }
    if (options.refusalsAsErrors && (answer.status === 404 || answer.status === 409)) throw new RefusedAction(errorMessageOf(answer));
    throw new CliError(`${method} ${path.split('?')[0]} failed: ${errorMessageOf(answer)}`, 1);
  }
}

/** The server refused an action on one thing (not found, not in a state to act on). */
class RefusedAction extends Error {}

function countField(body: unknown, field: string): number {
  const n = (body as Record<string, unknown> | null)?.[field];
  if (typeof n !== 'number') throw new CliError(`unexpected answer from the admin API (no "${field}" count)`, 1);
  return n;
}

/** fastify's own 404 (no such route), as opposed to an admin API answer about a missing thing. */
function isMissingRoute(body: unknown): boolean {
  const message = (body as { message?: unknown } | null)?.message;
  return typeof body !== 'object' || body === null || (typeof message === 'string' && /^Route .+ not found$/.test(message));
}
