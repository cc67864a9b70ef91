import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/decisions.md', () => {
  const headings = new Set([...readFileSync(join(ROOT, 'docs/decisions.md'), 'utf8').matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim()));

  it('has the section every comment in src/ points to', () => {
    const pointers = files(join(ROOT, 'src')).flatMap((file) =>
      // A pointer may wrap onto the next comment line.
      [...readFileSync(file, 'utf8').replace(/\n\s*\* /g, ' ').matchAll(/docs\/decisions\.md, "([^"]+)"/g)].map((m) => ({ file, section: m[1]! })),
    );
    expect(pointers.length).toBeGreaterThanOrEqual(3);
    for (const { file, section } of pointers) expect(headings.has(section), `${file}: "${section}"`).toBe(true);
  });
});
