/**
 * Sample events for the event tester: one of each kind the destination maps (SPEC.md §2–7).
 * No messageId, so each send is a new event (ingest generates one). Cart and purchase samples
 * carry the user's email in context.traits (SPEC.md §0), so they work on a fresh setup without
 * the identify sample first. The tester marks each event it sends as a test (test-events.ts).
 */
export interface SampleEvent {
  id: string;
  title: string;
  /** What it will do in Sailthru. */
  note: string;
  event: Record<string, unknown>;
}

const USER = 'sample-user-1';
/** What a cart or purchase sends when Sailthru may not know the user yet. */
const WITH_EMAIL = { traits: { email: 'sample.user@example.com' } };

export const SAMPLE_EVENTS: readonly SampleEvent[] = [
  {
    id: 'identify',
    title: 'Identify',
    note: 'POST /user: creates or updates the profile with its email and vars (and the default list).',
    event: {
      type: 'identify',
      userId: USER,
      traits: { email: 'sample.user@example.com', firstName: 'Sam', plan: 'pro', address: { city: 'Lisbon', country: 'PT' } },
    },
  },
  {
    id: 'identify-lists',
    title: 'Identify with lists and opt-out',
    note: 'POST /user: joins Weekly, leaves Promo (several lists at once) and sets optout_email from traits.',
    event: {
      type: 'identify',
      userId: USER,
      traits: { email: 'sample.user@example.com', optout_email: 'basic', lists: { Weekly: true, Promo: false } },
    },
  },
  {
    id: 'track',
    title: 'Custom track event',
    note: 'POST /event: a custom event for Lifecycle Optimizer, properties flattened into vars.',
    event: { type: 'track', userId: USER, event: 'Video Watched', properties: { title: 'Intro', seconds: 42, tags: ['howto', 'basics'] } },
  },
  {
    id: 'page',
    title: 'Page view',
    note: 'POST /v1/track/event/pageview on the tracking host (needs customerId).',
    event: {
      type: 'page',
      userId: USER,
      name: 'Pricing',
      properties: { url: 'https://shop.example.com/pricing', keywords: ['pricing', 'plans'] },
    },
  },
  {
    id: 'product-added',
    title: 'Product Added',
    note: 'GET /user for the cart, then POST /purchase with incomplete: 1 (the whole cart).',
    event: {
      type: 'track',
      userId: USER,
      event: 'Product Added',
      context: WITH_EMAIL,
      properties: { product_id: 'SKU-1', name: 'Blue mug', price: 12.5, quantity: 2, url: 'https://shop.example.com/p/sku-1' },
    },
  },
  {
    id: 'product-removed',
    title: 'Product Removed',
    note: 'GET /user for the cart, then POST /purchase with the item removed (fails when the cart is empty).',
    event: {
      type: 'track',
      userId: USER,
      event: 'Product Removed',
      context: WITH_EMAIL,
      properties: { product_id: 'SKU-1', name: 'Blue mug', price: 12.5, quantity: 1, url: 'https://shop.example.com/p/sku-1' },
    },
  },
  {
    id: 'cart-viewed',
    title: 'Cart Viewed (whole cart)',
    note: 'POST /purchase with incomplete: 1: the stored cart becomes exactly these products (no GET once the email is known).',
    event: {
      type: 'track',
      userId: USER,
      event: 'Cart Viewed',
      properties: {
        cart_id: 'CART-7',
        products: [
          { product_id: 'SKU-1', name: 'Blue mug', price: 12.5, quantity: 1, url: 'https://shop.example.com/p/sku-1' },
          { product_id: 'SKU-2', name: 'Tea towel', price: 8, quantity: 2, url: 'https://shop.example.com/p/sku-2' },
        ],
      },
    },
  },
  {
    id: 'order-completed',
    title: 'Order Completed',
    note: 'POST /purchase with incomplete: 0, items in cents, adjustments and purchase_keys.',
    event: {
      type: 'track',
      userId: USER,
      event: 'Order Completed',
      context: WITH_EMAIL,
      properties: {
        order_id: 'ORDER-1001',
        total: 27.5,
        tax: 2,
        shipping: 3,
        discount: 2.5,
        products: [
          { product_id: 'SKU-1', name: 'Blue mug', price: 12.5, quantity: 2, url: 'https://shop.example.com/p/sku-1' },
        ],
      },
    },
  },
  {
    id: 'order-completed-campaign',
    title: 'Order Completed from a campaign',
    note: 'POST /purchase with message_id: the sailthru_bid cookie credits the revenue to the campaign that brought the buyer.',
    event: {
      type: 'track',
      userId: USER,
      event: 'Order Completed',
      properties: {
        order_id: 'ORDER-1002',
        total: 12.5,
        sailthru_bid: '12345.6789.a1b2c3d4',
        products: [{ product_id: 'SKU-1', name: 'Blue mug', price: 12.5, quantity: 1, url: 'https://shop.example.com/p/sku-1' }],
      },
    },
  },
  {
    id: 'order-refunded',
    title: 'Order Refunded',
    note: 'POST /return: the refunded items, each with the order id, lower the buyer\'s net revenue.',
    event: {
      type: 'track',
      userId: USER,
      event: 'Order Refunded',
      properties: {
        order_id: 'ORDER-1001',
        products: [{ product_id: 'SKU-1', name: 'Blue mug', price: 12.5, quantity: 1, url: 'https://shop.example.com/p/sku-1' }],
      },
    },
  },
  {
    id: 'delete',
    title: 'Delete user',
    note: 'DELETE /user: removes the profile (as Segment’s deletion requests do).',
    event: { type: 'delete', userId: USER },
  },
  {
    id: 'reserved-name',
    title: 'Reserved event name (fails)',
    note: 'Sailthru refuses custom events named purchase, send, …: dead-lettered without a request.',
    event: { type: 'track', userId: USER, event: 'purchase', properties: {} },
  },
];

export function sampleById(id: string): SampleEvent | undefined {
  return SAMPLE_EVENTS.find((s) => s.id === id);
}
