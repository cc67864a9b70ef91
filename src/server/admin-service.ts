import type { AppConfig } from '../config.ts';
import type { DestinationRegistry } from '../delivery/destinations.ts';
import type { IngestSink } from '../delivery/ingest.ts';
import type { BacklogForecaster } from '../delivery/backlog-forecaster.ts';
import type { AuditPage, AuditQuery, DeadLetterSelector, Destination, DestinationBacklog, EventFilter, EventQuery, EventStore } from '../delivery/store.ts';
import { SECRET_SETTING_KEYS, type DestinationSettings } from '../destination/settings.ts';
import { normalizeWebhookBody } from '../segment/index.ts';
import { AdminError, badRequest, invalid, keepingSecrets, notFound } from './admin-errors.ts';
import { parseTestWait, type DestinationPatchInput, type NewDestinationInput, type TestEventInput } from './admin-input.ts';
import { changedKeys, selectorDetails, type Actor, type AuditTrail } from './audit.ts';
import { checkedSettings, destinationName, mergeSettings, settingsObject } from './admin-settings.ts';
import {
  destinationView,
  eventDetailView,
  eventSummaryView,
  writeKeyView,
  type BacklogView,
  type DestinationView,
  type EventDetailView,
  type EventSummaryView,
  type Overview,
  type TestEventResult,
  type WriteKeyView,
} from './admin-views.ts';
import { testConnection, type ConnectionTestResult } from './connection-test.ts';
import type { RefusalSummary } from './ingest-refusals.ts';
import { markTestEvent } from './test-events.ts';
import type { Series, SeriesSampler } from './series-sampler.ts';
import type { SeriesRange } from './series-buckets.ts';

/**
 * Every operator action, once: the admin JSON API and the console both call these, so each
 * console action exists in the API with the same checks and the same answers.
 */

export type { Overview, TestEventResult, Totals } from './admin-views.ts';

const DESTINATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_LABEL = 100;
const POLL_MS = 100;

export interface AdminServiceDeps {
  store: EventStore;
  registry: Pick<DestinationRegistry, 'gateFor'>;
  /** Where console/API-made events enter: the metrics-counting sink, as ingest uses. */
  sink: IngestSink;
  sampler: Pick<SeriesSampler, 'series'>;
  config: Pick<AppConfig, 'destinations'>;
  /** Records who did what; refuses viewers' actions. */
  audit: AuditTrail;
  /** The admin tokens (for the response filter). */
  adminTokens: () => string[];
  /** Connection tests' timeout, ms (default 5 s). */
  connectionTimeoutMs?: number;
  /** Requests the ingest of this process refused, by error code. */
  refusals?: { summary(): RefusalSummary[] };
  forecaster?: Pick<BacklogForecaster, 'forecast'>; // when each backlog clears
}

export class AdminService {
  constructor(private readonly deps: AdminServiceDeps) {}

  // ── overview and charts ─────────────────────────────────────────────

  async overview(which: SeriesRange | number = '1h'): Promise<Overview> {
    const destinations = await this.listDestinations();
    const backlogs = destinations.map((d) => d.backlog);
    const ages = backlogs.map((b) => b.oldestUnsettledAgeMs).filter((a): a is number => a !== null);
    return {
      destinations,
      totals: {
        destinations: destinations.length,
        paused: destinations.filter((d) => d.paused).length,
        unsettled: sumOf(backlogs, 'unsettled'),
        retrying: sumOf(backlogs, 'retrying'),
        deadLetters: sumOf(backlogs, 'failed'),
        oldestUnsettledAgeMs: ages.length === 0 ? null : Math.max(...ages),
      },
      series: await this.series(which),
      refused: this.deps.refusals?.summary() ?? [],
    };
  }

  /** A range (1h, 24h, 7d), or the last 1–60 minutes. */
  series(which: SeriesRange | number = '1h'): Promise<Series> {
    return this.deps.sampler.series(which);
  }

  // ── destinations ─────────────────────────────────────────────────────

  async listDestinations(): Promise<DestinationView[]> {
    const [rows, backlogs] = await Promise.all([this.deps.store.listDestinations(), this.deps.store.backlogByDestination()]);
    const byId = new Map(backlogs.map((b) => [b.destinationId, b]));
    return Promise.all(rows.map((d) => this.withForecast(d, this.view(d, byId.get(d.id)))));
  }

  async getDestination(id: string): Promise<DestinationView> {
    const d = await this.destinationRow(id);
    const backlog = (await this.deps.store.backlogByDestination()).find((b) => b.destinationId === id);
    return this.withForecast(d, this.view(d, backlog));
  }

  async createDestination(actor: Actor, input: NewDestinationInput): Promise<DestinationView> {
    this.deps.audit.requireAdmin(actor);
    const problems: string[] = [];
    let id: string | undefined;
    if (input.id !== undefined && input.id !== null && input.id !== '') {
      if (typeof input.id !== 'string' || !DESTINATION_ID.test(input.id)) problems.push('id must be 1-64 letters, digits, "-" or "_"');
      else id = input.id;
    }
    const name = destinationName(input.name, problems, true)!;
    const settings = checkedSettings(settingsObject(input.settings ?? {}, problems), problems);
    if (problems.length > 0 || settings === null) throw invalid(problems);
    if (id !== undefined && (await this.deps.store.getDestination(id))) throw new AdminError('ADMIN_ALREADY_EXISTS', `A destination with id "${id}" already exists`);
    const created = await keepingSecrets(() => this.deps.store.createDestination({ ...(id !== undefined ? { id } : {}), name, settings }));
    await this.deps.audit.record(actor, 'destination.create', { target: created.id });
    return this.view(created, undefined);
  }

  /** A settings change bumps the version (the registry rebuilds) and resumes a paused destination. */
  async updateDestination(actor: Actor, id: string, patch: DestinationPatchInput): Promise<DestinationView> {
    this.deps.audit.requireAdmin(actor);
    const current = await this.destinationRow(id);
    const problems: string[] = [];
    const name = destinationName(patch.name, problems, false);
    let settings: DestinationSettings | null | undefined;
    if (patch.settings !== undefined) {
      const changes = settingsObject(patch.settings, problems);
      settings = checkedSettings(mergeSettings(current.settings, changes), problems);
    }
    if (problems.length > 0 || settings === null) throw invalid(problems);
    const updated = await keepingSecrets(() =>
      this.deps.store.updateDestination(id, {
        ...(name !== undefined ? { name } : {}),
        ...(settings !== undefined ? { settings } : {}),
      }),
    );
    if (!updated) throw notFound(`Destination "${id}"`);
    const changed = [
      ...(name !== undefined && name !== current.name ? ['name'] : []),
      ...(settings ? changedKeys(current.settings, settings) : []),
    ];
    // The names of the fields changed, never their values (a secret among them).
    await this.deps.audit.record(actor, 'settings.change', { target: id, detail: changed.length ? `changed: ${changed.join(', ')}` : 'nothing changed' });
    return this.getDestination(id);
  }

  async deleteDestination(actor: Actor, id: string): Promise<void> {
    this.deps.audit.requireAdmin(actor);
    if (!(await this.deps.store.deleteDestination(id))) throw notFound(`Destination "${id}"`);
    await this.deps.audit.record(actor, 'destination.delete', { target: id });
  }

  async pause(actor: Actor, id: string, reason: unknown): Promise<DestinationView> {
    this.deps.audit.requireAdmin(actor);
    await this.destinationRow(id);
    const why = typeof reason === 'string' && reason.trim() !== '' ? reason.trim().slice(0, 500) : 'paused by an operator';
    await this.deps.store.pauseDestination(id, why);
    await this.deps.audit.record(actor, 'destination.pause', { target: id, detail: why });
    return this.getDestination(id);
  }

  async resume(actor: Actor, id: string): Promise<DestinationView> {
    this.deps.audit.requireAdmin(actor);
    await this.destinationRow(id);
    await this.deps.store.resumeDestination(id);
    await this.deps.audit.record(actor, 'destination.resume', { target: id });
    return this.getDestination(id);
  }

  /**
   * One signed call with the stored settings, or with `override` applied over them (to try
   * settings before saving; an absent or empty secret keeps the stored one).
   */
  async testConnection(actor: Actor, id: string, override?: unknown): Promise<ConnectionTestResult> {
    // A signed call with the account's credentials: an action, not a read.
    this.deps.audit.requireAdmin(actor);
    const current = await this.destinationRow(id);
    const problems: string[] = [];
    const changes = override === undefined || override === null ? {} : settingsObject(override, problems);
    const settings = checkedSettings(mergeSettings(current.settings, changes), problems);
    if (problems.length > 0 || settings === null) throw invalid(problems);
    return testConnection(settings, {
      gate: this.deps.registry.gateFor(settings),
      ...(this.deps.connectionTimeoutMs !== undefined ? { timeoutMs: this.deps.connectionTimeoutMs } : {}),
    });
  }

  // ── write keys ───────────────────────────────────────────────────────

  async listWriteKeys(destinationId: string): Promise<WriteKeyView[]> {
    await this.destinationRow(destinationId);
    return (await this.deps.store.listWriteKeys(destinationId)).map(writeKeyView);
  }

  /** The plain key is in this answer only: the store keeps its hash. */
  async createWriteKey(actor: Actor, destinationId: string, label: unknown): Promise<{ key: string; writeKey: WriteKeyView }> {
    this.deps.audit.requireAdmin(actor);
    await this.destinationRow(destinationId);
    const text = typeof label === 'string' ? label.trim() : '';
    if (label !== undefined && label !== null && typeof label !== 'string') throw invalid(['label must be text']);
    if (text.length > MAX_LABEL) throw invalid([`label is longer than ${MAX_LABEL} characters`]);
    const created = await this.deps.store.createWriteKey(destinationId, text || 'created in the console');
    await this.deps.audit.record(actor, 'write-key.create', { target: created.record.id, detail: `"${created.record.label}" for ${destinationId}` });
    return { key: created.key, writeKey: writeKeyView(created.record) };
  }

  /** The key's record, for a confirmation that names it (404 when there is none). */
  async writeKey(keyId: string): Promise<WriteKeyView> {
    const record = (await this.deps.store.listWriteKeys()).find((k) => k.id === keyId);
    if (!record) throw notFound(`Write key "${keyId}"`);
    return writeKeyView(record);
  }

  async revokeWriteKey(actor: Actor, keyId: string): Promise<WriteKeyView> {
    this.deps.audit.requireAdmin(actor);
    const record = (await this.deps.store.listWriteKeys()).find((k) => k.id === keyId);
    if (!record) throw notFound(`Write key "${keyId}"`);
    if (!(await this.deps.store.revokeWriteKey(keyId))) throw new AdminError('ADMIN_ALREADY_REVOKED', `Write key "${keyId}" is already revoked`);
    const after = (await this.deps.store.listWriteKeys(record.destinationId)).find((k) => k.id === keyId) ?? record;
    await this.deps.audit.record(actor, 'write-key.revoke', { target: keyId, detail: `"${record.label}" of ${record.destinationId}` });
    return writeKeyView(after);
  }

  // ── delivery log ─────────────────────────────────────────────────────

  async searchEvents(query: EventQuery): Promise<{ events: EventSummaryView[]; nextBefore: number | null }> {
    const page = await this.deps.store.search(query);
    return { events: page.events.map(eventSummaryView), nextBefore: page.nextBeforeId };
  }

  async getEvent(id: number): Promise<EventDetailView> {
    const detail = await this.deps.store.getEvent(id);
    if (!detail) throw notFound(`Event ${id}`);
    return eventDetailView(detail.event, detail.attempts);
  }

  // ── dead letters ─────────────────────────────────────────────────────

  async retryDeadLetters(actor: Actor, selector: DeadLetterSelector): Promise<number> {
    this.deps.audit.requireAdmin(actor);
    const count = await this.deps.store.retryDeadLetters(selector);
    await this.deps.audit.record(actor, 'dead-letters.retry', { ...selectorDetails(selector), count });
    return count;
  }

  /** Dropped dead letters stay in the log (state `dropped`, by whom, when) until retention. */
  async dropDeadLetters(actor: Actor, selector: DeadLetterSelector): Promise<number> {
    this.deps.audit.requireAdmin(actor);
    const count = await this.deps.store.dropDeadLetters(selector, actor.name);
    await this.deps.audit.record(actor, 'dead-letters.drop', { ...selectorDetails(selector), count });
    return count;
  }

  /** How many dead letters a filter covers now (what a confirmation names). */
  async countDeadLetters(filter: Omit<EventFilter, 'status'>): Promise<number> {
    let count = 0;
    let beforeId: number | undefined;
    for (;;) {
      const page = await this.deps.store.search({ ...filter, status: 'failed', limit: 500, ...(beforeId !== undefined ? { beforeId } : {}) });
      count += page.events.length;
      if (page.nextBeforeId === null) return count;
      beforeId = page.nextBeforeId;
    }
  }

  async retryEvent(actor: Actor, id: number): Promise<number> {
    this.deps.audit.requireAdmin(actor);
    await this.deadLetter(id);
    const count = await this.deps.store.retryDeadLetters({ ids: [id] });
    await this.deps.audit.record(actor, 'event.retry', { target: `event ${id}`, count });
    return count;
  }

  async dropEvent(actor: Actor, id: number): Promise<number> {
    this.deps.audit.requireAdmin(actor);
    await this.deadLetter(id);
    const count = await this.deps.store.dropDeadLetters({ ids: [id] }, actor.name);
    await this.deps.audit.record(actor, 'event.drop', { target: `event ${id}`, count });
    return count;
  }

  // ── history ──────────────────────────────────────────────────────────

  audit(query: AuditQuery): Promise<AuditPage> {
    return this.deps.store.listAudit(query);
  }

  // ── events made here ─────────────────────────────────────────────────

  /**
   * SPEC.md §7: a Segment `delete` for the user, appended to its lane, so events of that user
   * already queued are delivered before the deletion.
   */
  async deleteUser(actor: Actor, userId: string, destination: unknown): Promise<{ eventId?: number; messageId: string; destinationId: string }> {
    this.deps.audit.requireAdmin(actor);
    const id = userId.trim();
    if (id === '' || id.length > 500) throw invalid(['userId must be 1-500 characters']);
    const destinationId = await this.resolveDestination(destination);
    const stored = await this.appendOne(destinationId, { type: 'delete', userId: id });
    await this.deps.audit.record(actor, 'user.delete', { target: `user ${id} of ${destinationId}`, ...(stored.eventId !== undefined ? { detail: `event ${stored.eventId}` } : {}) });
    return { ...(stored.eventId !== undefined ? { eventId: stored.eventId } : {}), messageId: stored.messageId, destinationId };
  }

  /** The event tester: normalise as ingest does, append, and wait for the first attempt to end. */
  async sendTestEvent(actor: Actor, input: TestEventInput): Promise<TestEventResult> {
    this.deps.audit.requireAdmin(actor);
    const { event } = input;
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      throw invalid(['event must be one Segment event as a JSON object']);
    }
    if (Array.isArray((event as { batch?: unknown }).batch)) throw invalid(['event must be one event, not a batch']);
    const waitMs = parseTestWait(input.waitMs);
    const destinationId = await this.resolveDestination(input.destination);
    const stored = await this.appendOne(destinationId, markTestEvent(event as Record<string, unknown>));
    await this.deps.audit.record(actor, 'test-event.send', { target: destinationId, ...(stored.eventId !== undefined ? { detail: `event ${stored.eventId}` } : {}) });
    if (stored.eventId === undefined) throw new AdminError('ADMIN_EVENT_NOT_VISIBLE_YET', 'The event was stored but cannot be found in the delivery log yet; search for it by messageId');
    const deadline = Date.now() + waitMs;
    for (;;) {
      const detail = await this.getEvent(stored.eventId);
      const settled = detail.state !== 'pending' || detail.attempts > 0;
      const destinationRow = await this.deps.store.getDestination(destinationId);
      const pausedReason = destinationRow?.paused ? (destinationRow.pauseReason ?? 'paused') : null;
      if (settled || pausedReason !== null || Date.now() >= deadline) {
        return { event: detail, settled, duplicate: stored.duplicate, pausedReason };
      }
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  // ── secrets (for the output filter) ──────────────────────────────────

  /** Every secret this process knows, so responses can be checked for them. */
  async secrets(): Promise<string[]> {
    const rows = await this.deps.store.listDestinations();
    const out = rows
      .flatMap((d) => SECRET_SETTING_KEYS.map((key) => (d.settings as Partial<DestinationSettings> | undefined)?.[key]))
      .filter((s): s is string => typeof s === 'string');
    out.push(...this.deps.adminTokens());
    for (const d of this.deps.config.destinations) {
      if (d.webhookSecret) out.push(d.webhookSecret);
      out.push(...d.writeKeys);
    }
    return out;
  }

  // ── helpers ──────────────────────────────────────────────────────────

  private async withForecast(d: Destination, view: DestinationView): Promise<DestinationView> {
    return this.deps.forecaster ? { ...view, forecast: await this.deps.forecaster.forecast(d, view.backlog.unsettled) } : view;
  }
  private view(d: Destination, backlog: DestinationBacklog | undefined): DestinationView {
    return destinationView(d, backlog, this.deps.config.destinations.some((x) => x.id === d.id));
  }

  private async destinationRow(id: string): Promise<Destination> {
    const d = await this.deps.store.getDestination(id);
    if (!d) throw notFound(`Destination "${id}"`);
    return d;
  }

  private async deadLetter(id: number): Promise<void> {
    const detail = await this.deps.store.getEvent(id);
    if (!detail) throw notFound(`Event ${id}`);
    if (detail.event.status !== 'failed') {
      throw new AdminError('ADMIN_NOT_A_DEAD_LETTER', `Event ${id} is ${detail.event.status}: only dead letters (failed) can be retried or dropped`);
    }
  }

  private async resolveDestination(destination: unknown): Promise<string> {
    if (typeof destination === 'string' && destination.trim() !== '') {
      return (await this.destinationRow(destination.trim())).id;
    }
    if (destination !== undefined && destination !== null && destination !== '') throw invalid(['destination must be a destination id']);
    const all = await this.deps.store.listDestinations();
    if (all.length === 1) return all[0]!.id;
    if (all.length === 0) throw new AdminError('ADMIN_NO_DESTINATION', 'There is no destination yet: create one first');
    throw invalid([`destination is required when there are several (${all.map((d) => d.id).join(', ')})`]);
  }

  private async appendOne(destinationId: string, body: Record<string, unknown>): Promise<{ eventId?: number; messageId: string; duplicate: boolean }> {
    const receivedAt = new Date();
    // Whoever reaches the admin service holds an admin token (admin-auth.ts).
    const normalized = normalizeWebhookBody(body, receivedAt, { authenticatedBy: 'admin' });
    if (!normalized.ok) throw badRequest(normalized.error, [normalized.error]);
    const rejection = normalized.rejected[0];
    if (rejection) throw badRequest(`The event was refused: ${rejection.reason}`, [rejection.reason]);
    const event = normalized.accepted[0];
    if (!event) throw badRequest('No event to send');
    const result = await this.deps.sink.append({ destinationId, accepted: [event], rejected: [], receivedAt });
    const found = await this.deps.store.search({ destinationId, messageId: event.messageId, limit: 1 });
    const eventId = found.events[0]?.id;
    return { ...(eventId !== undefined ? { eventId } : {}), messageId: event.messageId, duplicate: result.duplicates > 0 };
  }
}

function sumOf(backlogs: BacklogView[], key: 'unsettled' | 'retrying' | 'failed'): number {
  return backlogs.reduce((n, b) => n + b[key], 0);
}
