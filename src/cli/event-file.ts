import { readFile } from 'node:fs/promises';
import { isJsonObject, locateJsonSyntaxError, parseJsonBody, type JsonObject } from '../segment/index.ts';

/**
 * Files of Segment events as people have them: NDJSON (one event a line, what exports and logs
 * hold), a JSON array, or a batch body `{"batch": [...], "context": ...}`. A bad line is reported
 * by its line number and the other lines still count: one typo never costs a whole file.
 */

export type FileEntry =
  /** `where` is how to name the entry to a person: `line 7` (NDJSON) or `item 3` (arrays). */
  | { ok: true; where: string; value: unknown }
  | { ok: false; where: string; error: string };

export type EventFileFormat = 'ndjson' | 'array' | 'batch' | 'event';

export interface EventFile {
  format: EventFileFormat;
  /** Entries the file holds (invalid lines included), for progress. */
  total: number;
  /** In file order; NDJSON lines are parsed as they are read. */
  entries: Iterable<FileEntry>;
  /** Top-level fields of a `{"batch": [...]}` body other than `batch` (context, integrations). */
  batchFields: JsonObject;
}

/** Reads FILE, or standard input for `-`. */
export async function readEventText(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function eventFileOf(input: string): EventFile {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const start = text.search(/\S/);
  if (start === -1) return { format: 'ndjson', total: 0, entries: [], batchFields: {} };
  const first = text[start];

  const lines = () => text.split('\n');
  if (first === '[' || first === '{') {
    const whole = parseJsonBody(text);
    if (whole.ok) return documentOf(whole.value);
    // Not one document: NDJSON (whatever its bad lines), unless no line is an event on its own,
    // which is a pretty-printed document with a mistake in it.
    if (first === '{' && someLineIsAnObject(lines())) return ndjsonOf(lines());
    const found = locateJsonSyntaxError(text);
    const entry: FileEntry =
      found === null
        ? { ok: false, where: 'line 1', error: whole.error }
        : { ok: false, where: `line ${lineAt(text, found.position)}`, error: `Invalid JSON: ${found.problem} at column ${columnAt(text, found.position)}` };
    return { format: first === '[' ? 'array' : 'event', total: 1, entries: [entry], batchFields: {} };
  }
  return ndjsonOf(lines());
}

function ndjsonOf(lines: string[]): EventFile {
  return { format: 'ndjson', total: lines.filter((l) => l.trim() !== '').length, entries: ndjsonEntries(lines), batchFields: {} };
}

function documentOf(value: unknown): EventFile {
  if (Array.isArray(value)) {
    return { format: 'array', total: value.length, entries: value.map((v, i) => ({ ok: true, where: `item ${i + 1}`, value: v })), batchFields: {} };
  }
  if (isJsonObject(value) && Array.isArray(value.batch)) {
    const { batch, ...batchFields } = value;
    const items = batch as unknown[];
    return {
      format: 'batch',
      total: items.length,
      entries: items.map((v, i) => ({ ok: true, where: `batch item ${i + 1}`, value: v })),
      batchFields,
    };
  }
  return { format: 'event', total: 1, entries: [{ ok: true, where: 'line 1', value }], batchFields: {} };
}

function* ndjsonEntries(lines: string[]): Generator<FileEntry> {
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    const parsed = parseJsonBody(line);
    yield parsed.ok ? { ok: true, where: `line ${i + 1}`, value: parsed.value } : { ok: false, where: `line ${i + 1}`, error: notJson(line) };
  }
}

/**
 * `is not JSON (…)`: what a person reading the file needs first. A line that does not even
 * start like an event (text, a log prefix) is said to be so, not parsed as a misspelt `true`.
 */
function notJson(line: string): string {
  const start = line.search(/\S/);
  if (line[start] !== '{' && line[start] !== '[') return `is not JSON (an event line starts with "{", this one with ${JSON.stringify(line.trim().slice(0, 12))})`;
  const found = locateJsonSyntaxError(line);
  return found === null ? 'is not JSON' : `is not JSON (${found.problem} at column ${found.position + 1})`;
}

/** `line 2: reason`, or `line 2 is not JSON (…)` for a reason that reads on from the place. */
export function problemText(where: string, reason: string): string {
  return reason.startsWith('is ') ? `${where} ${reason}` : `${where}: ${reason}`;
}

function someLineIsAnObject(lines: string[]): boolean {
  return lines.some((line) => {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return false;
    try {
      return isJsonObject(JSON.parse(trimmed));
    } catch {
      return false;
    }
  });
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function columnAt(text: string, position: number): number {
  return position - (text.lastIndexOf('\n', position - 1) + 1) + 1;
}
