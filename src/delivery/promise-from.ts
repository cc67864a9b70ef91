/**
 * Calls a function that returns a promise, turning a synchronous throw into a rejection, so the
 * caller handles one failure path. Used where a promise is started from synchronous code on
 * purpose: an async function would keep its arguments (a whole ingest batch) reachable until it
 * settles (see SqliteEventStore.append).
 */
export function promiseFrom<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}
