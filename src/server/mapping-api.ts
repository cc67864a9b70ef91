import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from './admin-errors.ts';
import type { Actor } from './audit.ts';
import type { MappingService, MappingsView } from './mapping-service.ts';
import { revisionOfIfMatch } from './mappings-revision.ts';

/**
 * The admin API's mapping routes (docs/mappings.md), inside adminApiRoutes' auth: a viewer reads
 * and tests, only an admin changes.
 *
 *   GET   /api/mappings/catalog                      actions, their fields, event types, operators
 *   GET   /api/destinations/:id/mappings             the ordered list (the defaults when none configured)
 *   PUT   /api/destinations/:id/mappings             {mappings: [...] | null} replaces the whole list
 *   PATCH /api/destinations/:id/mappings/:mappingId  {enabled: true|false}
 *   POST  /api/destinations/:id/mappings/test        {event, mappings?, profile?} → matched mapping, calls, warnings
 *
 * GET, PUT and PATCH answer with the list's revision, also as ETag; a PUT or PATCH sent with it
 * (If-Match, or `revision` in the body) is refused with 409 when the list changed since.
 *   GET   /api/destinations/:id/mappings/stats       events matched and calls made per mapping, last hour and day
 */
export function mappingApiRoutes(app: FastifyInstance, mappings: MappingService, actor: (request: FastifyRequest) => Actor): void {
  const bodyOf = (request: FastifyRequest): Record<string, unknown> => {
    const b = request.body;
    if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) throw badRequest('The body must be a JSON object');
    return b as Record<string, unknown>;
  };
  const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name] ?? '';

  /** If-Match first, else the body's `revision`; undefined: an unconditional write. */
  const expectedRevision = (request: FastifyRequest, b: Record<string, unknown>): string | undefined => {
    const header = revisionOfIfMatch(request.headers['if-match']);
    if (header !== undefined) return header;
    if (b.revision === undefined || b.revision === null) return undefined;
    if (typeof b.revision !== 'string') throw badRequest('revision: must be the text GET …/mappings answered as revision');
    return b.revision;
  };
  const tagged = (reply: FastifyReply, view: MappingsView): MappingsView => {
    void reply.header('etag', `"${view.revision}"`);
    return view;
  };

  app.get('/mappings/catalog', async () => mappings.catalog());
  app.get('/destinations/:id/mappings', async (request, reply) => tagged(reply, await mappings.get(param(request, 'id'))));
  app.put('/destinations/:id/mappings', async (request, reply) => {
    const b = bodyOf(request);
    if (!('mappings' in b)) throw badRequest('mappings: is required (the whole ordered list, or null for the defaults)');
    return tagged(reply, await mappings.replace(actor(request), param(request, 'id'), b.mappings, expectedRevision(request, b)));
  });
  app.patch('/destinations/:id/mappings/:mappingId', async (request, reply) => {
    const b = bodyOf(request);
    return tagged(reply, await mappings.setEnabled(actor(request), param(request, 'id'), param(request, 'mappingId'), b.enabled, expectedRevision(request, b)));
  });
  // A dry run that changes nothing, but a POST: like every POST, admins only.
  app.post('/destinations/:id/mappings/test', async (request) => mappings.test(param(request, 'id'), bodyOf(request)));
  app.get('/destinations/:id/mappings/stats', async (request) => mappings.stats(param(request, 'id')));
}
