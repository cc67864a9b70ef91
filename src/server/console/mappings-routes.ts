import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ACTION_IDS, type ActionId, type Mapping } from '../../destination/mappings/schema.ts';
import { AdminError, notFound } from '../admin-errors.ts';
import { parseEventId } from '../admin-input.ts';
import { confirmPage, isConfirmed } from './confirm.ts';
import type { ConsoleKit } from './kit.ts';
import { formValuesFromForm, formValuesOfMapping, mappingOf, newFormValues, newMappingId, type MappingFormValues } from './mapping-form.ts';
import { mappingFormPage } from './mapping-form-page.ts';
import { mappingsPage } from './mappings-page.ts';
import type { MappingsConsolePort } from './mappings-port.ts';
import { mappingTesterPage, type MappingTesterState } from './mappings-tester.ts';

const RECENT_EVENTS = 8;

/**
 * The console's mappings pages (docs/console.md, "Mappings"): the list with its cost, a form per
 * mapping, reorder, enable/disable, delete, and the tester. Every change saves the whole list
 * through the port (the admin service: validated, audited, admins only).
 */
export function mappingsRoutes(app: FastifyInstance, kit: ConsoleKit, port: MappingsConsolePort): void {
  const { service, send, session, actor, flashOf, redirect, form, str, param } = kit;
  const base = (id: string) => `/destinations/${encodeURIComponent(id)}/mappings`;
  const canEdit = (request: FastifyRequest) => actor(request).role === 'admin';

  app.get('/destinations/:id/mappings', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    const destination = await service.getDestination(id);
    const [{ mappings, configured, revision }, cost] = await Promise.all([port.list(id), port.cost(id)]);
    return send(reply, mappingsPage({ destination, mappings, configured, cost, noMatchKey: port.noMatchKey, canEdit: canEdit(request), revision }, s.csrf, flashOf(s)));
  });

  /** The revision the page posting this form showed; undefined from an older page or a hand-made post (then unconditional). */
  const revisionOf = (request: FastifyRequest): string | undefined => str(form(request), 'revision') || undefined;
  const isChanged = (error: unknown): boolean => error instanceof AdminError && error.code === 'ADMIN_MAPPINGS_CHANGED';

  /**
   * The form again, with the user's edit kept: the service's problems at their fields (400), or
   * that someone else changed the list since the form was opened (409; the form then carries the
   * new revision, so saving again replaces their change knowingly).
   */
  async function refused(request: FastifyRequest, reply: FastifyReply, values: MappingFormValues, existingId: string | null, index: number, error: unknown, revision: string) {
    const changed = isChanged(error);
    if (!(error instanceof AdminError) || (error.status !== 400 && !changed)) throw error;
    const destination = await service.getDestination(param(request, 'id'));
    const problems = changed ? [`${whatChanged(error)} Your edit is kept below: compare with the list, then save again to apply it over theirs.`] : error.problems.length ? error.problems : [error.message];
    const current = changed ? (await port.list(destination.id)).revision : revision;
    return send(reply, mappingFormPage({ destination, values, existingId, index, problems, revision: current }, session(request).csrf, []), changed ? 409 : 400);
  }

  /** The service's conflict message without its advice to API clients (the page gives its own). */
  const whatChanged = (error: AdminError): string => error.message.split(' Read them again')[0]!;

  /** A list button (move, enable, delete) pressed on a page older than the list: nothing changed, say so. */
  function staleList(request: FastifyRequest, reply: FastifyReply, error: unknown) {
    if (!isChanged(error)) throw error;
    session(request).flash.push({ kind: 'error', text: `${whatChanged(error as AdminError)} The list below is the current one.` });
    return redirect(reply, base(param(request, 'id')));
  }

  app.get('/destinations/:id/mappings/new', async (request, reply) => {
    const s = session(request);
    const destination = await service.getDestination(param(request, 'id'));
    const q = request.query as Record<string, unknown>;
    const action: ActionId = (ACTION_IDS as readonly unknown[]).includes(q.action) ? (q.action as ActionId) : 'custom-event';
    const { mappings, revision } = await port.list(destination.id);
    return send(reply, mappingFormPage({ destination, values: newFormValues(action), existingId: null, index: mappings.length, problems: [], revision }, s.csrf, flashOf(s)));
  });

  app.post('/destinations/:id/mappings/new', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    const values = formValuesFromForm(form(request), str);
    const { mappings, revision } = await port.list(id);
    const mapping = mappingOf({ ...values, id: values.id || newMappingId(values.name, new Set(mappings.map((m) => m.id))) });
    const expected = revisionOf(request);
    try {
      await port.save(actor(request), id, [...mappings, mapping], expected);
    } catch (error) {
      return refused(request, reply, values, null, mappings.length, error, expected ?? revision);
    }
    s.flash.push({ kind: 'ok', text: `Mapping "${mapping.name}" added at the end (#${mappings.length + 1}). It applies to the next delivery.` });
    return redirect(reply, base(id));
  });

  // ── the tester (before /:mappingId, which would take "test") ───────────

  const testerState = (eventText: string, eventId: number | null): MappingTesterState => ({ eventText, eventId, result: null, problems: [] });

  /** `event` absent: the page alone, nothing tested yet. */
  async function runTest(request: FastifyRequest, reply: FastifyReply, state: MappingTesterState, event?: { value: unknown }) {
    const s = session(request);
    const id = param(request, 'id');
    const destination = await service.getDestination(id);
    if (event !== undefined && state.problems.length === 0) {
      try {
        state.result = await port.test(id, event.value);
      } catch (error) {
        if (!(error instanceof AdminError) || error.status !== 400) throw error;
        state.problems.push(...(error.problems.length ? error.problems : [error.message]));
      }
    }
    const recent = (await service.searchEvents({ destinationId: id, limit: RECENT_EVENTS })).events;
    return send(reply, mappingTesterPage(destination, recent, state, s.csrf, flashOf(s), canEdit(request)), state.problems.length ? 400 : 200);
  }

  app.get('/destinations/:id/mappings/test', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    if (typeof q.event !== 'string' || q.event.trim() === '') return runTest(request, reply, testerState('', null));
    const eventId = parseEventId(q.event.trim());
    const logged = await service.getEvent(eventId);
    return runTest(request, reply, testerState(JSON.stringify(logged.payload, null, 2), eventId), { value: logged.payload });
  });

  app.post('/destinations/:id/mappings/test', async (request, reply) => {
    const eventText = str(form(request), 'event');
    const state = testerState(eventText, null);
    let event: unknown;
    try {
      event = JSON.parse(eventText);
    } catch (error) {
      state.problems.push(`The event is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    return runTest(request, reply, state, { value: event });
  });

  // ── one mapping ───────────────────────────────────────────────────────

  /** The list and the place of the mapping named in the URL (404 when it is not in the list). */
  async function located(request: FastifyRequest): Promise<{ id: string; mappings: Mapping[]; index: number; mapping: Mapping; revision: string }> {
    const id = param(request, 'id');
    const mappingId = param(request, 'mappingId');
    const { mappings, revision } = await port.list(id);
    const index = mappings.findIndex((m) => m.id === mappingId);
    if (index < 0) throw notFound(`Mapping "${mappingId}" of destination "${id}"`);
    return { id, mappings, index, mapping: mappings[index]!, revision };
  }

  app.get('/destinations/:id/mappings/:mappingId', async (request, reply) => {
    const s = session(request);
    const destination = await service.getDestination(param(request, 'id'));
    const { mapping, index, revision } = await located(request);
    return send(reply, mappingFormPage({ destination, values: formValuesOfMapping(mapping), existingId: mapping.id, index, problems: [], revision }, s.csrf, flashOf(s)));
  });

  app.post('/destinations/:id/mappings/:mappingId', async (request, reply) => {
    const s = session(request);
    const { id, mappings, index, mapping, revision } = await located(request);
    const values = { ...formValuesFromForm(form(request), str), id: mapping.id };
    const changed = mappingOf(values);
    const expected = revisionOf(request);
    try {
      await port.save(actor(request), id, mappings.map((m, i) => (i === index ? changed : m)), expected);
    } catch (error) {
      return refused(request, reply, values, mapping.id, index, error, expected ?? revision);
    }
    s.flash.push({ kind: 'ok', text: `Mapping "${changed.name}" saved. It applies to the next delivery.` });
    return redirect(reply, base(id));
  });

  app.post('/destinations/:id/mappings/:mappingId/move', async (request, reply) => {
    const s = session(request);
    const { id, mappings, index, mapping } = await located(request);
    const to = str(form(request), 'direction') === 'up' ? index - 1 : index + 1;
    if (to < 0 || to >= mappings.length) {
      s.flash.push({ kind: 'info', text: `"${mapping.name}" is already ${to < 0 ? 'first' : 'last'}.` });
      return redirect(reply, base(id));
    }
    const reordered = [...mappings];
    reordered.splice(index, 1);
    reordered.splice(to, 0, mapping);
    try {
      await port.save(actor(request), id, reordered, revisionOf(request));
    } catch (error) {
      return staleList(request, reply, error);
    }
    s.flash.push({ kind: 'ok', text: `"${mapping.name}" moved to #${to + 1}: it now takes events before the mappings below it.` });
    return redirect(reply, `${base(id)}#mappings-h`);
  });

  app.post('/destinations/:id/mappings/:mappingId/toggle', async (request, reply) => {
    const s = session(request);
    const { id, mappings, index, mapping } = await located(request);
    const enabled = !mapping.enabled;
    try {
      await port.save(actor(request), id, mappings.map((m, i) => (i === index ? { ...m, enabled } : m)), revisionOf(request));
    } catch (error) {
      return staleList(request, reply, error);
    }
    s.flash.push({ kind: 'ok', text: enabled ? `"${mapping.name}" enabled.` : `"${mapping.name}" disabled: the events it took go to the next mapping that matches.` });
    return redirect(reply, base(id));
  });

  app.post('/destinations/:id/mappings/:mappingId/delete', async (request, reply) => {
    const s = session(request);
    const { id, mappings, index, mapping } = await located(request);
    if (!isConfirmed(form(request))) {
      return send(
        reply,
        confirmPage(
          {
            title: `Delete mapping “${mapping.name}”?`,
            section: 'settings',
            question: `Delete mapping #${index + 1} “${mapping.name}” of destination ${id}?`,
            consequence: 'The events it takes go to the next mapping that matches, or are skipped when none does. To stop it for a while, disable it instead.',
            action: `${base(id)}/${encodeURIComponent(mapping.id)}/delete`,
            fields: { revision: str(form(request), 'revision') },
            confirmLabel: `Delete “${mapping.name}”`,
            cancelHref: base(id),
          },
          s.csrf,
        ),
      );
    }
    try {
      await port.save(actor(request), id, mappings.filter((_, i) => i !== index), revisionOf(request));
    } catch (error) {
      return staleList(request, reply, error);
    }
    s.flash.push({ kind: 'ok', text: `Mapping "${mapping.name}" deleted.` });
    return redirect(reply, base(id));
  });
}
