import { describe, expect, it } from 'vitest';
import { compactCount, STATUS_LEGEND, STATUS_MAX_WIDTH, statusLine, type DemoFigures } from '../../src/cli/demo-status.ts';
import { LiveLine } from '../../src/cli/live-line.ts';
import { logLinesAbove, logText } from '../../src/cli/log-lines.ts';
import { ShutdownSignals } from '../../src/cli/shutdown-signals.ts';

const figures = (over: Partial<DemoFigures> = {}): DemoFigures => ({
  traffic: true,
  sent: 1250,
  accepted: 1234,
  rejected: 0,
  delivered: 1200,
  skipped: 3,
  retrying: 2,
  failed: 5,
  backlog: 29,
  callsPerSecond: 38.2,
  throttled: false,
  ...over,
});

describe('the demo status line', () => {
  it('reads as short labelled figures', () => {
    expect(statusLine(figures())).toBe('in 1.2k bad 0 | out 1.2k skip 3 retry 2 dead 5 | queue 29 | 38/s');
    expect(statusLine(figures({ traffic: false, throttled: true }))).toBe('out 1.2k skip 3 retry 2 dead 5 | queue 29 | busy');
  });

  it('fits 80 columns whatever the figures', () => {
    for (const n of [0, 7, 999, 1000, 9_949, 9_950, 99_999, 999_499, 999_500, 1_234_567, 999_999_999, 5e12]) {
      for (const throttled of [false, true]) {
        const line = statusLine(figures({ accepted: n, rejected: n, delivered: n, skipped: n, retrying: n, failed: n, backlog: n, callsPerSecond: n, throttled }));
        expect(line.length, line).toBeLessThanOrEqual(STATUS_MAX_WIDTH);
      }
    }
    for (const line of STATUS_LEGEND) expect(`  ${line}`.length).toBeLessThanOrEqual(80);
  });

  it('counts in at most 4 characters', () => {
    expect([0, 999, 1000, 1049, 9_949, 9_950, 12_345, 999_499, 999_500, 2_500_000, 7e9].map(compactCount)).toEqual([
      '0',
      '999',
      '1.0k',
      '1.0k',
      '9.9k',
      '10k',
      '12k',
      '999k',
      '1.0M',
      '2.5M',
      '7.0G',
    ]);
  });

  it('prints log lines above the line being redrawn, as text, never into it', () => {
    let written = '';
    const stream = { isTTY: true, columns: 80, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WritableStream;
    const live = new LiveLine(stream, { tty: true, redrawMs: 0 });
    const logs = logLinesAbove(live);
    live.update('in 1 bad 0 | out 1 skip 0 retry 0 dead 0 | queue 0 | 1/s');
    logs.write(`${JSON.stringify({ level: 40, time: 1, msg: 'chart sampling failed', err: { message: 'database is locked', stack: 'at x' } })}\n`);
    // Cleared, the log line as text, then the status line drawn again below it.
    expect(written).toBe(
      '\r\x1b[Kin 1 bad 0 | out 1 skip 0 retry 0 dead 0 | queue 0 | 1/s' +
        '\r\x1b[K[warn] chart sampling failed: database is locked\n' +
        'in 1 bad 0 | out 1 skip 0 retry 0 dead 0 | queue 0 | 1/s',
    );
    expect(written).not.toContain('{');
    expect(logText('not json')).toBe('not json');
    expect(logText(JSON.stringify({ level: 50, msg: 'pruning failed' }))).toBe('[error] pruning failed');
  });
});

describe('Ctrl-C during the demo', () => {
  it('one press stops, its copies are the same press, a later press forces, and after the stop nothing', () => {
    let now = 1000;
    const signals = new ShutdownSignals({ duplicateMs: 2000, now: () => now });
    expect(signals.receive()).toBe('stop');
    now += 10; // the group's copy and npm's forward arrive together
    expect(signals.receive()).toBe('same-press');
    now += 1500; // a busy machine delays a forwarded copy: still the same press
    expect(signals.receive()).toBe('same-press');
    now += 1000; // the operator presses again while the stop is still in progress
    expect(signals.receive()).toBe('force');
    signals.done();
    now += 10_000;
    expect(signals.receive()).toBe('stopped');
  });
});
