import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, importSpecifiers } from './import-graph.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

describe('imports in src/', () => {
  const graph = importGraph(SRC);

  it('reads every kind of import, type-only ones included', () => {
    const source = [
      "import type { A } from './a.ts';",
      "export type { B } from './b.ts';",
      "export * from './c.ts';",
      "import './d.ts';",
      "const later = () => import('./e.ts');",
      'import {\n  f,\n  type G,\n} from "./f.ts";',
      "// import './commented.ts';",
      "const text = \"import './quoted.ts'\";",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts']);
    // A type-only edge of the real tree, so the graph is known to hold them.
    expect(graph.edges.get('destination/action.ts')).toContain('destination/outcome.ts');
    expect(graph.edges.size).toBeGreaterThan(100);
  });

  it('resolves every relative import to a file', () => {
    expect(graph.unresolved).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(graph.edges)).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const edges = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(importCycles(edges)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  });
});
