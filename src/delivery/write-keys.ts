import { createHash, randomBytes } from 'node:crypto';

/**
 * Write keys are stored as SHA-256 hashes and looked up by hash, so the database never holds a
 * key and a lookup compares no secret byte by byte (nothing to time).
 */
export function hashWriteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** 32 random bytes: guessing one is out of reach, so a plain SHA-256 (no salt, no KDF) suffices. */
export function generateWriteKey(): string {
  return `wk_${randomBytes(32).toString('base64url')}`;
}
