import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startWarnings } from '../../src/server/start-warnings.ts';

/** docs/emulator.md's `serve` example starts a server that events and operators can get into. */
describe('docs/emulator.md', () => {
  it('its serve example sets a write key and an admin token (serve would warn otherwise)', async () => {
    const text = readFileSync(join(process.cwd(), 'docs', 'emulator.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? '';
    const command = block.split('\n').filter((l) => !l.includes('sailthru-destination emulator')).join(' ').replace(/\\\s+/g, ' ');
    expect(command).toContain('npx sailthru-destination serve');
    const env = Object.fromEntries([...command.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    const config = loadConfig(env);
    const keys = config.destinations.flatMap((d) => d.writeKeys).map((k) => ({ id: k, destinationId: 'default', label: k, prefix: null, createdAt: new Date(), revokedAt: null, lastUsedAt: null }));
    expect(await startWarnings(config, { listWriteKeys: async () => keys })).toEqual([]);
  });
});
