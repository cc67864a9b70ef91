/**
 * A write made on the condition that the destination is still at the version the writer read
 * (optimistic concurrency: two operators editing mappings at once, docs/mappings.md) found another
 * version: nothing was written.
 */
export class StaleVersionError extends Error {
  constructor(
    readonly destinationId: string,
    readonly expected: number,
  ) {
    super(`destination "${destinationId}" is no longer at version ${expected}`);
    this.name = 'StaleVersionError';
  }
}
