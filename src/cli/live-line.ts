/**
 * One line of live status for a terminal: redrawn in place on a TTY, printed as a new line every
 * few seconds otherwise (logs, CI, a pipe), so both read well.
 */
export interface LiveLineOptions {
  /** Redraws at most this often on a TTY. default 100 ms */
  redrawMs?: number;
  /** Without a TTY, one line at most this often. default 5000 ms */
  lineEveryMs?: number;
  /** Treat the stream as a terminal or not (default: its isTTY). */
  tty?: boolean;
  now?: () => number;
}

export class LiveLine {
  readonly tty: boolean;
  private readonly redrawMs: number;
  private readonly lineEveryMs: number;
  private readonly now: () => number;
  private shown = '';
  private lastDraw = -Infinity;
  private latest = '';

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    options: LiveLineOptions = {},
  ) {
    this.tty = options.tty ?? stream.isTTY === true;
    this.redrawMs = options.redrawMs ?? 100;
    this.lineEveryMs = options.lineEveryMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** The current status; drawn now or at the next chance. `force` draws it whatever the pace. */
  update(text: string, force = false): void {
    this.latest = text;
    const now = this.now();
    if (!force && now - this.lastDraw < (this.tty ? this.redrawMs : this.lineEveryMs)) return;
    this.lastDraw = now;
    if (this.tty) {
      const width = Math.max((this.stream.columns || 120) - 1, 20);
      this.shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      this.stream.write(`\r\x1b[K${this.shown}`);
    } else if (text !== this.shown) {
      this.shown = text;
      this.stream.write(`${text}\n`);
    }
  }

  /** A permanent line, printed above the live one. */
  print(text: string): void {
    if (this.tty && this.shown !== '') this.stream.write('\r\x1b[K');
    this.stream.write(`${text}\n`);
    if (this.tty && this.shown !== '') this.stream.write(this.shown);
  }

  /** Leaves the last status on screen and moves below it. */
  finish(): void {
    if (this.latest !== '' && this.latest !== this.shown) this.update(this.latest, true);
    if (this.tty && this.shown !== '') this.stream.write('\n');
    this.shown = '';
  }
}

/** `[#########-----------]  45%` */
export function bar(done: number, total: number, width = 20): string {
  const share = total <= 0 ? 1 : Math.min(done / total, 1);
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 request`, `3 requests` */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}
