import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from './admin-errors.ts';
import type { Actor } from './audit.ts';
import type { MappingService } from './mapping-service.ts';

/**
 * The admin API's mapping routes (docs/mappings.md), inside adminApiRoutes' auth: a viewer reads
 * and tests, only an admin changes.
 *
 *   GET   /api/mappings/catalog                      actions, their fields, event types, operators
 *   GET   /api/destinations/:id/mappings             the ordered list (the defaults when none configured)
 *   PUT   /api/destinations/:id/mappings             {mappings: [...] | null} replaces the whole list
 *   PATCH /api/destinations/:id/mappings/:mappingId  {enabled: true|false}
 *   POST  /api/destinations/:id/mappings/test        {event, mappings?, profile?} → matched mapping, calls, warnings
 *   GET   /api/destinations/:id/mappings/stats       events matched and calls made per mapping, last hour and day
 */
export function mappingApiRoutes(app: FastifyInstance, mappings: MappingService, actor: (request: FastifyRequest) => Actor): void {
  const bodyOf = (request: FastifyRequest): Record<string, unknown> => {
    const b = request.body;
    if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) throw badRequest('The body must be a JSON object');
    return b as Record<string, unknown>;
  };
  const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name] ?? '';

  app.get('/mappings/catalog', async () => mappings.catalog());
  app.get('/destinations/:id/mappings', async (request) => mappings.get(param(request, 'id')));
  app.put('/destinations/:id/mappings', async (request) => {
    const b = bodyOf(request);
    if (!('mappings' in b)) throw badRequest('mappings: is required (the whole ordered list, or null for the defaults)');
    return mappings.replace(actor(request), param(request, 'id'), b.mappings);
  });
  app.patch('/destinations/:id/mappings/:mappingId', async (request) =>
    mappings.setEnabled(actor(request), param(request, 'id'), param(request, 'mappingId'), bodyOf(request).enabled),
  );
  // A dry run that changes nothing, but a POST: like every POST, admins only.
  app.post('/destinations/:id/mappings/test', async (request) => mappings.test(param(request, 'id'), bodyOf(request)));
  app.get('/destinations/:id/mappings/stats', async (request) => mappings.stats(param(request, 'id')));
}
