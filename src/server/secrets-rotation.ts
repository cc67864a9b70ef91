import { openStore } from '../delivery/open-store.ts';
import { SettingsSeal } from '../delivery/settings-seal.ts';

/**
 * `rotate-secrets-key`: every secret the database keeps is opened with the old key (or read as
 * plaintext) and sealed again under the new one. Run it with the servers stopped: a server still
 * holding the old key cannot open what the new key sealed. Returns how many destinations changed.
 */
export async function rotateSecretsKey(databaseUrl: string, oldKey: Buffer | null, newKey: Buffer): Promise<number> {
  const store = await openStore(databaseUrl, { seal: SettingsSeal.withKey(newKey, oldKey ? [oldKey] : []) });
  try {
    return await store.resealSecrets();
  } finally {
    await store.close();
  }
}
