import { IngestRefusal } from './ingest-answers.ts';

/**
 * The backlog figure behind back-pressure, read at most every `maxAgeMs`, and the events this
 * process has admitted but not yet seen in it.
 *
 * Asking the store on every request would put a COUNT query in front of each ingest; a figure
 * 100 ms old is just as good for deciding whether clients should slow down, as long as what this
 * process admits meanwhile is added to it: `admit` checks and reserves in one synchronous step,
 * so requests arriving together cannot all pass on one old figure (MAX_BACKLOG is exceeded by at
 * most the last admitted request's events). Concurrent requests share one read in flight.
 */
export class BacklogGauge {
  private value: number | null = null;
  private readAt = 0;
  private inFlight: Promise<number> | null = null;
  /** Events of admitted requests whose append has not finished. */
  private reserved = 0;
  /** Events stored while a read was in flight: that read may have missed them. */
  private storedDuringRead = 0;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly maxAgeMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<number> {
    if (this.value !== null && this.now() - this.readAt < this.maxAgeMs) return this.value;
    if (this.inFlight === null) {
      this.storedDuringRead = 0;
      this.inFlight = this.read().then(
        (value) => {
          // Counting an event twice (the read saw it) only refuses a little early; missing it could overshoot.
          this.value = value + this.storedDuringRead;
          this.readAt = this.now();
          this.inFlight = null;
          return this.value;
        },
        (error: unknown) => {
          this.inFlight = null;
          throw error;
        },
      );
    }
    return this.inFlight;
  }

  /**
   * Admits a request of `events` events when the backlog, with every admitted request still being
   * stored, is at most `max`: returns its reservation, to be ended with `stored` or `failed`; null
   * when refused. Throws when the backlog cannot be read.
   */
  async admit(events: number, max: number): Promise<BacklogReservation | null> {
    const read = await this.current();
    // From here to the reservation nothing awaits: no other request can slip in between.
    const pending = (this.value ?? read) + this.reserved;
    if (pending > max) return null;
    this.reserved += events;
    let open = true;
    const end = (): boolean => {
      if (!open) return false;
      open = false;
      this.reserved -= events;
      return true;
    };
    return {
      stored: (stored) => {
        if (!end()) return;
        if (this.value !== null) this.value += stored;
        if (this.inFlight !== null) this.storedDuringRead += stored;
      },
      failed: () => {
        end();
      },
    };
  }
}

export interface BacklogReservation {
  /** The append committed `stored` new events (duplicates and refused events are not waiting). */
  stored(stored: number): void;
  /** Nothing was stored. */
  failed(): void;
}

/** MAX_BACKLOG, counting the requests this process is storing right now: the reservation, or a refusal. */
export async function admitOrRefuse(gauge: BacklogGauge, events: number, max: number, retryAfter: string): Promise<BacklogReservation> {
  let reservation: BacklogReservation | null;
  try {
    reservation = await gauge.admit(events, max);
  } catch {
    throw new IngestRefusal('INGEST_STORE_UNAVAILABLE', 'Could not read the delivery backlog; retry later', { 'retry-after': retryAfter });
  }
  if (reservation === null) {
    throw new IngestRefusal('INGEST_BACKLOG_FULL', 'Too many events are waiting for delivery; retry after the Retry-After delay', {
      'retry-after': retryAfter,
    });
  }
  return reservation;
}
