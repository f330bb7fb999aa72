import type { Config } from '../config/load-config.ts';
import type { ObjectStore } from './object-store.ts';
import { createLocalStore } from './providers/local/index.ts';
import { join } from 'node:path';

/** Builds the raw store for `STORAGE_PROVIDER` from the settings. */
export function buildProviderStore(config: Config): ObjectStore {
  const s = config.storage;
  switch (s.provider) {
    case 'http':
      return createLocalStore({ root: config.storagePath, tmpDir: join(config.dataPath, 'tmp', 'storage') });
    default:
      throw new Error(`STORAGE_PROVIDER=${s.provider} is not wired yet`);
  }
}

/** Where the primary store is, for messages (never with secrets). */
export function describeProviderEndpoint(config: Config): string {
  return config.storage.provider === 'http' ? config.storagePath : (config.storage.endpoint ?? '(default endpoint)');
}
