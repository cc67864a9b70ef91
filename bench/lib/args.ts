/**
 * The few command-line flags the benchmarks share: `--quick` for a short run, and
 * `--name value` / `--name=value` for a script's own parameters.
 */
export interface BenchArgs {
  quick: boolean;
  /** A flag's value, or undefined when not given. */
  get(name: string): string | undefined;
  /** A numeric flag; fallback when absent. Throws on a value that is not a number. */
  number(name: string, fallback: number): number;
  /** A comma-separated list of numbers. */
  numbers(name: string, fallback: number[]): number[];
  has(name: string): boolean;
}

export function parseArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) {
      values.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        values.set(arg.slice(2), next);
        i++;
      } else {
        values.set(arg.slice(2), 'true');
      }
    }
  }
  const number = (name: string, fallback: number): number => {
    const v = values.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number (got "${v}")`);
    return n;
  };
  return {
    quick: values.has('quick') && values.get('quick') !== 'false',
    get: (name) => values.get(name),
    has: (name) => values.has(name),
    number,
    numbers(name, fallback) {
      const v = values.get(name);
      if (v === undefined) return fallback;
      return v.split(',').map((s) => {
        const n = Number(s.trim());
        if (!Number.isFinite(n)) throw new Error(`--${name} must be numbers separated by commas (got "${v}")`);
        return n;
      });
    },
  };
}
