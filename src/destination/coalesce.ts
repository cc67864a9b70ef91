import type { SegmentEvent } from '../segment/event.ts';
import { ingestWarningsOf } from '../segment/event-rules.ts';
import type { CallRecord } from '../sailthru/types.ts';
import type { ActionContext, DestinationMemory } from './action.ts';
import { performCartChanges, planCartChange, type PlannedCartChange } from './actions/cart-change.ts';
import { identifyPayload, performIdentify } from './actions/identify.ts';
import { anonymousIdOf, eventEmailOf, userIdOf } from './identity.ts';
import type { CompiledMapping } from './mappings/match.ts';
import { firstMatch } from './mappings/match.ts';
import { outcomeOf, type ActionResult, type Outcome } from './outcome.ts';
import { resolveEventSettings, skipReasonOf, type EventSettings } from './overrides.ts';
import { objectOf, textOf, type JsonObject } from './read.ts';
import { recordingPort, type SailthruPort } from './sailthru-port.ts';
import type { DestinationSettings } from './settings.ts';

/**
 * Coalescing a lane's backlog (issue 19; docs/decisions.md, "Coalescing a backlog"). When the
 * head of a lane holds several consecutive identifies, or several consecutive cart changes, of
 * one user, already queued, they are delivered with one Sailthru call:
 * - identifies: one POST /user whose keys, lists and vars are those of every identify merged in
 *   order, later wins, and whose optout is the last one given: what sending them one after
 *   another would leave on the profile (Sailthru replaces each var, key and list it is sent);
 * - cart changes (the mapping actions cart-add and cart-remove): one fetch, every change applied
 *   in order, one POST /purchase marked with the last applied change's messageId
 *   (cart-change.ts: performCartChanges).
 * Only events that would make the same kind of call for the same user with the same settings
 * are grouped: another action, a drop, a skip, per-event overrides that differ, another userId,
 * anonymousId or email, or an event that fails before any call, ends the group (that event is then
 * delivered on its own, in its turn). Events without a userId are never grouped (their identity
 * tie may redirect them).
 */

/** What the destination's deliver needs to run a group like one event. */
export interface CoalesceContext {
  settings: DestinationSettings;
  mappings: readonly CompiledMapping[];
  memory: DestinationMemory;
  sailthru: SailthruPort;
  now: () => number;
  redact: (text: string) => string;
  onMatched?: (mapping: CompiledMapping['mapping'] | null, outcome: Outcome) => void;
}

type Kind = 'identify' | 'cart';

interface Member {
  received: SegmentEvent;
  compiled: CompiledMapping;
  /** The event with its mapping's fields applied: what the action reads. */
  event: SegmentEvent;
  kind: Kind;
  userId: string;
  anonymousId: string | null;
  /** The email the event gives (identity.ts: eventEmailOf), if any. */
  email: string | undefined;
  eventSettings: EventSettings;
  /** Its own settings key: events whose overrides differ make different calls. */
  settingsKey: string;
  warnings: string[];
}

/**
 * Delivers the longest group of coalescible events at the head of `events` (a lane's queued
 * head, oldest first) with one call, returning one Outcome per event of the group, in order; null
 * when the head event has none to go with (then deliver it alone).
 */
export async function deliverCoalesced(cx: CoalesceContext, events: readonly SegmentEvent[]): Promise<Outcome[] | null> {
  const members = groupAtHead(cx, events);
  if (members.length < 2) return null;
  const calls: CallRecord[] = [];
  const shared: string[] = [];
  const lead = members[0]!;
  const ctxOf = (m: Member, warn: (...messages: string[]) => void): ActionContext => ({
    event: m.event,
    extid: m.userId,
    settings: cx.settings,
    eventSettings: m.eventSettings,
    redirected: false,
    sailthru: recordingPort(cx.sailthru, calls),
    memory: cx.memory,
    now: cx.now,
    warn,
  });
  const warnShared = (...messages: string[]) => shared.push(...messages);

  let group = members;
  let results: ActionResult[];
  if (lead.kind === 'identify') {
    // The last identify addresses the profile (all share its userId and anonymousId).
    const ctx = ctxOf(members[members.length - 1]!, warnShared);
    // Each event's own warnings (an implausible email, a list or optout ignored) on that event only.
    for (const m of members) m.warnings.push(...identifyPayload(m.event, m.eventSettings).warnings);
    const result = await performIdentify(ctx, (mergeFrom) => ({ payload: mergedIdentifyPayload(members, mergeFrom).payload, warnings: [] }));
    results = members.map(() => result);
  } else {
    // A change that cannot be made (no product id, a bad quantity) ends the group before it.
    const planned: PlannedCartChange[] = [];
    for (const m of members) {
      const change = planCartChange(ctxOf(m, (...messages) => m.warnings.push(...messages)), m.compiled.action.id === 'cart-add' ? 'add' : 'remove');
      if ('result' in change) break;
      planned.push(change);
    }
    if (planned.length < 2) return null;
    group = members.slice(0, planned.length);
    // The first addition's event brings the email to attach to a profile that has none.
    const attacher = group.find((m) => m.compiled.action.id === 'cart-add');
    results = await performCartChanges(ctxOf(attacher ?? lead, warnShared), planned, attacher !== undefined);
  }

  const messageIds = group.map((m) => textOf(m.received.messageId) ?? '(no messageId)');
  return group.map((m, index) => {
    // Not "delivered": a member may be skipped or failed (a removal of a product not in the cart).
    const note = `coalesced: ${group.length} queued events of this lane handled with one Sailthru call (messageIds ${messageIds.join(', ')}; this event is ${index + 1} of ${group.length})`;
    const warnings = [...ingestWarningsOf(m.received), ...m.warnings, ...shared, note];
    const outcome: Outcome = { ...outcomeOf(results[index]!, calls, warnings, cx.redact), coalesced: { messageIds, index } };
    // Per-mapping call counts count the group's calls once.
    cx.onMatched?.(m.compiled.mapping, index === 0 ? outcome : { ...outcome, calls: [] });
    return outcome;
  });
}

/** The head events that can go in one call with the first, with what each needs (maybe just the first). */
function groupAtHead(cx: CoalesceContext, events: readonly SegmentEvent[]): Member[] {
  const members: Member[] = [];
  for (const received of events) {
    const member = memberOf(cx, received);
    if (member === null) break;
    const first = members[0];
    if (first !== undefined && !sameGroup(first, member)) break;
    members.push(member);
  }
  return members;
}

function sameGroup(a: Member, b: Member): boolean {
  if (a.kind !== b.kind || a.userId !== b.userId || a.settingsKey !== b.settingsKey) return false;
  // Events that give another email go on their own (docs/decisions.md, "Coalescing a backlog").
  // An identify's address may belong to another profile, which its POST merges in (keysconflict)
  // even when the next identify changes the address again, or when an identify before it, without
  // one, changed lists or optout that the merge then overrides; an identify without an email after
  // the first gave one changes neither. A cart change's address is attached to a profile that has
  // none, and a change without one fails there alone: carts need the same email (or none) in each.
  if (a.email !== b.email && !(a.kind === 'identify' && b.email === undefined)) return false;
  // An identify's anonymousId decides its merge; a different mapping maps its traits otherwise.
  if (a.kind === 'identify') return a.anonymousId === b.anonymousId && a.compiled === b.compiled;
  return true;
}

/** What index.ts's run does before the action, for an event that may be grouped; null when it may not. */
function memberOf(cx: CoalesceContext, received: SegmentEvent): Member | null {
  if (objectOf(received) === undefined || skipReasonOf(received) !== null) return null;
  const match = firstMatch(cx.mappings, received);
  if (match === null) return null;
  const id = match.compiled.action.id;
  const kind: Kind | null = id === 'profile-update' ? 'identify' : id === 'cart-add' || id === 'cart-remove' ? 'cart' : null;
  if (kind === null) return null;
  // A userId is never redirected by an identity tie (identity-links.ts), so no lookup is needed here.
  if (userIdOf(received) === null) return null;
  const event = match.compiled.map(received).event;
  const userId = userIdOf(event);
  if (userId === null) return null;
  const { eventSettings, warnings } = resolveEventSettings(event, cx.settings);
  return {
    received,
    compiled: match.compiled,
    event,
    kind,
    userId,
    anonymousId: anonymousIdOf(event),
    email: eventEmailOf(event),
    eventSettings,
    settingsKey: JSON.stringify(eventSettings),
    warnings,
  };
}

/**
 * One POST /user for several identifies of one user, in order: keys, lists and vars merged key by
 * key (later wins), optout_email the last one given; the rest (id, key, keysconflict) is the same
 * in each. Pure.
 */
export function mergedIdentifyPayload(
  members: ReadonlyArray<{ event: SegmentEvent; eventSettings: EventSettings }>,
  mergeFrom?: string,
): { payload: JsonObject; warnings: string[] } {
  const parts = members.map((m) => identifyPayload(m.event, m.eventSettings, mergeFrom));
  const payload: JsonObject = { ...parts[parts.length - 1]!.payload };
  for (const key of ['keys', 'lists', 'vars'] as const) {
    const merged: JsonObject = {};
    for (const part of parts) {
      // defineProperty, not assignment: a trait named __proto__ stays a plain key.
      for (const [k, v] of Object.entries(objectOf(part.payload[key]) ?? {})) Object.defineProperty(merged, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    if (Object.keys(merged).length > 0) payload[key] = merged;
    else delete payload[key];
  }
  const optout = parts.map((p) => p.payload.optout_email).filter((o) => o !== undefined).at(-1);
  if (optout !== undefined) payload.optout_email = optout;
  return { payload, warnings: parts.flatMap((p) => p.warnings) };
}
