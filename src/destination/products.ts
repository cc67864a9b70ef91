import { flatten, isEmptyVars, type FlatVars } from './flatten.ts';
import { field, numberOf, objectOf, omitKeys, preview, stringOf, textOf, type JsonObject } from './read.ts';

/** One purchase item as Sailthru's POST /purchase takes it (SPEC.md §5.1). */
export interface PurchaseItem {
  id: string;
  title: string;
  qty: number;
  /** Integer cents per unit. */
  price: number;
  url?: string;
  tags?: string[] | string;
  images?: { full?: { url: string }; thumb?: { url: string } };
  vars?: FlatVars;
}

export interface Adjustment {
  title: string;
  /** Integer cents; negative lowers the total. */
  price: number;
}

/** Product fields that become item fields; everything else goes to the item's `vars`. */
export const ITEM_FIELDS = ['product_id', 'id', 'name', 'quantity', 'price', 'url', 'tags', 'image_url', 'image_url_thumb'] as const;

/**
 * Integer cents, rounding half away from zero on the decimal text (1.005 → 101), which is what a
 * person reading the price expects; `Math.round(1.005 * 100)` gives 100 through binary error.
 */
export function cents(amount: number): number {
  const magnitude = Math.abs(amount);
  const text = String(magnitude);
  const shifted = text.includes('e') ? magnitude * 100 : Number(`${text}e2`);
  const rounded = Math.round(shifted);
  return amount < 0 && rounded !== 0 ? -rounded : rounded;
}

/** product_id → id → sku (SPEC.md §5.1); numbers are accepted as their text. */
export function productIdOf(product: JsonObject | undefined): string | undefined {
  return textOf(field(product, 'product_id')) ?? textOf(field(product, 'id')) ?? textOf(field(product, 'sku'));
}

/** Why a product's quantity or price cannot be sent: the field and what is wrong with it. */
export interface InvalidField {
  field: 'quantity' | 'price';
  problem: string;
}

/**
 * `quantity`, default 1 (SPEC.md §5.1): a positive non-integer is rounded half up (with a
 * warning); after rounding it must be ≥ 1. Anything else is invalid, never replaced by a guess (a
 * wrong quantity inflates revenue silently).
 */
export function quantityOf(product: JsonObject | undefined, label: string, warnings: string[]): number | InvalidField {
  const raw = field(product, 'quantity');
  if (raw === undefined || raw === null) return 1;
  const n = plainNumberOf(raw);
  const qty = n === undefined ? NaN : Math.floor(n + 0.5);
  if (!(qty >= 1)) {
    return { field: 'quantity', problem: `${label}.quantity ${preview(raw)} is not a quantity of at least 1` };
  }
  if (qty !== n) warnings.push(`${label}.quantity ${preview(raw)} rounded to ${qty}`);
  return qty;
}

/** A plain decimal number as text: `19.99`, `-2`, `.5`; no currency signs, separators or exponents. */
const PLAIN_DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A finite number, or plain decimal text (`"19.99"`); `"$19.99"` and `"1,299.00"` are not. */
export function plainNumberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !PLAIN_DECIMAL.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

export interface ItemContext {
  /** `context.page.url`, the second URL fallback. */
  pageUrl?: string;
  productBaseUrl?: string;
  /** How messages name the product, e.g. `products[2]` or `properties`. */
  label: string;
}

export type ItemMapping =
  | { ok: true; item: PurchaseItem; warnings: string[] }
  /** No product_id, id or sku: SPEC.md §5.1 drops the product. */
  | { ok: false; missing: 'id'; warnings: string[] }
  | { ok: false; missing: 'url'; reason: string; warnings: string[] }
  /** A quantity or price SPEC.md §5.1 does not allow: never guessed at. */
  | { ok: false; missing: 'invalid'; id: string; invalid: InvalidField; reason: string; warnings: string[] };

/** SPEC.md §5.1, one product → one item. Pure. */
export function itemFromProduct(input: unknown, ctx: ItemContext): ItemMapping {
  const warnings: string[] = [];
  const product = objectOf(input);
  const id = productIdOf(product);
  if (id === undefined) return { ok: false, missing: 'id', warnings };
  const qty = quantityOf(product, ctx.label, warnings);
  if (typeof qty !== 'number') return invalidItem(id, qty, warnings);
  const price = priceOf(product, ctx.label, warnings);
  if (typeof price !== 'number') return invalidItem(id, price, warnings);

  const url = productUrlOf(product, id, ctx);
  if (url === undefined) {
    return {
      ok: false,
      missing: 'url',
      reason:
        `Product ${id} (${ctx.label}) has no url: set ${ctx.label}.url, context.page.url on the event, ` +
        'or the productBaseUrl setting',
      warnings,
    };
  }

  const item: PurchaseItem = { id, title: textOf(field(product, 'name')) ?? '', qty, price, url };
  const tags = tagsOf(field(product, 'tags'));
  if (tags !== undefined) item.tags = tags;
  const full = stringOf(field(product, 'image_url'));
  const thumb = stringOf(field(product, 'image_url_thumb'));
  if (full !== undefined || thumb !== undefined) {
    item.images = {};
    if (full !== undefined) item.images.full = { url: full };
    if (thumb !== undefined) item.images.thumb = { url: thumb };
  }
  const { vars, warnings: varWarnings } = flatten(omitKeys(product, ITEM_FIELDS), ctx.label);
  warnings.push(...varWarnings);
  if (!isEmptyVars(vars)) item.vars = vars;
  return { ok: true, item, warnings };
}

function invalidItem(id: string, invalid: InvalidField, warnings: string[]): ItemMapping {
  return { ok: false, missing: 'invalid', id, invalid, reason: `Product ${id}: ${invalid.problem}`, warnings };
}

/** `url` → `context.page.url` → `productBaseUrl/<id>` (SPEC.md §5.1). */
export function productUrlOf(product: JsonObject | undefined, id: string, ctx: ItemContext): string | undefined {
  const own = stringOf(field(product, 'url'));
  if (own !== undefined) return own;
  if (ctx.pageUrl !== undefined) return ctx.pageUrl;
  if (ctx.productBaseUrl !== undefined) return `${ctx.productBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(id)}`;
  return undefined;
}

/** Integer cents per unit, ≥ 0 (SPEC.md §5.1). A missing price is sent as 0 with a warning (free items exist). */
function priceOf(product: JsonObject | undefined, label: string, warnings: string[]): number | InvalidField {
  const raw = field(product, 'price');
  if (raw === undefined || raw === null) {
    warnings.push(`${label} has no price; 0 sent`);
    return 0;
  }
  const amount = plainNumberOf(raw);
  if (amount === undefined || amount < 0) {
    return { field: 'price', problem: `${label}.price ${preview(raw)} is not a price (a number ≥ 0, such as 19.99 or "19.99")` };
  }
  return cents(amount);
}

function tagsOf(raw: unknown): string[] | string | undefined {
  if (typeof raw === 'string') return raw.trim() === '' ? undefined : raw;
  if (!Array.isArray(raw)) return undefined;
  const tags = raw.map((tag) => textOf(tag)).filter((tag): tag is string => tag !== undefined);
  return tags.length > 0 ? tags : undefined;
}

/**
 * SPEC.md §5.2: `properties.adjustments` as given (prices to cents); otherwise tax and shipping
 * (positive) and discount (negative), each only when non-zero.
 */
export function adjustmentsOf(properties: JsonObject | undefined): { adjustments: Adjustment[]; warnings: string[] } {
  const warnings: string[] = [];
  const given = field(properties, 'adjustments');
  if (Array.isArray(given)) {
    const adjustments: Adjustment[] = [];
    given.forEach((entry, index) => {
      const o = objectOf(entry);
      const title = textOf(field(o, 'title'));
      const price = numberOf(field(o, 'price'));
      if (title === undefined || price === undefined) {
        warnings.push(`properties.adjustments[${index}] dropped: it needs a title and a numeric price`);
        return;
      }
      adjustments.push({ title, price: cents(price) });
    });
    return { adjustments, warnings };
  }
  if (given !== undefined) warnings.push('properties.adjustments ignored: it must be an array of {title, price}');

  const adjustments: Adjustment[] = [];
  for (const [name, sign] of [['tax', 1], ['shipping', 1], ['discount', -1]] as const) {
    const raw = field(properties, name);
    if (raw === undefined || raw === null) continue;
    const amount = numberOf(raw);
    if (amount === undefined) {
      warnings.push(`properties.${name} ${preview(raw)} is not a number; not sent`);
      continue;
    }
    const price = sign * Math.abs(cents(amount));
    if (price !== 0) adjustments.push({ title: name, price });
  }
  return { adjustments, warnings };
}
