/** pino's levels, the values LOG_LEVEL and `demo --log-level` take (docs/operating.md). */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
