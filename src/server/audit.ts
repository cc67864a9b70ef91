import type { FastifyBaseLogger } from 'fastify';
import type { AdminRole } from '../admin-tokens.ts';
import type { AuditLog, AuditRecord, AuditRecordInput, DeadLetterSelector } from '../delivery/store.ts';
import { AdminError } from './admin-errors.ts';

/**
 * The history of operator actions: who (the admin token's name), what, on what, how many, from
 * where and through which channel. The AdminService records each action once it has happened,
 * whichever of the console, the API or the CLI asked for it. Why so: docs/decisions.md,
 * "Operators: named tokens, roles, confirmations, history".
 */

export const AUDIT_ACTIONS = [
  'sign-in.failed',
  'destination.create',
  'settings.change',
  'destination.delete',
  'destination.pause',
  'destination.resume',
  'write-key.create',
  'write-key.revoke',
  'event.retry',
  'event.drop',
  'dead-letters.retry',
  'dead-letters.drop',
  'user.delete',
  'test-event.send',
  'mappings.update',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type Channel = 'console' | 'api' | 'cli';

/** The CLI says so in its User-Agent (src/cli/http.ts): its calls show as `cli` in the history. */
export const CLI_USER_AGENT_PREFIX = 'sailthru-destination-cli/';

/** Who is asking, as the audit log and the role checks need it. */
export interface Actor {
  name: string;
  role: AdminRole;
  channel: Channel;
  /** The client's address (request.ip: TRUST_PROXY decides whether X-Forwarded-For counts). */
  source: string;
}

export type AuditDetails = Partial<Pick<AuditRecordInput, 'target' | 'filter' | 'count' | 'detail'>>;

export function viewerRefusal(name: string): AdminError {
  return new AdminError('ADMIN_VIEWER_READ_ONLY', `"${name}" signed in with a viewer token: it can read everything but change nothing (retry, drop, settings, keys, pause…). Ask an admin.`);
}

export class AuditTrail {
  constructor(
    private readonly store: AuditLog,
    private readonly log: Pick<FastifyBaseLogger, 'error'>,
  ) {}

  /** Refuses (403) unless the actor may change things. */
  requireAdmin(actor: Actor): void {
    if (actor.role !== 'admin') throw viewerRefusal(actor.name);
  }

  /**
   * Records an action that happened. A failure to record does not undo it nor fail the request
   * (the action is done): it is logged as an error for the operator to see.
   */
  async record(actor: Pick<Actor, 'channel' | 'source'> & { name: string | null }, action: AuditAction, details: AuditDetails = {}): Promise<AuditRecord | null> {
    try {
      return await this.store.recordAudit({
        action,
        actor: actor.name,
        channel: actor.channel,
        source: actor.source,
        target: details.target ?? null,
        filter: details.filter ?? null,
        count: details.count ?? null,
        detail: details.detail ?? null,
      });
    } catch (err) {
      this.log.error({ err, action }, 'could not record an operator action in the audit log');
      return null;
    }
  }
}

/** The fields whose values differ (names only). */
export function changedKeys(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** A dead-letter selection as the audit log shows it: the filter's fields, or the event ids. */
export function selectorDetails(selector: DeadLetterSelector): { filter?: Record<string, string>; target?: string } {
  if ('ids' in selector) {
    const shown = selector.ids.slice(0, 20).join(', ');
    return { target: `events ${shown}${selector.ids.length > 20 ? ` and ${selector.ids.length - 20} more` : ''}` };
  }
  const f = selector.filter;
  const filter: Record<string, string> = {};
  if (f.destinationId !== undefined) filter.destination = f.destinationId;
  if (f.laneKey !== undefined) filter.userId = f.laneKey;
  if (f.messageId !== undefined) filter.messageId = f.messageId;
  if (f.eventName !== undefined) filter.event = f.eventName;
  if (f.type !== undefined) filter.type = f.type;
  if (f.receivedFrom !== undefined) filter.from = f.receivedFrom.toISOString();
  if (f.receivedTo !== undefined) filter.to = f.receivedTo.toISOString();
  return { filter };
}
