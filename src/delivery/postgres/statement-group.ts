/**
 * Group commit for one kind of statement: a request goes to PostgreSQL at once when a slot is
 * free; the requests that arrive while every slot is busy go together in the next statement,
 * one transaction for all of them. Nothing ever waits for company, so a request is never later
 * than the statements already on their way: grouping changes how many transactions there are,
 * not what a crash can leave undone. When a group fails, its requests are tried alone, so one
 * bad request fails by itself.
 */
export interface StatementGroupOptions<I, O> {
  /** Runs one group; returns one result per request, in order. */
  run(requests: I[]): Promise<O[]>;
  /** Requests that may not share a statement (e.g. two settles of one lane) have the same key. */
  keyOf?(request: I): string;
  /** Statements on their way at once. */
  slots?: number;
  /** Most requests in one statement. */
  maxGroup?: number;
}

interface Waiting<I, O> {
  request: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

export class StatementGroup<I, O> {
  /** Statements sent so far (tests check that requests shared them). */
  statements = 0;
  private readonly waiting: Array<Waiting<I, O>> = [];
  private busy = 0;
  private idle: Array<() => void> = [];
  private readonly slots: number;
  private readonly maxGroup: number;

  constructor(private readonly options: StatementGroupOptions<I, O>) {
    this.slots = Math.max(1, options.slots ?? 1);
    this.maxGroup = Math.max(1, options.maxGroup ?? 500);
  }

  submit(request: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is waiting or on its way. */
  drained(): Promise<void> {
    if (this.busy === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.busy < this.slots && this.waiting.length > 0) {
      const group = this.take();
      this.busy++;
      void this.send(group).finally(() => {
        this.busy--;
        this.pump();
        if (this.busy === 0 && this.waiting.length === 0) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  /** The oldest waiting requests, up to maxGroup, at most one per key (the others wait their turn, in order). */
  private take(): Array<Waiting<I, O>> {
    const keyOf = this.options.keyOf;
    if (!keyOf) return this.waiting.splice(0, this.maxGroup);
    const group: Array<Waiting<I, O>> = [];
    const keys = new Set<string>();
    const left: Array<Waiting<I, O>> = [];
    for (const w of this.waiting) {
      const key = keyOf(w.request);
      if (group.length < this.maxGroup && !keys.has(key)) {
        keys.add(key);
        group.push(w);
      } else {
        left.push(w);
      }
    }
    this.waiting.splice(0, this.waiting.length, ...left);
    return group;
  }

  private async send(group: Array<Waiting<I, O>>): Promise<void> {
    this.statements++;
    try {
      const results = await this.options.run(group.map((w) => w.request));
      group.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const w of group) {
        this.statements++;
        await this.options.run([w.request]).then((r) => w.resolve(r[0]!), w.reject);
      }
    }
  }
}
