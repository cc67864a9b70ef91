import { appendFileSync } from 'node:fs';
import { FULL } from './scale.ts';

export type Figures = Record<string, number | string | boolean>;

/**
 * Prints what a run measured, one line per test, so docs/reliability.md can quote real numbers.
 * With RELIABILITY_FIGURES=<file> each line is also appended there as JSON.
 */
export function reportFigures(test: string, figures: Figures): void {
  const form = FULL ? 'full' : 'short';
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`[reliability] ${test} (${form}): ${text}`);
  const file = process.env.RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ test, form, at: new Date().toISOString(), ...figures })}\n`);
}
