import type { AppendResult, IngestBatch } from './ingest.ts';
import type * as S from './store.ts';

/**
 * Both stores are a context and a table of operations, each a function of that context (one file
 * per group of operations, in sqlite/ and postgres/, graphile-worker style); this class is where
 * every EventStore method meets its operation, once for both. A new operation: a function in a
 * file of each store, its entry in each table, a method here and in store.ts.
 */

type OperationName = Exclude<keyof S.EventStore, 'migrate' | 'close'>;

/** Every EventStore method but migrate and close, taking the store's context first. */
export type StoreOperations<C> = {
  [K in OperationName]: S.EventStore[K] extends (...args: infer A) => infer R ? (ctx: C, ...args: A) => R : never;
};

export abstract class OperationStore<C> implements S.EventStore {
  /** What the operations run with; set by the store's constructor. */
  protected abstract readonly ctx: C;

  protected constructor(private readonly operations: StoreOperations<C>) {}

  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;

  // Not async (nor any other method here): an append's batch must not outlive its hand-over to
  // the database (see sqlite/append.ts).
  append(batch: IngestBatch): Promise<AppendResult> {
    return this.operations.append(this.ctx, batch);
  }
  backlog(): Promise<number> {
    return this.operations.backlog(this.ctx);
  }
  checkWritable(): Promise<void> {
    return this.operations.checkWritable(this.ctx);
  }

  // ── lane queue ───────────────────────────────────────────────────────

  claimLanes(workerId: string, limit: number, leaseMs: number, window?: number): Promise<S.LaneLease[]> {
    return this.operations.claimLanes(this.ctx, workerId, limit, leaseMs, window);
  }
  head(lane: S.LaneRef): Promise<S.QueuedEvent | null> {
    return this.operations.head(this.ctx, lane);
  }
  settle(input: S.SettleInput): Promise<S.SettleResult> {
    return this.operations.settle(this.ctx, input);
  }
  settleLane(input: S.LaneSettlement): Promise<S.LaneSettleResult> {
    return this.operations.settleLane(this.ctx, input);
  }
  renewLeases(workerId: string, lanes: S.LaneRef[], leaseMs: number): Promise<S.LaneRef[]> {
    return this.operations.renewLeases(this.ctx, workerId, lanes, leaseMs);
  }
  releaseLane(workerId: string, lane: S.LaneRef): Promise<void> {
    return this.operations.releaseLane(this.ctx, workerId, lane);
  }
  earlierUnsettled(destinationId: string, laneKeys: string[], beforeId: number): Promise<S.EarlierUnsettled[]> {
    return this.operations.earlierUnsettled(this.ctx, destinationId, laneKeys, beforeId);
  }
  deferLane(workerId: string, lane: S.LaneRef, dueAt: number): Promise<void> {
    return this.operations.deferLane(this.ctx, workerId, lane, dueAt);
  }
  wakeRetryingLanes(destinationId: string): Promise<number> {
    return this.operations.wakeRetryingLanes(this.ctx, destinationId);
  }
  onWorkAvailable(listener: () => void): () => void {
    return this.operations.onWorkAvailable(this.ctx, listener);
  }

  // ── delivery log ─────────────────────────────────────────────────────

  backlogByDestination(): Promise<S.DestinationBacklog[]> {
    return this.operations.backlogByDestination(this.ctx);
  }
  queuedKinds(destinationId: string, sample: number): Promise<S.QueuedKinds> {
    return this.operations.queuedKinds(this.ctx, destinationId, sample);
  }
  search(query: S.EventQuery): Promise<S.EventPage> {
    return this.operations.search(this.ctx, query);
  }
  getEvent(id: number): Promise<S.EventDetail | null> {
    return this.operations.getEvent(this.ctx, id);
  }
  retryDeadLetters(selector: S.DeadLetterSelector): Promise<number> {
    return this.operations.retryDeadLetters(this.ctx, selector);
  }
  dropDeadLetters(selector: S.DeadLetterSelector, droppedBy: string): Promise<number> {
    return this.operations.dropDeadLetters(this.ctx, selector, droppedBy);
  }
  prune(options: S.PruneOptions): Promise<number> {
    return this.operations.prune(this.ctx, options);
  }
  deadLetterReasons(filter: Omit<S.EventFilter, 'status'>): Promise<S.DeadLetterReason[]> {
    return this.operations.deadLetterReasons(this.ctx, filter);
  }
  recentActivity(after: S.ActivityCursor | null, limit: number): Promise<S.LogActivity> {
    return this.operations.recentActivity(this.ctx, after, limit);
  }

  // ── chart series ─────────────────────────────────────────────────────

  saveSeriesBuckets(rows: S.SeriesBucket[], pruneBefore: Array<{ resolutionMs: number; before: number }>): Promise<void> {
    return this.operations.saveSeriesBuckets(this.ctx, rows, pruneBefore);
  }
  readSeriesBuckets(resolutionMs: number, from: number, to: number): Promise<S.SeriesBucket[]> {
    return this.operations.readSeriesBuckets(this.ctx, resolutionMs, from, to);
  }

  // ── per-mapping cost figures ─────────────────────────────────────────

  saveMappingBuckets(rows: S.SeriesBucket[], pruneBefore: Array<{ resolutionMs: number; before: number }>): Promise<void> {
    return this.operations.saveMappingBuckets(this.ctx, rows, pruneBefore);
  }
  readMappingBuckets(resolutionMs: number, from: number, to: number): Promise<S.SeriesBucket[]> {
    return this.operations.readMappingBuckets(this.ctx, resolutionMs, from, to);
  }

  // ── destinations ─────────────────────────────────────────────────────

  createDestination(input: S.NewDestination): Promise<S.Destination> {
    return this.operations.createDestination(this.ctx, input);
  }
  getDestination(id: string): Promise<S.Destination | null> {
    return this.operations.getDestination(this.ctx, id);
  }
  listDestinations(): Promise<S.Destination[]> {
    return this.operations.listDestinations(this.ctx);
  }
  updateDestination(id: string, patch: S.DestinationPatch): Promise<S.Destination | null> {
    return this.operations.updateDestination(this.ctx, id, patch);
  }
  deleteDestination(id: string): Promise<boolean> {
    return this.operations.deleteDestination(this.ctx, id);
  }
  pauseDestination(id: string, reason: string): Promise<void> {
    return this.operations.pauseDestination(this.ctx, id, reason);
  }
  resumeDestination(id: string): Promise<void> {
    return this.operations.resumeDestination(this.ctx, id);
  }
  resealSecrets(): Promise<number> {
    return this.operations.resealSecrets(this.ctx);
  }

  // ── write keys ───────────────────────────────────────────────────────

  createWriteKey(destinationId: string, label: string): Promise<S.CreatedWriteKey> {
    return this.operations.createWriteKey(this.ctx, destinationId, label);
  }
  importWriteKey(destinationId: string, key: string, label: string): Promise<S.WriteKeyRecord> {
    return this.operations.importWriteKey(this.ctx, destinationId, key, label);
  }
  revokeWriteKey(id: string): Promise<boolean> {
    return this.operations.revokeWriteKey(this.ctx, id);
  }
  listWriteKeys(destinationId?: string): Promise<S.WriteKeyRecord[]> {
    return this.operations.listWriteKeys(this.ctx, destinationId);
  }
  recordWriteKeyUse(keys: string[], at: Date): Promise<void> {
    return this.operations.recordWriteKeyUse(this.ctx, keys, at);
  }
  destinationFor(writeKey: string): Promise<string | null> {
    return this.operations.destinationFor(this.ctx, writeKey);
  }

  // ── console sessions ─────────────────────────────────────────────────

  createSession(record: S.ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void> {
    return this.operations.createSession(this.ctx, record, staleBefore, keep);
  }
  getSession(idHash: string): Promise<S.ConsoleSessionRecord | null> {
    return this.operations.getSession(this.ctx, idHash);
  }
  touchSession(idHash: string, lastSeen: number): Promise<void> {
    return this.operations.touchSession(this.ctx, idHash, lastSeen);
  }
  updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean> {
    return this.operations.updateSessionState(this.ctx, idHash, expected, state, lastSeen);
  }
  deleteSession(idHash: string): Promise<void> {
    return this.operations.deleteSession(this.ctx, idHash);
  }

  // ── wrong admin tokens ───────────────────────────────────────────────

  recordSignInFailure(client: string, at: number, forgetBefore: number): Promise<void> {
    return this.operations.recordSignInFailure(this.ctx, client, at, forgetBefore);
  }
  countSignInFailures(client: string, since: number): Promise<number> {
    return this.operations.countSignInFailures(this.ctx, client, since);
  }
  clearSignInFailures(client: string): Promise<void> {
    return this.operations.clearSignInFailures(this.ctx, client);
  }

  // ── identity links ───────────────────────────────────────────────────

  linkIdentity(destinationId: string, anonymousId: string, userId: string): Promise<void> {
    return this.operations.linkIdentity(this.ctx, destinationId, anonymousId, userId);
  }
  linkedUserId(destinationId: string, anonymousId: string): Promise<string | null> {
    return this.operations.linkedUserId(this.ctx, destinationId, anonymousId);
  }
  forgetIdentities(destinationId: string, userId: string): Promise<number> {
    return this.operations.forgetIdentities(this.ctx, destinationId, userId);
  }

  // ── profiles sent by identify ────────────────────────────────────────

  lastSentProfile(destinationId: string, extid: string): Promise<S.SentProfileRecord | null> {
    return this.operations.lastSentProfile(this.ctx, destinationId, extid);
  }
  recordSentProfile(destinationId: string, extid: string, record: S.SentProfileRecord): Promise<void> {
    return this.operations.recordSentProfile(this.ctx, destinationId, extid, record);
  }
  forgetSentProfiles(destinationId: string, extids: string[]): Promise<number> {
    return this.operations.forgetSentProfiles(this.ctx, destinationId, extids);
  }
  forgetSentProfilesOfUser(destinationId: string, extid: string): Promise<number> {
    return this.operations.forgetSentProfilesOfUser(this.ctx, destinationId, extid);
  }

  // ── cart markers ─────────────────────────────────────────────────────

  pendingAfterInLane(destinationId: string, markers: string[], afterMessageId: string): Promise<string | null> {
    return this.operations.pendingAfterInLane(this.ctx, destinationId, markers, afterMessageId);
  }

  // ── audit log ────────────────────────────────────────────────────────

  recordAudit(input: S.AuditRecordInput): Promise<S.AuditRecord> {
    return this.operations.recordAudit(this.ctx, input);
  }
  listAudit(query: S.AuditQuery): Promise<S.AuditPage> {
    return this.operations.listAudit(this.ctx, query);
  }
  pruneAudit(olderThan: Date): Promise<number> {
    return this.operations.pruneAudit(this.ctx, olderThan);
  }
}
