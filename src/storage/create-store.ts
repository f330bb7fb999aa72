import { join } from 'node:path';
import type { Config } from '../config/load-config.ts';
import { StorageError } from './errors.ts';
import type { ObjectStore } from './object-store.ts';
import { createLocalStore } from './providers/local/index.ts';

/** The primary store chosen by `STORAGE_PROVIDER`, with both buckets present. */
export async function createPrimaryStore(config: Config): Promise<ObjectStore> {
  const { provider } = config.storage;
  if (provider !== 'http') {
    throw new StorageError('ConfigInvalid', `STORAGE_PROVIDER=${provider} is not supported by this build yet; use http (local disk)`, { provider });
  }
  const store = createLocalStore({ root: config.storagePath, tmpDir: join(config.dataPath, 'tmp', 'storage') });
  await store.ensureBucket(config.storage.publicBucket);
  await store.ensureBucket(config.storage.privateBucket);
  return store;
}
