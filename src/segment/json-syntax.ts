/**
 * Finds where a JSON text goes wrong, to tell a client exactly what to fix.
 *
 * V8's own JSON.parse messages sometimes quote a slice of the input ("Unexpected token 'x',
 * "{"writeKey":"…" is not valid JSON"), and request bodies carry write keys, so ingest never
 * passes them on. This scanner runs only after JSON.parse has already failed, and it is iterative
 * so a body of 500 KB of '[' cannot exhaust the stack.
 */

export interface JsonSyntaxError {
  /** Offset in the text (UTF-16 code units, as JavaScript strings count). */
  position: number;
  problem: string;
}

type State =
  | 'value'
  | 'value-or-close' // just after '['
  | 'key-or-close' // just after '{'
  | 'key' // after ',' in an object
  | 'colon'
  | 'comma-or-close'
  | 'end';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX = /^[0-9a-fA-F]{4}$/;

/** Shows one character of the input, never more (the input may hold secrets). */
export function describeCharacter(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f || code > 0x7e) {
    return `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${ch}'`;
}

/** The first syntax error of `text`, or null when it is valid JSON. */
export function locateJsonSyntaxError(text: string): JsonSyntaxError | null {
  const containers: Array<'{' | '['> = [];
  let state: State = 'value';
  let i = 0;

  const fail = (position: number, problem: string): JsonSyntaxError => ({ position, problem });
  const afterValue = (): State => (containers.length > 0 ? 'comma-or-close' : 'end');

  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
    if (i >= text.length) {
      return state === 'end' ? null : fail(i, 'unexpected end of input');
    }
    const ch = text[i] as string;

    switch (state) {
      case 'end':
        return fail(i, `unexpected ${describeCharacter(ch)} after the end of the JSON value`);

      case 'colon':
        if (ch !== ':') return fail(i, `expected ':' after a property name, found ${describeCharacter(ch)}`);
        i++;
        state = 'value';
        continue;

      case 'key-or-close':
      case 'key': {
        if (ch === '}' && state === 'key-or-close') {
          containers.pop();
          i++;
          state = afterValue();
          continue;
        }
        if (ch !== '"') {
          const expected = state === 'key-or-close' ? "a property name in double quotes or '}'" : 'a property name in double quotes';
          return fail(i, `expected ${expected}, found ${describeCharacter(ch)}`);
        }
        const end = scanString(text, i);
        if (typeof end !== 'number') return end;
        i = end;
        state = 'colon';
        continue;
      }

      case 'comma-or-close': {
        const open = containers[containers.length - 1];
        const close = open === '{' ? '}' : ']';
        if (ch === ',') {
          i++;
          state = open === '{' ? 'key' : 'value';
          continue;
        }
        if (ch === close) {
          containers.pop();
          i++;
          state = afterValue();
          continue;
        }
        return fail(i, `expected ',' or '${close}', found ${describeCharacter(ch)}`);
      }

      case 'value-or-close':
        if (ch === ']') {
          containers.pop();
          i++;
          state = afterValue();
          continue;
        }
        break;

      case 'value':
        break;
    }

    // A value starts here.
    if (ch === '{' || ch === '[') {
      containers.push(ch);
      i++;
      state = ch === '{' ? 'key-or-close' : 'value-or-close';
      continue;
    }
    const end =
      ch === '"'
        ? scanString(text, i)
        : ch === '-' || (ch >= '0' && ch <= '9')
          ? scanNumber(text, i)
          : scanLiteral(text, i);
    if (typeof end !== 'number') return end;
    i = end;
    state = afterValue();
  }
}

function scanString(text: string, start: number): number | JsonSyntaxError {
  let j = start + 1;
  while (j < text.length) {
    const ch = text[j] as string;
    if (ch === '"') return j + 1;
    if (ch < ' ') {
      return { position: j, problem: `unescaped ${describeCharacter(ch)} in a string` };
    }
    if (ch === '\\') {
      const next = text[j + 1];
      if (next === undefined) break;
      if (next === 'u') {
        if (!HEX.test(text.slice(j + 2, j + 6))) {
          return { position: j, problem: 'bad \\u escape in a string (needs four hex digits)' };
        }
        j += 6;
        continue;
      }
      if (!SIMPLE_ESCAPES.has(next)) {
        return { position: j, problem: `bad escape \\${describeCharacter(next)} in a string` };
      }
      j += 2;
      continue;
    }
    j++;
  }
  return { position: text.length, problem: 'unexpected end of input inside a string' };
}

function scanNumber(text: string, start: number): number | JsonSyntaxError {
  let j = start;
  const digits = (): number => {
    const from = j;
    while (j < text.length && (text[j] as string) >= '0' && (text[j] as string) <= '9') j++;
    return j - from;
  };
  const expectDigit = (after: string): JsonSyntaxError => ({
    position: j,
    problem:
      j >= text.length
        ? `unexpected end of input: expected a digit ${after}`
        : `expected a digit ${after}, found ${describeCharacter(text[j] as string)}`,
  });

  if (text[j] === '-') j++;
  if (text[j] === '0') {
    j++;
  } else if (digits() === 0) {
    return expectDigit("after '-'");
  }
  if (text[j] === '.') {
    j++;
    if (digits() === 0) return expectDigit("after '.'");
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    if (digits() === 0) return expectDigit('in the exponent');
  }
  return j;
}

function scanLiteral(text: string, start: number): number | JsonSyntaxError {
  for (const literal of ['true', 'false', 'null']) {
    if (text[start] !== literal[0]) continue;
    for (let k = 1; k < literal.length; k++) {
      const ch = text[start + k];
      if (ch === undefined) return { position: start + k, problem: `unexpected end of input inside '${literal}'` };
      if (ch !== literal[k]) {
        return { position: start + k, problem: `unexpected ${describeCharacter(ch)} (expected '${literal}')` };
      }
    }
    return start + literal.length;
  }
  return { position: start, problem: `unexpected ${describeCharacter(text[start] as string)}` };
}
