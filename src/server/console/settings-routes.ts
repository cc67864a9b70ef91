import type { FastifyInstance } from 'fastify';
import { SECRET_SETTING_KEYS, SETTING_KEYS } from '../../destination/settings.ts';
import { AdminError } from '../admin-errors.ts';
import { confirmPage, isConfirmed } from './confirm.ts';
import { destinationPage, destinationsPage, formValuesOf, type FormState } from './destinations.ts';
import { safeNext, type ConsoleKit, type Form } from './kit.ts';
import { messagePage } from './sign-in.ts';

/** The console's settings pages: destinations, their settings and write keys. */
export function settingsRoutes(app: FastifyInstance, kit: ConsoleKit): void {
  const { service, sessions, send, session, actor, flashOf, redirect, form, str, param } = kit;
  /** A destination's page as it stands, before any new key is added to it. */
  const destinationView = async (id: string) => {
    const destination = await service.getDestination(id);
    return { destination, writeKeys: await service.listWriteKeys(id), form: { values: formValuesOf(destination), problems: [] } };
  };

  app.get('/destinations', async (request, reply) => {
    const s = session(request);
    return send(reply, destinationsPage(await service.listDestinations(), s.csrf, flashOf(s), { values: {}, problems: [] }));
  });

  app.post('/destinations', async (request, reply) => {
    const s = session(request);
    const f = form(request);
    const settings = settingsFromForm(f, str, false);
    try {
      const d = await service.createDestination(actor(request), { id: str(f, 'id'), name: str(f, 'name'), settings });
      s.flash.push({ kind: 'ok', text: `Destination ${d.name} added. Create a write key below so sources can send events.` });
      return redirect(reply, `/destinations/${encodeURIComponent(d.id)}`);
    } catch (error) {
      if (!(error instanceof AdminError) || (error.status !== 400 && error.status !== 409)) throw error;
      const state: FormState = { values: formValues(f, str), problems: error.problems.length ? error.problems : [error.message] };
      return send(reply, destinationsPage(await service.listDestinations(), s.csrf, [], state), error.status);
    }
  });

  app.get('/destinations/:id', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    const view = await destinationView(id);
    // Last, once nothing else can fail: a key taken is a key this answer must show.
    const revealedKeys = await sessions.takeRevealedKeys(s, id);
    return send(reply, destinationPage({ ...view, revealedKeys }, s.csrf, flashOf(s)));
  });

  app.post('/destinations/:id', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    const f = form(request);
    const before = await service.getDestination(id);
    try {
      const d = await service.updateDestination(actor(request), id, { name: str(f, 'name'), settings: settingsFromForm(f, str, true) });
      s.flash.push({
        kind: 'ok',
        text: `Settings saved (version ${d.version}). They apply to the next delivery.${before.paused ? ' Delivery resumed.' : ''}`,
      });
      return redirect(reply, `/destinations/${encodeURIComponent(id)}`);
    } catch (error) {
      if (!(error instanceof AdminError) || error.status !== 400) throw error;
      const state: FormState = { values: formValues(f, str), problems: error.problems.length ? error.problems : [error.message] };
      return send(reply, destinationPage({ destination: before, writeKeys: await service.listWriteKeys(id), form: state, revealedKeys: [] }, s.csrf, []), 400);
    }
  });

  app.post('/destinations/:id/test-connection', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    try {
      const result = await service.testConnection(actor(request), id);
      s.flash.push({ kind: result.ok ? 'ok' : 'error', text: `Test connection: ${result.message}` });
    } catch (error) {
      if (!(error instanceof AdminError) || error.status !== 400) throw error;
      s.flash.push({ kind: 'error', text: `Test connection: the saved settings are incomplete: ${error.problems.join('; ') || error.message}` });
    }
    return redirect(reply, `/destinations/${encodeURIComponent(id)}`);
  });

  app.post('/destinations/:id/pause', async (request, reply) => {
    const s = session(request);
    const d = await service.pause(actor(request), param(request, 'id'), str(form(request), 'reason'));
    s.flash.push({ kind: 'info', text: `${d.name} is paused. Events are kept until it is resumed.` });
    return redirect(reply, safeNext(str(form(request), 'back') || `/destinations/${encodeURIComponent(d.id)}`));
  });

  app.post('/destinations/:id/resume', async (request, reply) => {
    const s = session(request);
    const d = await service.resume(actor(request), param(request, 'id'));
    s.flash.push({ kind: 'ok', text: `${d.name} resumed: queued events are being delivered.` });
    return redirect(reply, safeNext(str(form(request), 'back') || `/destinations/${encodeURIComponent(d.id)}`));
  });

  app.post('/destinations/:id/write-keys', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    const created = await service.createWriteKey(actor(request), id, str(form(request), 'label'));
    const revealed = { destinationId: id, key: created.key, label: created.writeKey.label };
    s.revealedKeys.push(revealed);
    // Saved here rather than in onSend: when the key cannot be kept for the next page (the store
    // failed, or the session was signed out in another tab), this answer shows it instead.
    let kept = false;
    try {
      kept = await sessions.save(s);
    } catch (error) {
      request.log.warn({ err: error }, 'could not keep a new write key in the console session; showing it now');
    }
    if (kept) return redirect(reply, `/destinations/${encodeURIComponent(id)}`);
    // Shown now. (If the failed save had in fact committed, the next page shows it once more:
    // better twice than never.)
    s.revealedKeys = s.revealedKeys.filter((k) => k.key !== created.key);
    try {
      return send(reply, destinationPage({ ...(await destinationView(id)), revealedKeys: [revealed] }, s.csrf, flashOf(s)));
    } catch {
      // The store is failing: a page that needs nothing from it.
      return send(reply, messagePage('New write key', `New write key "${revealed.label}": ${revealed.key} (copy it now: it will not be shown again).`, s.csrf));
    }
  });

  app.post('/write-keys/:keyId/revoke', async (request, reply) => {
    const s = session(request);
    const keyId = param(request, 'keyId');
    if (!isConfirmed(form(request))) {
      const key = await service.writeKey(keyId);
      const destination = await service.getDestination(key.destinationId);
      const back = `/destinations/${encodeURIComponent(key.destinationId)}`;
      return send(
        reply,
        confirmPage(
          {
            title: `Revoke write key “${key.label}”?`,
            section: 'settings',
            question: key.revokedAt ? `Write key “${key.label}” is already revoked.` : `Revoke write key “${key.label}” of ${destination.name} (${key.destinationId}), created ${key.createdAt.slice(0, 10)}?`,
            consequence: 'Every source sending with this key is refused (401) from then on. A revoked key cannot be restored: create a new one instead.',
            action: `/write-keys/${keyId}/revoke`,
            fields: {},
            confirmLabel: `Revoke “${key.label}”`,
            cancelHref: back,
            nothingToDo: key.revokedAt !== null,
          },
          s.csrf,
        ),
      );
    }
    const key = await service.revokeWriteKey(actor(request), keyId);
    s.flash.push({ kind: 'ok', text: `Write key "${key.label}" revoked: requests with it are refused from now on.` });
    return redirect(reply, `/destinations/${encodeURIComponent(key.destinationId)}`);
  });

  app.post('/destinations/:id/delete', async (request, reply) => {
    const s = session(request);
    const id = param(request, 'id');
    if (str(form(request), 'confirm').trim() !== id) {
      s.flash.push({ kind: 'error', text: `Not deleted: type the id "${id}" to confirm.` });
      return redirect(reply, `/destinations/${encodeURIComponent(id)}`);
    }
    await service.deleteDestination(actor(request), id);
    s.flash.push({ kind: 'ok', text: `Destination ${id} deleted.` });
    return redirect(reply, '/destinations');
  });
}

type Str = (f: Form, key: string) => string;

/** Settings fields of a form; on an edit, "" clears an optional field and keeps the secret. */
function settingsFromForm(f: Form, str: Str, isPatch: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    if (!(key in f)) continue;
    const v = str(f, key);
    if (v.trim() === '' && !isPatch) continue;
    out[key] = v;
  }
  return out;
}

function formValues(f: Form, str: Str): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of ['id', 'name', ...SETTING_KEYS]) {
    if ((SECRET_SETTING_KEYS as readonly string[]).includes(key)) continue;
    if (key in f) values[key] = str(f, key);
  }
  return values;
}
