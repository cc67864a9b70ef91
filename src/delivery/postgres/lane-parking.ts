/**
 * Where a lane with nothing queued and no lease waits: `next_run_at` at a time no clock reaches
 * (the largest integer a JS number holds exactly, so reading it back is safe). The claim index
 * holds every lane by `next_run_at` alone; parking empty lanes at its far end keeps them out of
 * a claim's range without a `pending > 0` index predicate. Such a predicate would make every
 * change of the count a non-HOT update; without it, an append to a lane that already has events
 * and a settle that keeps its lease change only unindexed columns, and are HOT.
 *
 * Kept true by every write of `lanes`: a lane with `pending > 0` is never parked (append,
 * replay and release make it due, a lease keeps its lease time), and a lane is parked only when
 * it is handed back with nothing left.
 */
export const PARKED_AT = 9_007_199_254_740_991;

/** The SQL literal, for statements (a constant, so prepared statements stay one plan). */
export const PARKED_SQL = `${PARKED_AT}::bigint`;
