import type { RequestLogEntry } from '../../../src/emulator/index.ts';
import type { StoredEvent } from '../../../src/delivery/store.ts';

/**
 * Settled as applied after a kill: delivered, or an identify whose POST /user Sailthru had already
 * taken before the kill (what was sent is recorded as soon as Sailthru answers, before the settle),
 * delivered again after the restart and skipped as unchanged (issue 19). Both end with the profile
 * updated exactly as sent; the emulator's log shows the one call.
 */
export const APPLIED_SQL = `(status = 'delivered' OR (status = 'skipped' AND outcome->>'reason' LIKE 'unchanged since %'))`;

export function isApplied(event: Pick<StoredEvent, 'status' | 'outcome'>): boolean {
  return event.status === 'delivered' || (event.status === 'skipped' && (event.outcome?.reason ?? '').startsWith('unchanged since '));
}

/**
 * What Sailthru (the emulator) applied, per user, in arrival order: each test event carries its
 * position in its user's stream as `seq` (track properties / identify traits), which the
 * destination sends as `vars.seq` under the user's `id`.
 */
export interface SequenceReport {
  users: number;
  /** Calls Sailthru applied (HTTP 200 without an error code). */
  applied: number;
  /** Applied calls that repeated the one just before them for the same user. */
  duplicates: number;
  /** Users whose applied sequence, repeats collapsed, is not 0..n-1; empty when all is well. */
  problems: string[];
}

export function appliedSequences(requests: readonly RequestLogEntry[]): Map<string, number[]> {
  const byUser = new Map<string, number[]>();
  for (const r of [...requests].sort((a, b) => a.seq - b.seq)) {
    if (r.status !== 200 || r.errorCode !== null) continue;
    const p = r.payload as { id?: unknown; vars?: { seq?: unknown } } | undefined;
    if (typeof p?.id !== 'string' || typeof p.vars?.seq !== 'number') continue;
    const list = byUser.get(p.id) ?? [];
    list.push(p.vars.seq);
    byUser.set(p.id, list);
  }
  return byUser;
}

/**
 * Checks every expected user received exactly seq 0..n-1 in order. A repeat is only allowed right
 * after the call it repeats (a re-delivery of the event that was in flight); it is counted.
 */
export function checkSequences(requests: readonly RequestLogEntry[], expected: ReadonlyMap<string, number>): SequenceReport {
  const applied = appliedSequences(requests);
  const problems: string[] = [];
  let duplicates = 0;
  let total = 0;
  for (const [user, count] of expected) {
    const seqs = applied.get(user) ?? [];
    total += seqs.length;
    const collapsed = seqs.filter((s, i) => i === 0 || s !== seqs[i - 1]);
    duplicates += seqs.length - collapsed.length;
    const inOrder = collapsed.length === count && collapsed.every((s, i) => s === i);
    if (!inOrder && problems.length < 10) {
      const head = collapsed.slice(0, 30).join(',');
      problems.push(`${user}: expected 0..${count - 1}, got ${collapsed.length} distinct-in-a-row [${head}${collapsed.length > 30 ? ',…' : ''}]`);
    }
  }
  for (const user of applied.keys()) {
    if (!expected.has(user) && problems.length < 10) problems.push(`${user}: not expected but received calls`);
  }
  return { users: expected.size, applied: total, duplicates, problems };
}

/** A test event of user `user`, position `seq`: mostly track, every fifth an identify. */
export function sequencedEvent(prefix: string, user: number, seq: number): Record<string, unknown> {
  const userId = `${prefix}-user-${user}`;
  const messageId = `${prefix}-${user}-${seq}`;
  return seq % 5 === 4
    ? { type: 'identify', userId, messageId, traits: { seq } }
    : { type: 'track', userId, messageId, event: 'Step', properties: { seq } };
}

export function userIdOf(prefix: string, user: number): string {
  return `${prefix}-user-${user}`;
}
