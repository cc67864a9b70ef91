/** What the simulated shop sells and who lives there: the traffic generator's fixed data. */

export interface Product {
  product_id: string;
  sku: string;
  name: string;
  price: number;
  category: string;
  url: string;
  image_url: string;
}

export const CATEGORIES = ['shoes', 'jackets', 'bags', 'hats', 'socks'] as const;
export const PRODUCTS: readonly Product[] = [
  ['Trail Runner', 89.99],
  ['City Sneaker', 74.5],
  ['Rain Shell', 129],
  ['Down Parka', 249.99],
  ['Canvas Tote', 24.95],
  ['Day Pack', 59.9],
  ['Wool Beanie', 19.99],
  ['Sun Cap', 22],
  ['Hiking Socks (3 pack)', 17.49],
  ['Merino Crew Socks', 14.99],
  ['Leather Weekender', 189],
  ['Packable Vest', 79.95],
].map(([name, price], i) => {
  const sku = `SKU-${String(1001 + i)}`;
  return {
    product_id: `prod-${i + 1}`,
    sku,
    name: name as string,
    price: price as number,
    category: CATEGORIES[i % CATEGORIES.length] as string,
    url: `https://shop.example.com/products/prod-${i + 1}`,
    image_url: `https://cdn.example.com/img/prod-${i + 1}.jpg`,
  };
});

export const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Linus'];
export const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Torvalds'];
export const CITIES: ReadonlyArray<[string, string]> = [
  ['Berlin', 'DE'],
  ['Lisbon', 'PT'],
  ['Toronto', 'CA'],
  ['Austin', 'US'],
  ['Osaka', 'JP'],
];
export const PLANS = ['free', 'plus', 'pro'] as const;
export const PAGES: ReadonlyArray<[name: string, path: string, keywords: string[]]> = [
  ['Home', '/', []],
  ['New Arrivals', '/new', ['new', 'spring']],
  ['Shoes', '/c/shoes', ['shoes']],
  ['Jackets', '/c/jackets', ['jackets', 'outdoor']],
  ['Sale', '/sale', ['sale']],
  ['Journal: Packing Light', '/journal/packing-light', ['travel', 'guides']],
];
export const CUSTOM_EVENTS = ['Products Searched', 'Article Read', 'Video Played', 'Wishlist Product Added', 'Coupon Entered', 'Review Submitted'] as const;
