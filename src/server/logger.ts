import pino, { type DestinationStream, type Logger } from 'pino';
import { SECRET_SETTING_KEYS } from '../destination/settings.ts';

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
  ...SECRET_SETTING_KEYS.flatMap((key) => [key, `*.${key}`, `settings.${key}`, `*.settings.${key}`]),
  'writeKey',
  '*.writeKey',
  'adminToken',
  '*.adminToken',
  'secret',
  '*.secret',
  'sig',
  '*.sig',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
