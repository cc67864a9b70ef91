import Type, { type TSchema } from 'typebox';
import type { SegmentEvent } from '../../segment/event.ts';
import { eventWith, filterVars, resolveSource, type VarsRoots } from './fields.ts';
import { SourceSchema, VarsSchema, type Source, type VarsFilter } from './schema.ts';

/**
 * The kinds of field an action declares (actions.ts), each a TypeBox schema with its default and
 * the console's label, plus how a value chosen for it reaches the action.
 */

interface FieldBase {
  title: string;
  description: string;
}

/** Text taken from the event (paths, first present wins) or fixed. */
export interface SourceField extends FieldBase {
  kind: 'source';
  default: Source;
  schema: TSchema;
  /**
   * Where the SPEC.md mapping reads it: the resolved text is written there (undefined: removed).
   * Absent for fields the action reads itself (the list name).
   */
  write?: (event: SegmentEvent, value: string | undefined) => SegmentEvent;
}

/** Which properties (or traits) become vars. */
export interface VarsField extends FieldBase {
  kind: 'vars';
  default: VarsFilter;
  schema: TSchema;
  roots: VarsRoots;
}

export type FieldDecl = SourceField | VarsField;

export function sourceField(
  title: string,
  description: string,
  defaultValue: Source,
  write?: (event: SegmentEvent, value: string | undefined) => SegmentEvent,
): SourceField {
  const schema = Type.Optional({ ...SourceSchema, title, description, default: defaultValue });
  return { kind: 'source', title, description, default: defaultValue, schema, ...(write !== undefined ? { write } : {}) };
}

export function varsField(title: string, description: string, roots: VarsRoots): VarsField {
  const defaultValue: VarsFilter = { deny: [] };
  return { kind: 'vars', title, description, default: defaultValue, schema: Type.Optional({ ...VarsSchema, title, description, default: defaultValue }), roots };
}

/** Where SPEC.md §0 reads the event's email; a chosen source replaces all three. */
export const EMAIL_PATHS = ['traits.email', 'context.traits.email', 'properties.email'] as const;

export function emailField(): SourceField {
  return sourceField(
    'Email',
    "the user's email address (the first path that has one)",
    { from: [...EMAIL_PATHS] },
    (event, value) => eventWith(event, [...EMAIL_PATHS.map((p): [string, unknown] => [p, undefined]), ['traits.email', value]]),
  );
}

/** A field's value as given or its default; whether it is the default (the action then reads the event as it is). */
export function isDefaultValue(decl: FieldDecl, value: unknown): boolean {
  return value === undefined || JSON.stringify(value) === JSON.stringify(decl.default);
}

/** Applies one field's (non-default) value to the event; returns the resolved text for source fields. */
export function applyField(event: SegmentEvent, decl: FieldDecl, value: unknown): { event: SegmentEvent; text?: string | undefined } {
  if (decl.kind === 'vars') return { event: filterVars(event, value as VarsFilter, decl.roots) };
  const text = resolveSource(event, value as Source);
  return { event: decl.write !== undefined ? decl.write(event, text) : event, text };
}
