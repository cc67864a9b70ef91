import type { AppConfig } from '../config.ts';
import type { WriteKeyStore } from '../delivery/store.ts';

/**
 * What cannot get in, said once at start (`serve`): a server without write keys refuses every
 * event, one without an admin token keeps the console closed, and neither is an error (a
 * worker-only or a keys-from-the-console setup is legitimate), so these are warnings.
 */
export async function startWarnings(config: Pick<AppConfig, 'admins'>, keys: Pick<WriteKeyStore, 'listWriteKeys'>): Promise<string[]> {
  const warnings: string[] = [];
  const active = (await keys.listWriteKeys()).filter((k) => k.revokedAt === null);
  if (active.length === 0) {
    warnings.push('No write key: every event is refused (401 INGEST_UNKNOWN_WRITE_KEY). Set WRITE_KEYS, or create a key in the console (Settings, then a destination).');
  }
  if (config.admins.length === 0) {
    warnings.push('No ADMIN_TOKEN (nor ADMIN_TOKENS): the console and the admin API answer 403 until one is set.');
  }
  return warnings;
}
