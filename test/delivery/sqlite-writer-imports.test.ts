import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { importGraph } from '../architecture/import-graph.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** The imports that load code at run time: type-only ones are erased (verbatimModuleSyntax). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(`${SRC}${file}`, 'utf8'), ts.ScriptTarget.ES2022);
  const found: string[] = [];
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
  }
  return found;
}

describe('the SQLite writer thread', () => {
  it('loads only small modules: node:, better-sqlite3 and our own, none of the heavy packages', () => {
    const graph = importGraph(SRC);
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const specifier of runtimeImports(file)) {
        if (!specifier.startsWith('.')) packages.add(specifier);
        else visit(graph.edges.get(file)!.find((target) => specifierMatches(file, specifier, target))!);
      }
    };
    visit('delivery/sqlite/writer-thread.ts');
    expect(loaded.has('delivery/sqlite/writes/settle.ts')).toBe(true);
    expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual(['better-sqlite3']);
    expect(loaded.size).toBeLessThan(30);
  });
});

function specifierMatches(from: string, specifier: string, target: string): boolean {
  const base = new URL(specifier, `file:///${from}`).pathname.slice(1);
  return base === target;
}
