import pino, { type Logger } from 'pino';

/**
 * Structured logs. Request headers and bodies are never logged (they carry write keys, the
 * admin token and the events themselves); the redact list is a second line of defence for
 * anything that puts such fields into a log object anyway.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'sharedSecret',
  '*.sharedSecret',
  'settings.sharedSecret',
  '*.settings.sharedSecret',
  'writeKey',
  '*.writeKey',
  'adminToken',
  '*.adminToken',
  'secret',
  '*.secret',
  'sig',
  '*.sig',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
