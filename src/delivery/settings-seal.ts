import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SECRET_SETTING_KEYS } from '../destination/settings.ts';

/**
 * Secret settings (the Sailthru shared secret) sealed at rest: AES-256-GCM under SECRETS_KEY, as
 * `sealed:v1:<key id>:<iv|tag|ciphertext, base64url>`, so neither the database file nor a backup
 * of it holds the secret. The key id (8 hex digits of its SHA-256) tells which key sealed a value,
 * so a rotation re-seals exactly the values the new key did not seal. Why and how to rotate:
 * docs/operating.md, "Secrets at rest".
 */

const PREFIX = 'sealed:v1:';
/** Binds a sealed value to its use: it does not open as anything else this program seals. */
const AAD = Buffer.from('sailthru-destination secret setting');

/** SECRETS_KEY is missing, malformed, or not the key the database's secrets were sealed with. */
export class SecretsKeyError extends Error {
  override readonly name = 'SecretsKeyError';
}

/** 32 bytes, as 64 hex digits or base64 (44 characters); null when unset. */
export function parseSecretsKey(text: string | undefined, name = 'SECRETS_KEY'): Buffer | null {
  if (text === undefined || text.trim() === '') return null;
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : null;
  if (key === null || key.length !== 32) {
    throw new SecretsKeyError(`${name} must be 32 random bytes as 64 hex digits or base64 (make one with: openssl rand -base64 32)`);
  }
  return key;
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

type Settings = Record<string, unknown>;

export class SettingsSeal {
  private readonly openers: Map<string, Buffer>;

  /**
   * `key`: seals new values (null: keeps none; `plain` stores keep them as given, for tools and
   * tests without a database of record). `oldKeys`: also open values they sealed (rotation).
   */
  private constructor(
    private readonly key: Buffer | null,
    private readonly plain: boolean,
    oldKeys: readonly Buffer[] = [],
  ) {
    this.openers = new Map([...oldKeys, ...(key ? [key] : [])].map((k) => [keyIdOf(k), k]));
  }

  /** Seals under `key`; with null, refuses to keep a secret (SecretsKeyError) — what the service runs with. */
  static withKey(key: Buffer | null, oldKeys: readonly Buffer[] = []): SettingsSeal {
    return new SettingsSeal(key, false, oldKeys);
  }

  /** Keeps secrets as given: stores opened by tests and tools that are not the service. */
  static plaintext(): SettingsSeal {
    return new SettingsSeal(null, true);
  }

  /** The settings as the database keeps them: each secret sealed (already sealed ones kept). */
  sealSettings<T extends object>(settings: T): T {
    const out = { ...settings } as Settings;
    for (const name of SECRET_SETTING_KEYS) {
      const value = out[name];
      if (typeof value !== 'string' || value === '' || isSealed(value)) continue;
      if (this.plain) continue;
      if (this.key === null) {
        throw new SecretsKeyError(`SECRETS_KEY is required to keep a Sailthru ${name} in the database: set it to 32 random bytes (openssl rand -base64 32)`);
      }
      out[name] = this.seal(value);
    }
    return out as T;
  }

  /** The settings as read: each sealed secret opened. */
  openSettings<T extends object>(settings: T): T {
    const out = { ...settings } as Settings;
    for (const name of SECRET_SETTING_KEYS) {
      const value = out[name];
      if (typeof value === 'string' && isSealed(value)) out[name] = this.open(value, name);
    }
    return out as T;
  }

  /** Whether the kept settings have a secret that this seal would keep differently (plaintext, or sealed by another key). */
  needsReseal(kept: object): boolean {
    if (this.plain) return false;
    const keptSettings = kept as Settings;
    return SECRET_SETTING_KEYS.some((name) => {
      const value = keptSettings[name];
      if (typeof value !== 'string' || value === '') return false;
      return !isSealed(value) || this.key === null || value.split(':')[2] !== keyIdOf(this.key);
    });
  }

  private seal(value: string): string {
    const key = this.key!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `${PREFIX}${keyIdOf(key)}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  private open(value: string, name: string): string {
    const [, , keyId, payload] = value.split(':');
    const key = this.openers.get(keyId ?? '');
    if (!key) {
      throw new SecretsKeyError(
        this.openers.size === 0
          ? `the database keeps a sealed Sailthru ${name}: set SECRETS_KEY to the key it was sealed with`
          : `the database's Sailthru ${name} was sealed with another key (id ${keyId}) than SECRETS_KEY: set the key it was sealed with, or rotate (sailthru-destination rotate-secrets-key)`,
      );
    }
    try {
      const bytes = Buffer.from(payload ?? '', 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(AAD);
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsKeyError(`the database's sealed Sailthru ${name} does not open with SECRETS_KEY (damaged, or sealed with another key)`);
    }
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}
