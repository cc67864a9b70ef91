import type { FastifyInstance } from 'fastify';
import { parseDeadLetterFilter, parseEventId } from '../admin-input.ts';
import { confirmPage, formFields, isConfirmed } from './confirm.ts';
import { html } from './html.ts';
import { definedOnly, safeNext, searchValues, type ConsoleKit } from './kit.ts';

/**
 * The console's actions on events: retry and drop (one dead letter, or all those matching a
 * filter), and a user's deletion. Drops ask first (confirm.ts), naming how many events.
 */
export function actionRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const { service, send, session, actor, redirect, form, str, param } = kit;

  app.post('/events/:id/retry', async (request, reply) => {
    const s = session(request);
    const id = parseEventId(param(request, 'id'));
    const n = await service.retryEvent(actor(request), id);
    s.flash.push({ kind: 'ok', text: n ? `Event #${id} is queued again at the head of its lane.` : `Event #${id} was not retried.` });
    return redirect(reply, safeNext(str(form(request), 'back') || `/events/${id}`));
  });

  app.post('/events/:id/drop', async (request, reply) => {
    const s = session(request);
    const f = form(request);
    const id = parseEventId(param(request, 'id'));
    const back = safeNext(str(f, 'back') || '/dead-letters');
    if (!isConfirmed(f)) {
      const e = await service.getEvent(id);
      return send(
        reply,
        confirmPage(
          {
            title: `Drop event #${id}?`,
            section: 'dead-letters',
            question:
              e.state === 'failed'
                ? html`Drop event #${id} (${e.type ?? 'event'}${e.event ? html` “${e.event}”` : null}, user ${e.userId ?? '–'})?`
                : `Event #${id} is ${e.state}: only dead letters can be dropped.`,
            consequence: html`It will not be delivered. It stays in the delivery log as <strong>dropped</strong>, with your name and the time, until retention removes it.`,
            action: `/events/${id}/drop`,
            fields: formFields(f, str),
            confirmLabel: `Drop event #${id}`,
            cancelHref: back,
            nothingToDo: e.state !== 'failed',
          },
          s.csrf,
        ),
      );
    }
    const n = await service.dropEvent(actor(request), id);
    s.flash.push({ kind: 'ok', text: n ? `Event #${id} dropped; it stays in the log as dropped.` : `Event #${id} was not dropped.` });
    return redirect(reply, back);
  });

  app.post('/users/delete', async (request, reply) => {
    const s = session(request);
    const f = form(request);
    const result = await service.deleteUser(actor(request), str(f, 'userId'), str(f, 'destination') || undefined);
    s.flash.push({
      kind: 'ok',
      text: `Deletion of user "${str(f, 'userId').trim()}" queued${result.eventId !== undefined ? ` as event #${result.eventId}` : ''}; it is sent after that user's earlier events.`,
    });
    return redirect(reply, `/events?${new URLSearchParams({ userId: str(f, 'userId').trim() }).toString()}`);
  });

  for (const action of ['retry', 'drop'] as const) {
    app.post(`/dead-letters/${action}`, async (request, reply) => {
      const s = session(request);
      const f = form(request);
      const filter = parseDeadLetterFilter(f);
      const back = `/dead-letters?${new URLSearchParams(definedOnly(searchValues(f))).toString()}`;
      if (action === 'drop' && !isConfirmed(f)) {
        const count = await service.countDeadLetters(filter);
        const scope = Object.entries(definedOnly(searchValues(f)))
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        return send(
          reply,
          confirmPage(
            {
              title: `Drop ${count} dead letters?`,
              section: 'dead-letters',
              question: count === 0 ? 'No dead letter matches this filter now: nothing to drop.' : `Drop all ${count} dead letters matching ${scope || 'no filter (every destination)'}?`,
              consequence: html`They will not be delivered. Each stays in the delivery log as <strong>dropped</strong>, with your name and the time, until retention removes it.`,
              action: '/dead-letters/drop',
              fields: formFields(f, str),
              confirmLabel: `Drop ${count} dead letters`,
              cancelHref: back,
              nothingToDo: count === 0,
            },
            s.csrf,
          ),
        );
      }
      const who = actor(request);
      const n = action === 'retry' ? await service.retryDeadLetters(who, { filter }) : await service.dropDeadLetters(who, { filter });
      s.flash.push({ kind: 'ok', text: action === 'retry' ? `${n} dead letters queued again.` : `${n} dead letters dropped; they stay in the log as dropped.` });
      return redirect(reply, back);
    });
  }
}
