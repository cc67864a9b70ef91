import { basic } from '../../e2e/harness.ts';

/**
 * A Segment-like client that keeps re-sending a batch (same messageIds) until the server answers
 * 200, across crashes and restarts, and counts what happened on the way. Only a 200 counts as
 * acknowledged; anything other than 200, 503 or a network error is a test failure.
 */
export class AcknowledgedSender {
  acknowledgedEvents = 0;
  inFlight = 0;
  /** Requests whose connection died under them (the server was killed while they were in flight). */
  cutRequests = 0;
  /** Attempts refused at connect (the server was down, restarting). */
  refusedRequests = 0;
  serviceUnavailable = 0;
  readonly unexpected: string[] = [];

  constructor(
    private readonly baseUrl: () => string,
    private readonly writeKey: string,
    private readonly retryDelayMs = 25,
  ) {}

  async send(batch: unknown[], maxMs = 120_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    const body = JSON.stringify({ batch });
    for (;;) {
      this.inFlight++;
      let status = 0;
      let text = '';
      try {
        const res = await fetch(`${this.baseUrl()}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...basic(this.writeKey) },
          body,
        });
        status = res.status;
        text = await res.text();
      } catch (error) {
        if (causeCode(error) === 'ECONNREFUSED') this.refusedRequests++;
        else this.cutRequests++;
      } finally {
        this.inFlight--;
      }
      if (status === 200) {
        this.acknowledgedEvents += batch.length;
        return;
      }
      if (status === 503 || status === 429) this.serviceUnavailable++;
      else if (status !== 0) this.unexpected.push(`HTTP ${status}: ${text.slice(0, 200)}`);
      if (Date.now() > deadline) throw new Error(`batch not acknowledged within ${maxMs} ms`);
      await new Promise((r) => setTimeout(r, this.retryDelayMs));
    }
  }
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
