import { TRACKING_ROUTES, type TrackingRoute } from './normalize.ts';

/**
 * Every path Segment-spec clients post events to, and the tracking route each one is.
 *
 * - `/v1/batch|identify|track|page|screen|group|alias`: Segment's HTTP Tracking API, server libraries.
 * - `/v1/t|i|p|s|g|a` and `/v1/b`: analytics.js posts to `{apiHost}/t` … (`/b` in batching mode), and
 *   the mobile libraries (analytics-swift, analytics-kotlin, analytics-react-native) post their
 *   batches to `{host}/b`.
 * - `/v1/import`: Segment's and RudderStack's bulk import, the same body as `/v1/batch`.
 * - `/beacon/v1/batch`: RudderStack's JavaScript SDK with `useBeacon`, whose `navigator.sendBeacon`
 *   cannot set headers: the write key comes in the query string (`?writeKey=`).
 */
export interface TrackingPath {
  path: string;
  route: TrackingRoute;
  /** The write key may come as `?writeKey=` (only where the client cannot send a header). */
  writeKeyInQuery: boolean;
}

const SHORT: Record<string, TrackingRoute> = { b: 'batch', i: 'identify', t: 'track', p: 'page', s: 'screen', g: 'group', a: 'alias' };

export const TRACKING_PATHS: readonly TrackingPath[] = [
  ...TRACKING_ROUTES.map((route) => ({ path: `/v1/${route}`, route, writeKeyInQuery: false })),
  ...Object.entries(SHORT).map(([letter, route]) => ({ path: `/v1/${letter}`, route, writeKeyInQuery: false })),
  { path: '/v1/import', route: 'batch', writeKeyInQuery: false },
  { path: '/beacon/v1/batch', route: 'batch', writeKeyInQuery: true },
];

/** Segment's Webhooks destinations (one event, an array, a delete notification). */
export const WEBHOOK_PATH = '/v1/webhook';
