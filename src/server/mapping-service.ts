import { planCalls, type CallPlan } from '../destination/dry-run.ts';
import { MAPPING_ACTIONS } from '../destination/mappings/actions.ts';
import { defaultMappings } from '../destination/mappings/defaults.ts';
import { explainMapping, type MappingExplanation } from '../destination/mappings/explain.ts';
import { ACTION_IDS, CONDITION_OPS, EVENT_TYPES, UNARY_OPS, type Mapping } from '../destination/mappings/schema.ts';
import { validateMappings } from '../destination/mappings/validate.ts';
import { normalizeWebhookBody, type SegmentEvent } from '../segment/index.ts';
import { mappingStatsOf, NO_MAPPING, type MappingCounts } from '../delivery/mapping-stats.ts';
import type { Destination, EventStore } from '../delivery/store.ts';
import type { SailthruUser } from '../sailthru/types.ts';
import { StaleVersionError } from '../delivery/stale-version.ts';
import { AdminError, badRequest, invalid, notFound } from './admin-errors.ts';
import { mappingsRevision } from './mappings-revision.ts';
import type { Actor, AuditTrail } from './audit.ts';

/**
 * A destination's mappings for the admin API and the console (docs/mappings.md): read, replace
 * the whole ordered list, switch one on or off, try an event against them without sending, and
 * what each costs. Changes bump the destination's version (the registry rebuilds it) and are
 * recorded in the audit log as `mappings.update`.
 */

export interface MappingsView {
  destinationId: string;
  /** False: none configured, the defaults (shown in `mappings`) apply and follow the program's. */
  configured: boolean;
  mappings: Mapping[];
  /** The destination's version after the change (the registry rebuilds on a new one). */
  version: number;
  /**
   * The list's revision (also the ETag): a change sent with it (If-Match, or `revision` in the
   * body) is refused with 409 ADMIN_MAPPINGS_CHANGED when someone else changed the list since.
   */
  revision: string;
}

export interface MappingTestResult {
  /** The mapping taken, or null (`skipped: no mapping matches`, or refused before mapping). */
  matched: MappingExplanation['matched'];
  /** Each mapping tried, in order, with why it did not match. */
  tried: MappingExplanation['tried'];
  state: CallPlan['state'];
  reason?: string;
  /** The exact Sailthru calls, in order; nothing was sent. */
  calls: CallPlan['calls'];
  warnings: string[];
}

export interface MappingStatsRow extends MappingCounts {
  id: string;
  name: string;
}

export interface MappingStatsView {
  destinationId: string;
  /** Per mapping in list order, then `(no match)` and mappings no longer in the list. */
  lastHour: MappingStatsRow[];
  lastDay: MappingStatsRow[];
  /** Bucket size: the hour and the day are counted in whole buckets of this many ms. */
  resolutionMs: number;
}

export interface MappingServiceDeps {
  store: Pick<EventStore, 'getDestination' | 'updateDestination' | 'readMappingBuckets'>;
  audit: AuditTrail;
  /** This process's counter (flushed before reading, so its latest counts show). */
  stats?: { flush(): Promise<void> };
  now?: () => number;
}

export class MappingService {
  constructor(private readonly deps: MappingServiceDeps) {}

  /** What the console's form needs: every action with its fields, the event types, the operators. */
  catalog() {
    return {
      eventTypes: EVENT_TYPES,
      operators: CONDITION_OPS.map((op) => ({ op, takesValue: !UNARY_OPS.includes(op) })),
      actions: ACTION_IDS.map((id) => {
        const a = MAPPING_ACTIONS[id];
        return {
          id,
          title: a.title,
          description: a.description,
          defaultSubscription: a.defaultSubscription,
          sends: a.sends,
          fields: Object.entries(a.fields).map(([name, f]) => ({ name, kind: f.kind, title: f.title, description: f.description, default: f.default })),
        };
      }),
      defaults: defaultMappings(),
    };
  }

  async get(destinationId: string): Promise<MappingsView> {
    return viewOf(await this.row(destinationId));
  }

  /**
   * Replaces the whole ordered list; `null` goes back to the defaults. With `expectedRevision`
   * (what the writer read), refused when the list has changed since (409).
   */
  async replace(actor: Actor, destinationId: string, input: unknown, expectedRevision?: string): Promise<MappingsView> {
    this.deps.audit.requireAdmin(actor);
    let mappings: Mapping[] | null = null;
    if (input !== null) {
      const checked = validateMappings(input);
      if (!checked.ok) throw invalid(checked.errors);
      mappings = checked.mappings;
    }
    const { before, after } = await this.write(destinationId, expectedRevision, () => mappings);
    await this.deps.audit.record(actor, 'mappings.update', { target: destinationId, detail: describeChange(before, mappings) });
    return viewOf(after);
  }

  /** Switches one mapping on or off (the defaults become explicit when none were configured). */
  async setEnabled(actor: Actor, destinationId: string, mappingId: string, enabled: unknown, expectedRevision?: string): Promise<MappingsView> {
    this.deps.audit.requireAdmin(actor);
    if (typeof enabled !== 'boolean') throw badRequest('enabled: must be true or false');
    let name = mappingId;
    const { after } = await this.write(destinationId, expectedRevision, (current) => {
      const target = current.find((m) => m.id === mappingId);
      if (target === undefined) throw notFound(`Mapping "${mappingId}" of destination "${destinationId}"`);
      name = target.name;
      return current.map((m) => (m.id === mappingId ? { ...m, enabled } : m));
    });
    await this.deps.audit.record(actor, 'mappings.update', { target: destinationId, detail: `mapping "${name}" (${mappingId}) ${enabled ? 'enabled' : 'disabled'}` });
    return viewOf(after);
  }

  /**
   * The tester: which mapping the event takes and the exact calls it would make, sending nothing.
   * `mappings` (optional) tries an unsaved list; else the destination's. `profile` stands for
   * what GET /user would answer.
   */
  async test(destinationId: string, body: Record<string, unknown>): Promise<MappingTestResult> {
    const row = await this.row(destinationId);
    let mappings = viewOf(row).mappings;
    if (body.mappings !== undefined) {
      const checked = validateMappings(body.mappings);
      if (!checked.ok) throw invalid(checked.errors);
      mappings = checked.mappings;
    }
    if (body.event === undefined) throw badRequest('event: is required (a Segment event as JSON)');
    const profile = body.profile === undefined ? undefined : (body.profile as SailthruUser);
    const plan = await planCalls(body.event, row.settings, { mappings, ...(profile !== undefined ? { profile } : {}) });
    const normalized = normalizeWebhookBody(body.event, new Date());
    const event = normalized.ok ? (normalized.accepted[0] as SegmentEvent | undefined) : undefined;
    const explained = event === undefined ? { matched: null, tried: [] } : explainMapping(event, mappings);
    const result: MappingTestResult = { matched: explained.matched, tried: explained.tried, state: plan.state, calls: plan.calls, warnings: plan.warnings };
    if (plan.reason !== undefined) result.reason = plan.reason;
    return result;
  }

  async stats(destinationId: string): Promise<MappingStatsView> {
    const row = await this.row(destinationId);
    await this.deps.stats?.flush();
    const figures = await mappingStatsOf(this.deps.store, destinationId, (this.deps.now ?? Date.now)());
    const mappings = viewOf(row).mappings;
    const rowsOf = (counts: Record<string, MappingCounts>): MappingStatsRow[] => {
      const listed = mappings.map((m) => ({ id: m.id, name: m.name, ...(counts[m.id] ?? { matched: 0, calls: 0 }) }));
      const known = new Set(mappings.map((m) => m.id));
      const others = Object.entries(counts)
        .filter(([id]) => !known.has(id))
        .map(([id, c]) => ({ id, name: id === NO_MAPPING ? 'no mapping matched' : `${id} (no longer in the list)`, ...c }));
      return [...listed, ...others];
    };
    return { destinationId, lastHour: rowsOf(figures.lastHour), lastDay: rowsOf(figures.lastDay), resolutionMs: figures.resolutionMs };
  }

  private async row(destinationId: string): Promise<Destination> {
    const row = await this.deps.store.getDestination(destinationId);
    if (row === null) throw notFound(`Destination "${destinationId}"`);
    return row;
  }

  /**
   * Read, check the revision, change, write on condition the destination is still at the version
   * read (one statement in the store), so two writers never overwrite each other unseen: a write
   * that finds the destination moved reads again, and fails with 409 only when the list itself
   * changed (a settings change meanwhile also moves the version, and is no conflict).
   */
  private async write(
    destinationId: string,
    expectedRevision: string | undefined,
    change: (current: Mapping[]) => Mapping[] | null,
  ): Promise<{ before: Destination; after: Destination }> {
    for (let attempt = 0; ; attempt++) {
      const before = await this.row(destinationId);
      const current = viewOf(before);
      if (expectedRevision !== undefined && expectedRevision !== current.revision) throw changedSince(destinationId, expectedRevision, current.revision);
      const next = change(current.mappings);
      try {
        const after = await this.deps.store.updateDestination(destinationId, { mappings: next, ifVersion: before.version });
        if (after === null) throw notFound(`Destination "${destinationId}"`);
        return { before, after };
      } catch (error) {
        if (!(error instanceof StaleVersionError)) throw error;
        // Another write landed between our read and ours; without a revision to hold to, the
        // change applies to the list as it now is (a PATCH of one mapping keeps the others').
        if (attempt >= MAX_WRITE_ATTEMPTS) throw changedSince(destinationId, expectedRevision ?? current.revision, '(changing)');
      }
    }
  }
}

/** Each lost round lets another writer through, so this many concurrent writers all succeed. */
const MAX_WRITE_ATTEMPTS = 32;

function changedSince(destinationId: string, expected: string, current: string): AdminError {
  return new AdminError(
    'ADMIN_MAPPINGS_CHANGED',
    `The mappings of destination "${destinationId}" were changed by someone else since you read them (revision ${expected}, now ${current}); ` +
      'nothing was saved. Read them again, reapply your change, and save with the new revision.',
  );
}

function viewOf(row: Destination): MappingsView {
  return { destinationId: row.id, configured: row.mappings !== null, mappings: row.mappings ?? defaultMappings(), version: row.version, revision: mappingsRevision(row.mappings) };
}

/** The audit detail: how many mappings, which were added, removed, changed or moved (ids only). */
function describeChange(before: Destination, after: Mapping[] | null): string {
  if (after === null) return 'mappings reset to the defaults';
  const old = before.mappings ?? defaultMappings();
  const oldById = new Map(old.map((m) => [m.id, m]));
  const newIds = new Set(after.map((m) => m.id));
  const added = after.filter((m) => !oldById.has(m.id)).map((m) => m.id);
  const removed = old.filter((m) => !newIds.has(m.id)).map((m) => m.id);
  const changed = after.filter((m) => oldById.has(m.id) && JSON.stringify(oldById.get(m.id)) !== JSON.stringify(m)).map((m) => m.id);
  const reordered = JSON.stringify(old.map((m) => m.id).filter((id) => newIds.has(id))) !== JSON.stringify(after.map((m) => m.id).filter((id) => oldById.has(id)));
  const parts = [`${after.length} mapping${after.length === 1 ? '' : 's'}`];
  if (added.length > 0) parts.push(`added: ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed: ${removed.join(', ')}`);
  if (changed.length > 0) parts.push(`changed: ${changed.join(', ')}`);
  if (reordered) parts.push('reordered');
  return parts.join('; ');
}
