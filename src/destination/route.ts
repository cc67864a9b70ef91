import type { SegmentEvent } from '../segment/event.ts';
import type { Action } from './action.ts';
import { field, objectOf } from './read.ts';
import { alias } from './actions/alias.ts';
import { productAdded, productRemoved } from './actions/cart-change.ts';
import { cartSync } from './actions/cart-sync.ts';
import { deleteUser } from './actions/delete-user.ts';
import { identify } from './actions/identify.ts';
import { orderCompleted } from './actions/order-completed.ts';
import { orderRefunded } from './actions/order-refunded.ts';
import { pageView } from './actions/page-view.ts';
import { trackEvent } from './actions/track-event.ts';

/** Track names with their own mapping; v1 e-commerce names are still sent by older clients. */
export const ORDER_COMPLETED_NAMES: readonly string[] = ['Order Completed', 'Completed Order'];
export const PRODUCT_ADDED_NAMES: readonly string[] = ['Product Added', 'Added Product'];
export const PRODUCT_REMOVED_NAMES: readonly string[] = ['Product Removed', 'Removed Product'];
export const ORDER_REFUNDED_NAMES: readonly string[] = ['Order Refunded', 'Refunded Order'];
/** Whole-cart sync when they carry `products` (SPEC.md §6); custom events otherwise. */
export const CART_SYNC_NAMES: readonly string[] = ['Cart Viewed', 'Checkout Started'];
export const USER_DELETED_NAME = 'User Deleted';

export type Route = { action: Action } | { skip: string } | { reject: string };

/** Which mapping an event takes (SPEC.md §2–§7). */
export function routeOf(event: SegmentEvent): Route {
  switch (event.type) {
    case 'identify':
      return { action: identify };
    case 'alias':
      return { action: alias };
    case 'page':
      return { action: pageView };
    case 'screen':
    case 'group':
      return { skip: `${event.type} calls are not supported by Sailthru` };
    case 'delete':
      return { action: deleteUser };
    case 'track':
      return { action: trackActionOf(event.event, event.properties) };
    default:
      return { reject: `unknown event type ${JSON.stringify(String(event.type)).slice(0, 40)}` };
  }
}

function trackActionOf(name: unknown, properties: unknown): Action {
  if (typeof name !== 'string') return trackEvent;
  if (ORDER_COMPLETED_NAMES.includes(name)) return orderCompleted;
  if (ORDER_REFUNDED_NAMES.includes(name)) return orderRefunded;
  if (CART_SYNC_NAMES.includes(name) && Array.isArray(field(objectOf(properties), 'products'))) return cartSync;
  if (PRODUCT_ADDED_NAMES.includes(name)) return productAdded;
  if (PRODUCT_REMOVED_NAMES.includes(name)) return productRemoved;
  if (name === USER_DELETED_NAME) return deleteUser;
  return trackEvent;
}
