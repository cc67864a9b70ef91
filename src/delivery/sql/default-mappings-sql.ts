import { DEFAULT_MAPPINGS } from '../../destination/mappings/defaults.ts';

/**
 * The default mapping list as an SQL text literal, for the migration that gives every existing
 * destination explicit mappings (issue 21: an existing database is migrated to explicit default
 * mappings with no change in what is sent). Destinations created later have none configured
 * until an operator saves some, and follow DEFAULT_MAPPINGS as the program defines it.
 */
export const DEFAULT_MAPPINGS_SQL_LITERAL = `'${JSON.stringify(DEFAULT_MAPPINGS).replace(/'/g, "''")}'`;
