import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config.ts';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../../src/emulator/index.ts';
import { createLogger } from '../../../src/server/logger.ts';
import { startService, type Service } from '../../../src/server/service.ts';
import { CREDENTIALS, stackEnv } from '../../e2e/harness.ts';
import { SwitchableProxy } from './switchable-proxy.ts';

/**
 * The e2e stack (emulator + in-process service on a fresh SQLite file) with a switchable proxy
 * between the service and the emulator, so a test can take Sailthru away entirely.
 */
export interface ProxiedStack {
  emulator: RunningEmulator;
  proxy: SwitchableProxy;
  service: Service;
  writeKey: string;
  dir: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function startProxiedStack(options: { emulator?: EmulatorOptions; env?: Record<string, string> } = {}): Promise<ProxiedStack> {
  const emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    ...options.emulator,
  });
  const proxy = new SwitchableProxy(emulator.port);
  await proxy.up();
  const dir = mkdtempSync(join(tmpdir(), 'st-rel-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const config = loadConfig(stackEnv(proxy.url, dir, options.env));
  const service = await startService(config, { ingest: true, delivery: true }, { logger: createLogger('info', sink) });
  return {
    emulator,
    proxy,
    service,
    writeKey: 'e2e-write-key',
    dir,
    logs,
    async stop() {
      await service.stop();
      await proxy.down();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
