import { createHash, randomBytes } from 'node:crypto';

/**
 * Write keys are stored as SHA-256 hashes and looked up by hash, so the database never holds a
 * key and a lookup compares no secret byte by byte (nothing to time).
 */
export function hashWriteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * What the console shows of a key so an operator can tell keys apart: a generated key's "wk_" and
 * 4 characters (24 of its 256 bits), a chosen key's first 4 characters when it has 16 or more,
 * else nothing (a short key would give away too much of itself).
 */
export function writeKeyPrefix(key: string): string | null {
  if (key.startsWith('wk_') && key.length >= 40) return key.slice(0, 7);
  return key.length >= 16 ? key.slice(0, 4) : null;
}

/** 32 random bytes: guessing one is out of reach, so a plain SHA-256 (no salt, no KDF) suffices. */
export function generateWriteKey(): string {
  return `wk_${randomBytes(32).toString('base64url')}`;
}
