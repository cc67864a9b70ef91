import Type, { type Static } from 'typebox';

/**
 * What a destination's mappings are (docs/mappings.md): an ordered list, each with a name, on/off,
 * a trigger (which events) and an action (what Sailthru gets) with its fields. Declared once here
 * with TypeBox: the admin API, CONFIG_FILE and the console validate against it (validate.ts), and
 * the types below are derived from it.
 */

/** The Segment event types a trigger can name. */
export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias', 'delete'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Condition operators (docs/mappings.md, "Conditions"). `exists` means present and not null;
 * the comparisons `>`…`<=` need a number on both sides (a numeric string counts); `=`/`!=` compare
 * text with text, numbers with numbers, true/false with true/false; `contains` finds text in text
 * or an equal element in an array; `is array` is what the default cart-sync mapping needs.
 */
export const CONDITION_OPS = ['exists', 'not exists', '=', '!=', '>', '>=', '<', '<=', 'contains', 'is array'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];
/** Operators that take no `value`. */
export const UNARY_OPS: readonly ConditionOp[] = ['exists', 'not exists', 'is array'];

/** Stable action ids (actions.ts holds each action's definition). */
export const ACTION_IDS = [
  'profile-update',
  'merge-profiles',
  'custom-event',
  'purchase',
  'return',
  'cart-add',
  'cart-remove',
  'cart-replace',
  'page-view',
  'list-subscribe',
  'list-unsubscribe',
  'delete-user',
  'drop',
] as const;
export type ActionId = (typeof ACTION_IDS)[number];

/** A dotted path into the event: `properties.total`, `context.traits.email`, `event`. */
export const EVENT_PATH_PATTERN = '^[^.\\s]+(\\.[^.\\s]+)*$';
export const EventPath = Type.String({ minLength: 1, maxLength: 200, pattern: EVENT_PATH_PATTERN, description: 'a dotted path into the event, e.g. properties.total' });

export const ConditionSchema = Type.Object(
  {
    path: EventPath,
    op: Type.Enum([...CONDITION_OPS]),
    /** Text, a number or true/false; absent for exists, not exists and is array (validate.ts checks). */
    value: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type Condition = { path: string; op: ConditionOp; value?: string | number | boolean };

/** Exactly one of the three (validate.ts checks). */
export const EventNameSchema = Type.Object(
  {
    equals: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    oneOf: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100 })),
    startsWith: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type EventNameMatch = Static<typeof EventNameSchema>;

export const TriggerSchema = Type.Object(
  {
    types: Type.Array(Type.Enum([...EVENT_TYPES]), { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true }),
    event: Type.Optional(EventNameSchema),
    /** Every condition must hold. */
    conditions: Type.Optional(Type.Array(ConditionSchema, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type Trigger = { types: EventType[]; event?: EventNameMatch; conditions?: Condition[] };

/**
 * A field's value: paths into the event, the first present one wins (`{ from: ['traits.email',
 * 'context.traits.email'] }`), or fixed text (`{ fixed: 'Signed Up' }`). Exactly one of the two.
 */
export const SourceSchema = Type.Object(
  {
    from: Type.Optional(Type.Array(EventPath, { minItems: 1, maxItems: 10 })),
    fixed: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type Source = { from: string[] } | { fixed: string };

/**
 * Which properties (or traits) become vars: every one but `deny`, or only `allow`. Exactly one of
 * the two. A name without a dot is kept out at every depth (nested objects, each product); a
 * dotted name is that path. A denied key is removed from the event before the action reads it,
 * so it reaches no call at all (fields.ts).
 */
export const VarsSchema = Type.Object(
  {
    allow: Type.Optional(Type.Array(EventPath, { maxItems: 200 })),
    deny: Type.Optional(Type.Array(EventPath, { maxItems: 200 })),
  },
  { additionalProperties: false },
);
export type VarsFilter = { allow: string[] } | { deny: string[] };

export const MAPPING_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

export const MappingSchema = Type.Object(
  {
    id: Type.String({ pattern: MAPPING_ID_PATTERN, description: 'letters, digits, - and _, at most 64' }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    enabled: Type.Boolean(),
    trigger: TriggerSchema,
    action: Type.Enum([...ACTION_IDS]),
    /** The action's fields (actions.ts declares each action's); absent ones take their defaults. */
    fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export interface Mapping {
  id: string;
  name: string;
  enabled: boolean;
  trigger: Trigger;
  action: ActionId;
  fields?: Record<string, unknown>;
}

export const MAX_MAPPINGS = 100;
export const MappingsSchema = Type.Array(MappingSchema, { maxItems: MAX_MAPPINGS });
