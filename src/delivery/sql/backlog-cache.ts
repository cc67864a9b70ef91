/**
 * The total of unsettled events, asked on every ingest request (back-pressure): served from
 * memory for a short while, kept roughly current by what this process appends and settles.
 */
export class BacklogCache {
  private cached: { value: number; at: number } | null = null;

  constructor(private readonly maxAgeMs: number) {}

  async get(count: () => number | Promise<number>): Promise<number> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.maxAgeMs) return this.cached.value;
    const value = await count();
    this.cached = { value, at: now };
    return value;
  }

  stored(events: number): void {
    if (this.cached) this.cached.value += events;
  }

  settled(events = 1): void {
    if (this.cached) this.cached.value = Math.max(0, this.cached.value - events);
  }

  /** Many events changed at once (dead letters retried, a destination deleted): count again. */
  forget(): void {
    this.cached = null;
  }
}
