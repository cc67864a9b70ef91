/**
 * The backlog figure behind back-pressure, read at most every `maxAgeMs`.
 *
 * Asking the store on every request would put a COUNT query in front of each ingest; a figure
 * 100 ms old is just as good for deciding whether clients should slow down. Concurrent requests
 * share one read in flight.
 */
export class BacklogGauge {
  private value: number | null = null;
  private readAt = 0;
  private inFlight: Promise<number> | null = null;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly maxAgeMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<number> {
    if (this.value !== null && this.now() - this.readAt < this.maxAgeMs) return this.value;
    if (this.inFlight === null) {
      this.inFlight = this.read().then(
        (value) => {
          this.value = value;
          this.readAt = this.now();
          this.inFlight = null;
          return value;
        },
        (error: unknown) => {
          this.inFlight = null;
          throw error;
        },
      );
    }
    return this.inFlight;
  }
}
