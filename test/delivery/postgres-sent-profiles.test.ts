import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SentProfileRecord } from '../../src/delivery/sent-profile-store.ts';
import { SETTINGS } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/**
 * Issue 22: an identify reads its user's sent profile and a delivered one writes it: one
 * statement each per event was a worker's most frequent statement. The lookups and records of
 * the lanes in flight at one moment now share a statement (sent-profile-batches.ts).
 */

const DEST = 'dest-a';
const record = (n: number): SentProfileRecord => ({ hash: `h${n}`, settingsVersion: 1, sentAt: 1_000 + n });

describe('PostgreSQL sent profiles: lookups and records of lanes in flight share statements', () => {
  let schema: TestSchema;
  beforeEach(() => {
    schema = new TestSchema();
  });
  afterEach(async () => {
    await schema.dispose();
  });

  it('records, reads and forgets of many users at once go in two statements each, each answered for its own user', async () => {
    const store = await schema.open();
    await store.createDestination({ id: DEST, name: 'A', settings: SETTINGS });
    const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
    const before = store.groupedStatements;
    // Two records for u0 in one group: the one submitted last wins.
    await Promise.all([...users.map((u, i) => store.recordSentProfile(DEST, u, record(i))), store.recordSentProfile(DEST, 'u0', record(99))]);
    const found = await Promise.all([...users, 'nobody'].map((u) => store.lastSentProfile(DEST, u)));
    const after = store.groupedStatements;
    // The first goes alone at once; the ones that waited for it go together.
    expect(after.sentProfileWrites - before.sentProfileWrites).toBe(2);
    expect(after.sentProfileReads - before.sentProfileReads).toBe(2);
    expect(found).toEqual([record(99), ...users.slice(1).map((_, i) => record(i + 1)), null]);
    // Forgets too: the first alone, the others together, each counting its own users.
    const forgot = await Promise.all([['u0', 'u1', 'nobody'], ['u2'], ['u3', 'u3', 'u4'], ['nobody']].map((extids) => store.forgetSentProfiles(DEST, extids)));
    expect(forgot).toEqual([2, 1, 2, 0]);
    expect(store.groupedStatements.sentProfileForgets - before.sentProfileForgets).toBe(2);
    expect(await Promise.all(['u0', 'u2', 'u4', 'u5'].map((u) => store.lastSentProfile(DEST, u)))).toEqual([null, null, null, record(5)]);
  });
});
