import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig, Pool } from 'pg';

/**
 * "Work may be due" across processes: LISTEN/NOTIFY on one channel per schema. Local listeners
 * hear it at once after a commit in this process; other processes hear the NOTIFY. Notifies are
 * coalesced (while one is on its way, any number of further announcements send one more), and
 * the LISTEN connection is opened only once someone listens (ingest-only nodes never do).
 * Nothing here is needed for correctness: workers also poll.
 */
export class PgWorkSignal {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelayMs = 250;
  private notifying = false;
  private notifyAgain = false;
  private notifyDone: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly listenConfig: ClientConfig,
    /** Case-sensitive; quoted in LISTEN. */
    readonly channel: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.connecting && !this.closed) this.connect();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves once this process's LISTEN is in place (tests; workers need not wait). */
  async listening(): Promise<void> {
    while (!this.client && !this.closed) {
      if (!this.connecting) this.connect();
      await this.connecting;
      if (!this.client) await new Promise((r) => setTimeout(r, this.reconnectDelayMs));
    }
  }

  /** After a commit that made work due: wake this process now, and the others by NOTIFY. */
  announce(): void {
    this.wakeLocal();
    if (this.closed) return;
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.notifyDone = this.sendNotifies();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    await this.notifyDone;
    await this.connecting;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  private wakeLocal(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async sendNotifies(): Promise<void> {
    try {
      do {
        this.notifyAgain = false;
        try {
          await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, '']);
        } catch (error) {
          // The other processes' poll covers a lost wake-up.
          this.onError(error);
        }
      } while (this.notifyAgain && !this.closed);
    } finally {
      this.notifying = false;
    }
  }

  private connect(): void {
    this.connecting = this.openListener().finally(() => {
      this.connecting = null;
    });
  }

  private async openListener(): Promise<void> {
    const client = new pg.Client(this.listenConfig);
    client.on('error', (error) => {
      this.onError(error);
      this.dropListener(client);
    });
    client.on('end', () => this.dropListener(client));
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.wakeLocal();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
    } catch (error) {
      this.onError(error);
      await client.end().catch(() => {});
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.reconnectDelayMs = 250;
    // Anything announced while we were not listening: look once.
    this.wakeLocal();
  }

  private dropListener(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    void client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.listeners.size === 0) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, 30_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.client && !this.connecting && !this.closed) this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** NOTIFY channels are identifiers of at most 63 bytes: long schema names are hashed in. */
export function channelFor(schema: string): string {
  const channel = `sailthru_work_${schema}`;
  return channel.length <= 63 ? channel : `sailthru_work_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}
