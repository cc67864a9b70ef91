import type { Pool, PoolClient } from 'pg';
import { eventSelects, filterClauses, mergeEvents, POSTGRES_NAME_KEY, type EventRange, type Placeholder } from '../sql/event-query.ts';
import type { EventRow } from '../sql/rows.ts';
import type { EventFilter } from '../store.ts';
import { pgText } from './connection.ts';

/** The events a filter selects within a range (searches, and batches of dead letters in a transaction). */
export async function selectEvents(db: Pool | PoolClient, filter: EventFilter, range: EventRange): Promise<Array<EventRow<unknown>>> {
  const values: unknown[] = [];
  const param: Placeholder = (value) => {
    values.push(typeof value === 'string' ? pgText(value) : value);
    return `$${values.length}`;
  };
  const clauses = filterClauses(filter, param, POSTGRES_NAME_KEY);
  if (clauses === null) return [];
  const selects = eventSelects(filter, clauses, range, param);
  const { rows } = await db.query<EventRow<unknown>>(selects.map((sql) => `(${sql})`).join(' UNION ALL '), values);
  return mergeEvents(rows, range);
}
