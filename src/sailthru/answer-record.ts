/**
 * What the delivery log keeps of one Sailthru answer. Every attempt stores its calls (twice: in
 * the attempt and in the event's outcome), and whatever answers at Sailthru's address decides
 * what an answer holds: up to 1 MB (the read cap), nested as deep as it likes, quoting whatever
 * it likes. So what is kept is bounded here, and says so where it was cut:
 * - the parsed answer body: at most MAX_RECORDED_ANSWER_BYTES as JSON and MAX_RECORDED_ANSWER_DEPTH
 *   levels; a larger or deeper one is kept as `{ cut, excerpt }`;
 * - the error message (Sailthru's `errormsg`, a redirect's target…): at most
 *   MAX_RECORDED_MESSAGE_CHARS characters, then "… [cut: N characters in all]".
 * Response headers are not kept (only the X-Rate-Limit-* values, as numbers, are used).
 *
 * Both are masked first: an answer (or a proxy's error page) may echo the request, and with it the
 * request's `sig`, from which the shared secret could be searched for offline, or the secret itself.
 * Masking before cutting, so no part of a secret survives at the edge of a cut.
 */

/** A real Sailthru answer (a user's keys and vars, a purchase) is well under this. */
export const MAX_RECORDED_ANSWER_BYTES = 4 * 1024;
/**
 * The request payload of a call, as kept: one built from an event is under it (an event is at most
 * 32 KB, its batch context 16 KB), but a cart is posted whole as Sailthru's answer gave it, and a
 * hostile answer can make that cart as large as the read cap.
 */
export const MAX_RECORDED_PAYLOAD_BYTES = 64 * 1024;
export const MAX_RECORDED_ANSWER_DEPTH = 32;
export const MAX_RECORDED_MESSAGE_CHARS = 500;

/** The form an answer body takes in the delivery log when it was too large or deep to keep. */
export interface CutAnswer {
  cut: string;
  /** The answer's first bytes as JSON text. */
  excerpt: string;
}

const MASK = '[redacted]';

/** The answer body as the delivery log keeps it, `secrets` masked. */
export function recordedAnswer(value: unknown, secrets: readonly string[]): unknown {
  return recordedJson(value, secrets, 'answer', MAX_RECORDED_ANSWER_BYTES, MAX_RECORDED_ANSWER_DEPTH);
}

/** The request payload as the delivery log keeps it (bounded like an answer, more generously). */
export function recordedPayload(value: unknown, json?: string): unknown {
  // Events are at most 64 levels deep (segment/limits.ts); flattened vars are flat.
  return recordedJson(value, [], 'payload', MAX_RECORDED_PAYLOAD_BYTES, 2 * MAX_RECORDED_ANSWER_DEPTH + 8, json);
}

/** `json`, when given, is JSON.stringify(value) already made (the client signed it): not made again. */
function recordedJson(value: unknown, secrets: readonly string[], what: string, maxBytes: number, maxDepth: number, json?: string): unknown {
  if (deeperThan(value, maxDepth)) {
    // Not serialisable by JSON.stringify without risking the stack: no excerpt of it either.
    return { cut: `the ${what} nests deeper than ${maxDepth} levels; not kept`, excerpt: '' } satisfies CutAnswer;
  }
  const original = json ?? JSON.stringify(value) ?? 'null';
  const text = maskSecrets(original, secrets);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) {
    if (text === original) return value;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // A secret spanning JSON syntax (it holds a quote): the masked text is kept as an excerpt.
      return { cut: 'a secret was masked across the JSON; kept as text', excerpt: text } satisfies CutAnswer;
    }
  }
  return {
    cut: `the ${what} is ${bytes} bytes as JSON; the first ${maxBytes} are kept`,
    excerpt: utf8Prefix(text, maxBytes),
  } satisfies CutAnswer;
}

/** A message for the delivery log, `secrets` masked, at most MAX_RECORDED_MESSAGE_CHARS characters and the note. */
export function recordedMessage(message: string, secrets: readonly string[]): string {
  const masked = maskSecrets(message, secrets);
  if (masked.length <= MAX_RECORDED_MESSAGE_CHARS) return masked;
  return `${masked.slice(0, MAX_RECORDED_MESSAGE_CHARS)}… [cut: ${masked.length} characters in all]`;
}

/**
 * Every occurrence of each secret replaced: as is, as it appears inside a JSON string, and
 * URL-encoded (an echo of a form body). Very short strings would match ordinary text.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([JSON.stringify(secret).slice(1, -1), secret, encodeURIComponent(secret)])) {
      if (out.includes(form)) out = out.split(form).join(MASK);
    }
  }
  return out;
}

/** Bounded recursion: at most `limit` frames however deep the value goes. */
function deeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
  for (const child of children) if (deeperThan(child, limit - 1)) return true;
  return false;
}

/** At most `bytes` bytes of UTF-8, not splitting a character. */
function utf8Prefix(text: string, bytes: number): string {
  const cut = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8');
  return cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut;
}
