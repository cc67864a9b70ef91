import type { WriteKeyDirectory } from './ingest.ts';
import type { WriteKeyStore } from './store.ts';

/**
 * Ingest's write-key lookups, remembering which keys were accepted so the console can say when
 * each was last used. The times are written about once a minute, not per request: ingest's
 * hot path gains no write.
 */
export class WriteKeyUsage implements WriteKeyDirectory {
  private readonly used = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Pick<WriteKeyStore, 'destinationFor' | 'recordWriteKeyUse'>,
    private readonly options: { flushMs?: number; now?: () => number; onError?: (error: unknown) => void } = {},
  ) {}

  async destinationFor(writeKey: string): Promise<string | null> {
    const destination = await this.store.destinationFor(writeKey);
    if (destination !== null && !this.used.has(writeKey)) {
      this.used.add(writeKey);
      this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 60_000).unref();
    }
    return destination;
  }

  /** Writes the keys used since the last flush (also at shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const keys = [...this.used];
    this.used.clear();
    if (keys.length === 0) return;
    try {
      await this.store.recordWriteKeyUse(keys, new Date((this.options.now ?? Date.now)()));
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
