import { describe, expect, it } from 'vitest';
import { LAST_MESSAGE_ID_VAR } from '../../src/destination/cart.ts';
import { markersOf, MAX_MARKERS } from '../../src/destination/cart-markers.ts';

/** The markers a fetched cart offers to the store lookup (docs/decisions.md, "Coalescing a backlog"). */
describe('markersOf', () => {
  const marked = (marker: unknown) => ({ [LAST_MESSAGE_ID_VAR]: marker });

  it("the purchase's marker first, then the items', last item first, each once", () => {
    const cart = { vars: marked('m4'), items: [{ id: 'a', vars: marked('m1') }, { id: 'b' }, { id: 'c', vars: marked('m4') }, { id: 'd', vars: marked('m3') }] };
    expect(markersOf(cart)).toEqual(['m4', 'm3', 'm1']);
  });

  it('no cart, no vars, markers that are not text: none', () => {
    expect(markersOf(null)).toEqual([]);
    expect(markersOf({ items: 'x', vars: [] })).toEqual([]);
    expect(markersOf({ vars: marked(7), items: [{ vars: marked({}) }, { vars: marked('') }, null] })).toEqual([]);
  });

  it('a huge cart offers at most MAX_MARKERS, the latest items first', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: `p${i}`, vars: marked(`m${i}`) }));
    const markers = markersOf({ items });
    expect(markers).toHaveLength(MAX_MARKERS);
    expect(markers[0]).toBe('m999');
  });
});
