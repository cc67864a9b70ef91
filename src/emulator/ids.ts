import { randomBytes } from 'node:crypto';

/**
 * Sailthru ids (sid, job_id, purchase _id) are 24-hex-digit MongoDB ObjectIds: 4 bytes of epoch
 * seconds, 5 random bytes, a 3-byte counter. The counter keeps them unique without a lookup.
 */
export class ObjectIdGenerator {
  private readonly processPart = randomBytes(5).toString('hex');
  private counter = randomBytes(3).readUIntBE(0, 3);

  next(nowMs = Date.now()): string {
    this.counter = (this.counter + 1) % 0x1000000;
    const seconds = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
    return seconds + this.processPart + this.counter.toString(16).padStart(6, '0');
  }
}
