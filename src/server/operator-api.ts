import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from './admin-errors.ts';
import { parseDeadLetterFilter } from './admin-input.ts';
import type { AdminService } from './admin-service.ts';
import type { Actor } from './audit.ts';
import type { OperatorServices } from './operator-services.ts';

/** The admin API's routes for failures by reason (issue 17), inside adminApiRoutes' auth. */
export function operatorApiRoutes(app: FastifyInstance, operator: OperatorServices, service: AdminService, actor: (request: FastifyRequest) => Actor): void {
  const bodyOf = (request: FastifyRequest): Record<string, unknown> => {
    const b = request.body;
    if (b === undefined || b === null) return {};
    if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('The body must be a JSON object');
    return b as Record<string, unknown>;
  };
  const reasonOf = (b: Record<string, unknown>): string => {
    if (typeof b.reason !== 'string' || b.reason.trim() === '') throw badRequest('"reason" must be the key of a group, as GET /api/deadletters/groups gives it');
    return b.reason;
  };
  const filterOf = (b: Record<string, unknown>) => {
    if (b.filter === undefined) return {};
    if (b.filter === null || typeof b.filter !== 'object' || Array.isArray(b.filter)) throw badRequest('"filter" must be an object');
    return parseDeadLetterFilter(b.filter as Record<string, unknown>);
  };

  app.get('/deadletters/groups', async (request) => ({ groups: await operator.failures.groups(parseDeadLetterFilter(request.query as Record<string, unknown>)) }));
  app.post('/deadletters/groups/retry', async (request) => {
    const b = bodyOf(request);
    return { retried: await operator.failures.apply(filterOf(b), reasonOf(b), (ids) => service.retryDeadLetters(actor(request), { ids })) };
  });
  app.post('/deadletters/groups/drop', async (request) => {
    const b = bodyOf(request);
    return { dropped: await operator.failures.apply(filterOf(b), reasonOf(b), (ids) => service.dropDeadLetters(actor(request), { ids })) };
  });
}
