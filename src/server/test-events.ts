/**
 * Events sent from the event tester carry `context.sailthruDestinationTest: true`, so the
 * delivery log and the live view can label them as tests. Context is not sent to Sailthru.
 */
const MARK = 'sailthruDestinationTest';

export function markTestEvent(event: Record<string, unknown>): Record<string, unknown> {
  const context = typeof event.context === 'object' && event.context !== null && !Array.isArray(event.context) ? (event.context as Record<string, unknown>) : {};
  return { ...event, context: { ...context, [MARK]: true } };
}

export function isTestEvent(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const context = (payload as { context?: unknown }).context;
  return typeof context === 'object' && context !== null && (context as Record<string, unknown>)[MARK] === true;
}
