export { SailthruClient, DEFAULT_API_URL, DEFAULT_TRACK_URL, PAGEVIEW_ENDPOINT } from './client.ts';
export type { SailthruClientOptions } from './client.ts';
export { signature, signedParams, signatureValues } from './signature.ts';
export { classifyError, errorEnvelope } from './classify.ts';
export { parseRateLimitHeaders } from './rate-limit-headers.ts';
export type * from './types.ts';
