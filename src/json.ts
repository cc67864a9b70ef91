/**
 * A JSON object as parsed from a client or for Sailthru: any field may hold anything, so readers
 * check each one. Shared by segment/, sailthru/ and destination/, which must not know each other
 * in both directions; this module imports nothing.
 */
export type JsonObject = { [key: string]: unknown };
