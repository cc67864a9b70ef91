import Type, { type TObject, type TSchema } from 'typebox';
import { skipped, type Action, type ActionContext } from '../action.ts';
import { alias } from '../actions/alias.ts';
import { productAdded, productRemoved } from '../actions/cart-change.ts';
import { cartSync } from '../actions/cart-sync.ts';
import { deleteUser } from '../actions/delete-user.ts';
import { identify } from '../actions/identify.ts';
import { performListMembership } from '../actions/list-membership.ts';
import { orderCompleted } from '../actions/order-completed.ts';
import { orderRefunded } from '../actions/order-refunded.ts';
import { pageView } from '../actions/page-view.ts';
import { trackEvent } from '../actions/track-event.ts';
import { MESSAGE_ID_PROPERTIES } from '../attribution.ts';
import type { ActionResult } from '../outcome.ts';
import { ITEM_FIELDS } from '../products.ts';
import {
  CART_SYNC_NAMES,
  ORDER_COMPLETED_NAMES,
  ORDER_REFUNDED_NAMES,
  PRODUCT_ADDED_NAMES,
  PRODUCT_REMOVED_NAMES,
} from '../route.ts';
import { emailField, sourceField, varsField, type FieldDecl } from './field-kinds.ts';
import { eventWith } from './fields.ts';
import type { ActionId, EventType } from './schema.ts';

/**
 * Every action a mapping can run, as data (docs/mappings.md): a stable id, the subscription the
 * console proposes for a new mapping, its fields declared once (TypeBox, with defaults that are
 * the SPEC.md paths), and `perform`. The pure part, turning the event and the fields into what the
 * SPEC.md mapping reads, is generic (compile.ts: each field is applied to a copy of the event);
 * the payload builders stay in ../actions/ and are not changed by mappings.
 */
export interface MappingAction {
  id: ActionId;
  title: string;
  description: string;
  /** What a new mapping with this action triggers on, until the operator changes it. */
  defaultSubscription: { type: EventType | EventType[]; event?: readonly string[] };
  /** Field name → declaration; `fieldsSchema` validates a mapping's `fields` object. */
  fields: Readonly<Record<string, FieldDecl>>;
  fieldsSchema: TObject;
  /** Sailthru calls it may make, in order (empty for drop). */
  sends: readonly string[];
  /** A deletion names whom to delete: the anonymousId → userId tie is not followed. */
  followsIdentityLinks: boolean;
  /** `texts`: the resolved source fields the action reads itself (a list name). */
  perform(ctx: ActionContext, texts: Readonly<Record<string, string | undefined>>, mappingName: string): Promise<ActionResult>;
}

/** Keys an identify reads for itself (SPEC.md §2.1: identify.ts's NOT_VARS). */
const IDENTIFY_INPUTS = ['email', 'id', 'userId', 'anonymousId', 'defaultListName', 'optoutValue', 'optout_email', 'lists'];
const ITEM_KEEP = [...ITEM_FIELDS, 'sku'];
const TRAITS = { roots: ['traits', 'context.traits'], keep: IDENTIFY_INPUTS };

function fieldsSchemaOf(fields: Readonly<Record<string, FieldDecl>>): TObject {
  const properties: Record<string, TSchema> = {};
  for (const [name, decl] of Object.entries(fields)) properties[name] = decl.schema;
  return Type.Object(properties, { additionalProperties: false });
}

function fromAction(
  id: ActionId,
  legacy: Action,
  description: string,
  defaultSubscription: MappingAction['defaultSubscription'],
  fields: Record<string, FieldDecl>,
): MappingAction {
  return {
    id,
    title: legacy.name,
    description,
    defaultSubscription,
    fields,
    fieldsSchema: fieldsSchemaOf(fields),
    sends: legacy.sends,
    followsIdentityLinks: legacy !== deleteUser,
    perform: (ctx) => legacy.perform(ctx),
  };
}

function listAction(id: ActionId, member: 0 | 1, title: string, event: string): MappingAction {
  const fields: Record<string, FieldDecl> = {
    listName: sourceField('List name', 'the Sailthru list to ' + (member === 1 ? 'join' : 'leave'), { from: ['properties.list', 'properties.list_name'] }),
    email: emailField(),
  };
  return {
    id,
    title,
    description: `POST /user with lists: {"<list>": ${member}}`,
    defaultSubscription: { type: 'track', event: [event] },
    fields,
    fieldsSchema: fieldsSchemaOf(fields),
    sends: ['POST /user'],
    followsIdentityLinks: true,
    perform: (ctx, texts) => performListMembership(ctx, texts.listName, member),
  };
}

const dropFields: Record<string, FieldDecl> = {
  reason: sourceField('Reason', 'the skip reason shown in the delivery log (default: dropped by mapping "<name>")', { fixed: '' }),
};

const drop: MappingAction = {
  id: 'drop',
  title: 'drop',
  description: 'send nothing: the event is recorded as skipped, dropped by the mapping (named)',
  defaultSubscription: { type: ['screen', 'group'] },
  fields: dropFields,
  fieldsSchema: fieldsSchemaOf(dropFields),
  sends: [],
  followsIdentityLinks: false,
  perform: (_ctx, texts, mappingName) => Promise.resolve(skipped(dropReasonOf(texts, mappingName))),
};

/** A drop's skip reason: its reason field, else the mapping's name. */
export function dropReasonOf(texts: Readonly<Record<string, string | undefined>>, mappingName: string): string {
  return texts.reason ?? `dropped by mapping ${JSON.stringify(mappingName)}`;
}

const customEventName = sourceField('Event name', 'the Sailthru event name', { from: ['event'] }, (event, value) => eventWith(event, [['event', value]]));
const pageUrl = sourceField('URL', 'the page URL', { from: ['properties.url', 'context.page.url'] }, (event, value) =>
  eventWith(event, [['properties.url', value], ['context.page.url', undefined]]),
);
const orderInputs = ['products', 'tax', 'shipping', 'discount', 'adjustments', 'order_id', ...MESSAGE_ID_PROPERTIES];

export const MAPPING_ACTIONS: Readonly<Record<ActionId, MappingAction>> = {
  'profile-update': fromAction('profile-update', identify, 'POST /user: keys, lists, opt-out and traits as vars (SPEC.md §2)', { type: 'identify' }, {
    email: emailField(),
    vars: varsField('Vars', 'which traits become profile vars', TRAITS),
  }),
  'merge-profiles': fromAction('merge-profiles', alias, 'POST /user merging previousId into userId (SPEC.md §4)', { type: 'alias' }, { email: emailField() }),
  'custom-event': fromAction('custom-event', trackEvent, 'POST /event with properties as vars (SPEC.md §3)', { type: 'track' }, {
    eventName: customEventName,
    vars: varsField('Vars', 'which properties become event vars', { roots: ['properties'], keep: [] }),
  }),
  purchase: fromAction('purchase', orderCompleted, 'POST /purchase (SPEC.md §5)', { type: 'track', event: ORDER_COMPLETED_NAMES }, {
    email: emailField(),
    vars: varsField('Vars', 'which properties become purchase vars and item vars', {
      roots: ['properties'],
      keep: orderInputs,
      items: { path: 'products', keep: ITEM_KEEP },
    }),
  }),
  return: fromAction('return', orderRefunded, 'POST /return (SPEC.md §5.3)', { type: 'track', event: ORDER_REFUNDED_NAMES }, {
    email: emailField(),
    vars: varsField('Vars', 'which product fields become item vars', {
      roots: ['properties'],
      keep: ['products', 'order_id', 'total', 'revenue', 'url'],
      items: { path: 'products', keep: ITEM_KEEP },
    }),
  }),
  'cart-add': fromAction('cart-add', productAdded, 'the cart with one product more, POST /purchase incomplete (SPEC.md §6)', { type: 'track', event: PRODUCT_ADDED_NAMES }, {
    email: emailField(),
    vars: varsField('Vars', 'which product properties become item vars', { roots: ['properties'], keep: ITEM_KEEP }),
  }),
  'cart-remove': fromAction('cart-remove', productRemoved, 'the cart with one product less, POST /purchase incomplete (SPEC.md §6)', { type: 'track', event: PRODUCT_REMOVED_NAMES }, {
    email: emailField(),
  }),
  'cart-replace': fromAction('cart-replace', cartSync, 'the whole cart from properties.products, POST /purchase incomplete (SPEC.md §6)', { type: 'track', event: CART_SYNC_NAMES }, {
    email: emailField(),
    vars: varsField('Vars', 'which product fields become item vars', { roots: ['properties'], keep: ['products'], items: { path: 'products', keep: ITEM_KEEP } }),
  }),
  'page-view': fromAction('page-view', pageView, 'POST {trackUrl}/v1/track/event/pageview (SPEC.md §4)', { type: 'page' }, { url: pageUrl }),
  'list-subscribe': listAction('list-subscribe', 1, 'list subscribe', 'List Subscribed'),
  'list-unsubscribe': listAction('list-unsubscribe', 0, 'list unsubscribe', 'List Unsubscribed'),
  'delete-user': fromAction('delete-user', deleteUser, 'DELETE /user (SPEC.md §7)', { type: 'delete' }, {}),
  drop,
};

export function mappingActionOf(id: ActionId): MappingAction {
  return MAPPING_ACTIONS[id];
}
