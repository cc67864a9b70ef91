import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root, whatever directory vitest runs from. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
}

/**
 * A message as the docs quote it: each varying part replaced by `…`, in order (a part is looked
 * for after the previous one, so a digit in a fixed word is never taken for a varying number).
 */
export function quoted(actual: string, ...varying: string[]): string {
  let out = '';
  let rest = actual;
  for (const part of varying) {
    const at = rest.indexOf(part);
    if (at < 0) throw new Error(`"${part}" is not in the rest of the message: ${rest}`);
    out += `${rest.slice(0, at)}…`;
    rest = rest.slice(at + part.length);
  }
  return out + rest;
}

/** The lines of a Dockerfile or unit file with `\` continuations joined. */
export function logicalLines(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in the output (stdout and stderr). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** Runs a command as the deployment files run it: from the repository root, with this env only. */
export function run(command: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 45_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out);
        if (!match) return;
        cleanup();
        resolve(match);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      void exited.then(() => {
        check();
        if (listeners.has(check)) {
          cleanup();
          reject(new Error(`exited before ${pattern}:\n${out}`));
        }
      });
      check();
    });
  return { process: child, output: () => out, exited, waitFor };
}

/** PATH and HOME only: the deployment files pass nothing else implicitly. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
}
