import {
  CART_SYNC_NAMES,
  ORDER_COMPLETED_NAMES,
  ORDER_REFUNDED_NAMES,
  PRODUCT_ADDED_NAMES,
  PRODUCT_REMOVED_NAMES,
  USER_DELETED_NAME,
} from '../route.ts';
import type { Mapping } from './schema.ts';

/**
 * SPEC.md's mapping as an ordered mapping list: what a destination with no mappings configured
 * does, and what the migration writes into every existing destination. Reproduces route.ts's
 * switch exactly, in its order (first match wins): the named track events before the catch-all
 * custom event, cart sync only when `properties.products` is an array. The drops of screen and
 * group give the skip reason they always had.
 */
export const DEFAULT_MAPPINGS: readonly Mapping[] = Object.freeze([
  { id: 'identify', name: 'Profile update', enabled: true, trigger: { types: ['identify'] }, action: 'profile-update' },
  { id: 'alias', name: 'Merge profiles', enabled: true, trigger: { types: ['alias'] }, action: 'merge-profiles' },
  { id: 'page', name: 'Page view', enabled: true, trigger: { types: ['page'] }, action: 'page-view' },
  {
    id: 'screen',
    name: 'Screen calls (not supported by Sailthru)',
    enabled: true,
    trigger: { types: ['screen'] },
    action: 'drop',
    fields: { reason: { fixed: 'screen calls are not supported by Sailthru' } },
  },
  {
    id: 'group',
    name: 'Group calls (not supported by Sailthru)',
    enabled: true,
    trigger: { types: ['group'] },
    action: 'drop',
    fields: { reason: { fixed: 'group calls are not supported by Sailthru' } },
  },
  { id: 'delete', name: 'User deletion', enabled: true, trigger: { types: ['delete'] }, action: 'delete-user' },
  { id: 'order-completed', name: 'Order Completed', enabled: true, trigger: { types: ['track'], event: { oneOf: [...ORDER_COMPLETED_NAMES] } }, action: 'purchase' },
  { id: 'order-refunded', name: 'Order Refunded', enabled: true, trigger: { types: ['track'], event: { oneOf: [...ORDER_REFUNDED_NAMES] } }, action: 'return' },
  {
    id: 'cart-sync',
    name: 'Cart sync',
    enabled: true,
    trigger: { types: ['track'], event: { oneOf: [...CART_SYNC_NAMES] }, conditions: [{ path: 'properties.products', op: 'is array' }] },
    action: 'cart-replace',
  },
  { id: 'product-added', name: 'Product Added', enabled: true, trigger: { types: ['track'], event: { oneOf: [...PRODUCT_ADDED_NAMES] } }, action: 'cart-add' },
  { id: 'product-removed', name: 'Product Removed', enabled: true, trigger: { types: ['track'], event: { oneOf: [...PRODUCT_REMOVED_NAMES] } }, action: 'cart-remove' },
  { id: 'user-deleted', name: 'User Deleted', enabled: true, trigger: { types: ['track'], event: { equals: USER_DELETED_NAME } }, action: 'delete-user' },
  { id: 'custom-event', name: 'Custom events', enabled: true, trigger: { types: ['track'] }, action: 'custom-event' },
] satisfies Mapping[]);

/** A fresh, editable copy (JSON round trip: nothing shared with the frozen list). */
export function defaultMappings(): Mapping[] {
  return JSON.parse(JSON.stringify(DEFAULT_MAPPINGS)) as Mapping[];
}
