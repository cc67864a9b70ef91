/** The tables of per-process buckets: the charts' and the per-mapping cost figures (same shape). */
export type BucketTable = 'series_buckets' | 'mapping_buckets';

export const BUCKET_TABLES: readonly BucketTable[] = ['series_buckets', 'mapping_buckets'];
