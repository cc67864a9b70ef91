import type { FastifyInstance } from 'fastify';
import { parseDeadLetterFilter } from '../admin-input.ts';
import { AdminError } from '../admin-errors.ts';
import type { OperatorServices } from '../operator-services.ts';
import { confirmGroupDropPage } from './failures.ts';
import type { SearchValues } from './events.ts';
import type { ConsoleKit, Form } from './kit.ts';
import { liveRoutes } from './live.ts';
import { overviewParts, rangeParam } from './overview.ts';

/** The console's routes for failures by reason and the live view (issue 17). */
export function operatorRoutes(app: FastifyInstance, kit: ConsoleKit, operator: OperatorServices, redact: (text: string) => Promise<string>): void {
  const { send, session, redirect, form, str, service, actor } = kit;

  const groupValues = (f: Form): SearchValues => {
    const out: SearchValues = {};
    for (const key of ['destination', 'userId', 'event', 'from', 'to'] as const) {
      const v = str(f, key);
      if (v !== '') out[key] = v;
    }
    return out;
  };

  for (const action of ['retry', 'drop'] as const) {
    app.post(`/dead-letters/groups/${action}`, async (request, reply) => {
      const s = session(request);
      const f = form(request);
      const reason = str(f, 'reason');
      if (reason === '') throw new AdminError('ADMIN_INVALID_INPUT', 'Say which reason: the form carries none');
      const values = groupValues(f);
      const filter = parseDeadLetterFilter(f);
      const back = `/dead-letters?${new URLSearchParams(values as Record<string, string>).toString()}`;
      const group = (await operator.failures.groups(filter)).find((g) => g.key === reason);
      if (!group) {
        s.flash.push({ kind: 'info', text: `No dead letter has the reason "${reason}" any more.` });
        return redirect(reply, back);
      }
      if (action === 'drop' && str(f, 'confirmed') === '') return send(reply, confirmGroupDropPage(group, values, s.csrf));
      const who = actor(request);
      const n = await operator.failures.apply(filter, reason, (ids) => (action === 'retry' ? service.retryDeadLetters(who, { ids }) : service.dropDeadLetters(who, { ids })));
      s.flash.push({ kind: 'ok', text: action === 'retry' ? `${n} dead letters with reason "${reason}" queued again.` : `${n} dead letters with reason "${reason}" dropped.` });
      return redirect(reply, back);
    });
  }

  // The overview's live parts alone, for console.js to swap in.
  app.get('/overview/parts', async (request, reply) => {
    kit.session(request);
    const range = rangeParam(request.query);
    return send(reply, overviewParts(await kit.service.overview(range), range));
  });

  liveRoutes(app, kit, operator.live, redact);
}
