import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDirectory, FailedAttempts } from '../admin-auth.ts';
import { AdminError } from '../admin-errors.ts';
import { parseDeadLetterFilter, parseEventId, parseEventQuery } from '../admin-input.ts';
import type { AdminService } from '../admin-service.ts';
import { viewerRefusal, type Actor, type AuditTrail } from '../audit.ts';
import { SAMPLE_EVENTS, sampleById } from '../sample-events.ts';
import { actionRoutes } from './action-routes.ts';
import { activityRoutes } from './activity.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.ts';
import { OPERATOR_CSS, OPERATOR_JS } from './assets-operator.ts';
import { deadLettersPage } from './dead-letters.ts';
import { eventPage, eventsPage } from './events.ts';
import { definedOnly, safeNext, searchValues, type ConsoleKit, type Form } from './kit.ts';
import { withSignedIn } from './layout.ts';
import { overviewPage, rangeParam } from './overview.ts';
import { sameToken, type Session, type SessionStore } from './session.ts';
import { settingsRoutes } from './settings-routes.ts';
import type { OperatorServices } from '../operator-services.ts';
import { failureGroupsSection } from './failures.ts';
import { operatorRoutes } from './operator-routes.ts';
import { mappingsRoutes } from './mappings-routes.ts';
import { mappingsPort } from './mappings-port.ts';
import { messagePage, noTokenPage, signInPage } from './sign-in.ts';
import { testerPage, type TesterState } from './tester.ts';

/**
 * The web console: server-rendered pages from the same app, every action a form POST carrying
 * the session's CSRF token, each handled by the AdminService the JSON API also uses.
 */
export interface ConsoleOptions {
  service: AdminService;
  admins: AdminDirectory;
  audit: AuditTrail;
  sessions: SessionStore;
  /** Who a session is (its admin's current role). */
  sessionActor: (request: FastifyRequest, session: Session) => Actor;
  failedAttempts: FailedAttempts;
  /** Reads the signed session cookie of a request. */
  sessionOf: (request: FastifyRequest) => Promise<Session | null>;
  setSessionCookie: (reply: FastifyReply, session: Session) => void;
  clearSessionCookie: (reply: FastifyReply) => void;
  operator: OperatorServices;
  /** Replaces known secrets in text the console streams (answers pass the app's onSend check). */
  redact: (text: string) => Promise<string>;
}

const PUBLIC_ROUTES = new Set(['/sign-in', '/assets/console.css', '/assets/console.js']);
const PRE_COOKIE = 'sd_pre';
const preCookieOptions = { path: '/sign-in', httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: 3600 } as const;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { service, sessions } = options;
  const sessionByRequest = new WeakMap<FastifyRequest, Session>();
  const actorByRequest = new WeakMap<FastifyRequest, Actor>();
  await app.register(formbody, { bodyLimit: 256 * 1024 });

  const kit: ConsoleKit = {
    service,
    sessions,
    send: (reply, body, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body.text),
    session: (request) => {
      const s = sessionByRequest.get(request);
      // The preHandler guarantees it for every non-public route.
      if (!s) throw new AdminError('ADMIN_NOT_SIGNED_IN', 'Not signed in');
      return s;
    },
    actor: (request) => {
      const a = actorByRequest.get(request);
      if (!a) throw new AdminError('ADMIN_NOT_SIGNED_IN', 'Not signed in');
      return a;
    },
    flashOf: (s) => s.flash.splice(0),
    redirect: (reply, to) => reply.redirect(to, 303),
    form: (request) => (request.body && typeof request.body === 'object' ? (request.body as Form) : {}),
    str: (f, key) => {
      const v = f[key];
      return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
    },
    param: (request, name) => (request.params as Record<string, string>)[name] ?? '',
  };
  const { send, session, flashOf, redirect, form, str, param } = kit;

  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const route = request.routeOptions.url ?? '';
    if (route.startsWith('/assets/')) return undefined;
    if (options.admins.closed) return send(reply, noTokenPage(), 403);
    return undefined;
  });

  app.addHook('preHandler', async (request, reply) => {
    const route = request.routeOptions.url ?? '';
    if (PUBLIC_ROUTES.has(route)) return undefined;
    const s = await options.sessionOf(request);
    if (!s) {
      if (request.method === 'GET') return redirect(reply, `/sign-in?next=${encodeURIComponent(request.url)}`);
      return send(reply, messagePage('Signed out', 'Your session has ended. Sign in again, then repeat the action.', null), 401);
    }
    sessionByRequest.set(request, s);
    const actor = options.sessionActor(request, s);
    actorByRequest.set(request, actor);
    if (request.method === 'POST' && !sameToken(str(form(request), '_csrf'), s.csrf)) {
      return send(
        reply,
        messagePage('Form refused', 'This form did not carry this session’s CSRF token, so nothing was changed. Reload the page and try again.', s.csrf),
        403,
      );
    }
    if (request.method === 'POST' && route !== '/sign-out' && actor.role !== 'admin') {
      return send(reply, messagePage('Read only', viewerRefusal(actor.name).message, s.csrf), 403);
    }
    return undefined;
  });

  // Before the answer leaves: a redirect's next request may reach another process, which must
  // find the flash message or the one-time key this request left in the session.
  app.addHook('onSend', async (request, _reply, payload) => {
    const s = sessionByRequest.get(request);
    if (s) {
      try {
        await sessions.save(s);
      } catch (error) {
        request.log.warn({ err: error }, 'could not save the console session');
      }
    }
    const actor = actorByRequest.get(request);
    return actor && typeof payload === 'string' ? withSignedIn(payload, actor) : payload;
  });

  app.setErrorHandler((error: FastifyError | AdminError, request, reply) => {
    const csrf = sessionByRequest.get(request)?.csrf ?? null;
    if (error instanceof AdminError) return send(reply, messagePage(error.status === 404 ? 'Not found' : 'Not possible', error.message, csrf), error.status);
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error, route: request.routeOptions.url }, 'console request failed');
    return send(reply, messagePage('Something went wrong', status >= 500 ? 'An internal error happened; see the server log.' : error.message, csrf), status);
  });

  // ── assets, sign-in, sign-out ─────────────────────────────────────────

  app.get('/assets/console.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(CONSOLE_CSS + OPERATOR_CSS));
  app.get('/assets/console.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(CONSOLE_JS + OPERATOR_JS),
  );

  app.get('/sign-in', async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    if (await options.sessionOf(request)) return redirect(reply, next);
    const preToken = sessions.preSession.issue();
    reply.setCookie(PRE_COOKIE, preToken, preCookieOptions);
    return send(reply, signInPage({ next, preToken }));
  });

  app.post('/sign-in', async (request, reply) => {
    const f = form(request);
    const next = safeNext(f.next);
    const preToken = sessions.preSession.issue();
    const again = (error: string, status: number) => {
      reply.setCookie(PRE_COOKIE, preToken, preCookieOptions);
      return send(reply, signInPage({ next, preToken, error }), status);
    };
    // Double submit first: a post without this server's pre-session token (another site's page
    // posting the form) is refused before it can count as a wrong token against the address.
    if (!sessions.preSession.valid(str(f, '_pre'), request.cookies[PRE_COOKIE])) {
      return again('The sign-in form expired; reload the page and sign in again.', 403);
    }
    if (await options.failedAttempts.blocked(request.ip)) return again('Too many wrong tokens from this address; wait 15 minutes.', 429);
    const admin = options.admins.identify(str(f, 'token'));
    if (!admin) {
      await options.failedAttempts.record(request.ip);
      await options.audit.record({ name: null, channel: 'console', source: request.ip }, 'sign-in.failed', { detail: 'wrong admin token at the console sign-in' });
      return again('That is not an admin token.', 401);
    }
    await options.failedAttempts.clear(request.ip);
    const s = await sessions.create(admin.name);
    options.setSessionCookie(reply, s);
    reply.clearCookie(PRE_COOKIE, { path: '/sign-in' });
    return redirect(reply, next);
  });

  app.post('/sign-out', async (request, reply) => {
    await sessions.destroy(session(request).id);
    sessionByRequest.delete(request);
    options.clearSessionCookie(reply);
    return redirect(reply, '/sign-in');
  });

  // ── overview ──────────────────────────────────────────────────────────

  app.get('/', async (request, reply) => {
    const s = session(request);
    const range = rangeParam(request.query);
    return send(reply, overviewPage(await service.overview(range), range, s.csrf, flashOf(s)));
  });

  settingsRoutes(app, kit);
  activityRoutes(app, kit);
  operatorRoutes(app, kit, options.operator, options.redact);
  mappingsRoutes(app, kit, mappingsPort(options.operator.mappings));

  // ── event delivery ────────────────────────────────────────────────────

  app.get('/events', async (request, reply) => {
    const s = session(request);
    const q = request.query as Record<string, unknown>;
    const values = searchValues(q);
    const flash = flashOf(s);
    let result = null;
    let nextHref: string | null = null;
    try {
      result = await service.searchEvents({ ...parseEventQuery(q), limit: 50 });
      if (result.nextBefore !== null) nextHref = `/events?${new URLSearchParams({ ...definedOnly(values), before: String(result.nextBefore) }).toString()}`;
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      flash.push({ kind: 'error', text: error.message });
    }
    return send(reply, eventsPage(values, result, await service.listDestinations(), s.csrf, flash, nextHref));
  });

  app.get('/events/:id', async (request, reply) => {
    const s = session(request);
    return send(reply, eventPage(await service.getEvent(parseEventId(param(request, 'id'))), s.csrf, flashOf(s)));
  });

  // ── dead letters ──────────────────────────────────────────────────────

  app.get('/dead-letters', async (request, reply) => {
    const s = session(request);
    const q = request.query as Record<string, unknown>;
    const values = searchValues(q);
    const flash = flashOf(s);
    let result: Awaited<ReturnType<AdminService['searchEvents']>> = { events: [], nextBefore: null };
    let groups: Awaited<ReturnType<OperatorServices['failures']['groups']>> = [];
    try {
      const filter = parseDeadLetterFilter(q);
      groups = await options.operator.failures.groups(filter);
      result = values.reason
        ? { events: await options.operator.failures.events(filter, values.reason, 100), nextBefore: null }
        : await service.searchEvents({ ...filter, status: 'failed', limit: 100 });
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      flash.push({ kind: 'error', text: error.message });
    }
    return send(reply, deadLettersPage(values, result, await service.listDestinations(), s.csrf, flash, failureGroupsSection(groups, values, s.csrf)));
  });

  actionRoutes(app, kit);

  // ── event tester ──────────────────────────────────────────────────────

  app.get('/tester', async (request, reply) => {
    const s = session(request);
    const q = request.query as Record<string, unknown>;
    const sample = sampleById(typeof q.sample === 'string' ? q.sample : '') ?? SAMPLE_EVENTS[0]!;
    const destinations = await service.listDestinations();
    const state: TesterState = {
      sampleId: sample.id,
      eventText: JSON.stringify(sample.event, null, 2),
      destination: destinations[0]?.id ?? '',
      result: null,
      problems: [],
    };
    return send(reply, testerPage(SAMPLE_EVENTS, destinations, state, s.csrf, flashOf(s)));
  });

  app.post('/tester', async (request, reply) => {
    const s = session(request);
    const f = form(request);
    const eventText = str(f, 'event');
    const destinations = await service.listDestinations();
    const state: TesterState = { sampleId: '', eventText, destination: str(f, 'destination'), result: null, problems: [] };
    let event: unknown;
    try {
      event = JSON.parse(eventText);
    } catch (error) {
      state.problems.push(`The event is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (state.problems.length === 0) {
      try {
        state.result = await service.sendTestEvent(kit.actor(request), { destination: state.destination || undefined, event, waitMs: 10_000 });
      } catch (error) {
        if (!(error instanceof AdminError)) throw error;
        state.problems.push(...(error.problems.length ? error.problems : [error.message]));
      }
    }
    return send(reply, testerPage(SAMPLE_EVENTS, destinations, state, s.csrf, flashOf(s)), state.problems.length ? 400 : 200);
  });
}

export { safeNext };
