/**
 * An append-only log that keeps the newest `capacity` entries, each with an increasing sequence
 * number. Appending and reading "everything after seq N" cost no scan of older entries, so the
 * emulator can record every request of a long benchmark.
 */
export class BoundedLog<T> {
  private entries: T[] = [];
  private start = 0;
  /** Sequence number of entries[start]. */
  private firstSeq = 1;
  private nextSeqValue = 1;
  private appendedSinceClear = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** The sequence number the next appended entry gets. */
  get nextSeq(): number {
    return this.nextSeqValue;
  }

  get lastSeq(): number {
    return this.nextSeqValue - 1;
  }

  /** Entries appended since the log was created or cleared, also those no longer kept. */
  get appended(): number {
    return this.appendedSinceClear;
  }

  get size(): number {
    return this.entries.length - this.start;
  }

  append(entry: T): number {
    const seq = this.nextSeqValue++;
    this.appendedSinceClear++;
    this.entries.push(entry);
    if (this.size > this.capacity) {
      this.start++;
      this.firstSeq++;
      // Compact now and then instead of shifting on every append.
      if (this.start >= this.capacity) {
        this.entries = this.entries.slice(this.start);
        this.start = 0;
      }
    }
    return seq;
  }

  /** Entries with a sequence number greater than `seq` (all when seq is 0), oldest first. */
  after(seq = 0): T[] {
    const skip = Math.max(0, seq - this.firstSeq + 1);
    return this.entries.slice(this.start + skip);
  }

  /** Drops the entries; sequence numbers keep increasing so a poller never mistakes old for new. */
  clear(): void {
    this.entries = [];
    this.start = 0;
    this.firstSeq = this.nextSeqValue;
    this.appendedSinceClear = 0;
  }
}
